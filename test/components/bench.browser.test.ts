// The benchmark page must not rot: its quick version runs once on the real adapter and every
// scenario it can run yields figures for every variant. Speed is never asserted here.
import { expect, test } from 'vitest';
import { BenchProgressEvent } from '../../components/bench/bench-progress-event.js';
import '../../components/bench/bench.js';
import { NOT_RUN, SCENARIOS } from '../../components/bench/run-bench.js';

test('<dmabuf-bench> quick run: every scenario yields a median, min and max for every variant at every size', async () => {
  const element = document.createElement('dmabuf-bench');
  document.body.append(element);
  let steps = 0;
  element.addEventListener(BenchProgressEvent.type, () => { steps += 1; });
  try {
    const report = await element.run({ quick: true });
    await element.updateComplete;

    expect(report.adapter.vendor).not.toBe('');
    // Only the scenarios the page says it cannot run yet are skipped; a failed one shows its error here.
    expect(report.skipped.filter((s) => !(s.id in NOT_RUN))).toEqual([]);
    expect(report.scenarios.map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
    for (const scenario of report.scenarios) {
      const spec = SCENARIOS.find((s) => s.id === scenario.id);
      expect(scenario.points.map((p) => p.size), scenario.id).toEqual(spec?.sizes(true));
      for (const point of scenario.points) {
        expect(point.results.map((r) => r.variant), `${scenario.id} ${point.size}`).toEqual(scenario.variants.map((v) => v.id));
        for (const { ms, gbps, variant } of point.results) {
          const where = `${scenario.id} ${point.size} ${variant}`;
          expect(ms.samples.length, where).toBe(report.settings.runs);
          expect(ms.min, where).toBeGreaterThan(0);
          expect(ms.min, where).toBeLessThanOrEqual(ms.median);
          expect(ms.median, where).toBeLessThanOrEqual(ms.max);
          expect(Number.isFinite(gbps.median), where).toBe(true);
        }
      }
    }
    expect(steps).toBeGreaterThan(0);
    // Every scenario gave back what it allocated.
    expect(report.heapAfter).toMatchObject({ liveBuffers: 0, storageBytes: 0, mirrorBytes: 0 });

    // The page shows a table per scenario and a chart where there is more than one size.
    const root = element.shadowRoot;
    expect(root?.querySelector('[data-phase="done"]')).toBeTruthy();
    for (const scenario of report.scenarios) {
      expect(root?.querySelector(`[data-scenario="${scenario.id}"] tbody tr`), scenario.id).toBeTruthy();
      if (scenario.points.length > 1) expect(root?.querySelector(`[data-chart="${scenario.id}"] canvas`), scenario.id).toBeTruthy();
    }
    expect(element.reportText).toContain(report.adapter.vendor);
  } finally {
    element.remove();
  }
});
