// The benchmark page must not rot: its quick version runs once on the real adapter and every
// scenario it can run yields figures for every variant. Speed is never asserted here.
import { expect, test } from 'vitest';
import { cdp } from 'vitest/browser';
import { BenchProgressEvent } from '../../components/bench/bench-progress-event.js';
import '../../components/bench/bench.js';
import { PIPELINE_VARIANTS } from '../../components/bench/camera-pipeline/pipelines.js';
import { SCENARIOS } from '../../components/bench/run-bench.js';
import { SCENARIO_IDS } from '../../components/bench/scenario.js';

/** The page's main-thread time, from the DevTools protocol, as `npm run bench` gives it. */
async function mainThreadClock(): Promise<() => Promise<number>> {
  const session = cdp();
  await session.send('Performance.enable');
  return async () => {
    const { metrics } = await session.send('Performance.getMetrics');
    const seconds = metrics.find((m) => m.name === 'TaskDuration')?.value;
    if (seconds === undefined) throw new Error('Performance.getMetrics gave no TaskDuration');
    return seconds;
  };
}

test('<dmabuf-bench> quick run: every scenario yields a median, min and max for every variant at every size', async () => {
  const element = document.createElement('dmabuf-bench');
  document.body.append(element);
  let steps = 0;
  element.addEventListener(BenchProgressEvent.type, () => { steps += 1; });
  try {
    const report = await element.run({ quick: true, mainThreadClock: await mainThreadClock() });
    await element.updateComplete;

    expect(report.adapter.vendor).not.toBe('');
    // Every scenario ran; a failed one shows its error here.
    expect(report.skipped).toEqual([]);
    expect([...report.scenarios.map((s) => s.id), report.pipeline?.id]).toEqual(SCENARIO_IDS);
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
    // The camera pipeline: frames shown and main-thread time for every variant, and nothing left alive.
    const pipeline = report.pipeline;
    expect(pipeline?.results.map((r) => r.variant)).toEqual(PIPELINE_VARIANTS.map((v) => v.id));
    for (const r of pipeline?.results ?? []) {
      expect(r.fps.samples.length, r.variant).toBe(report.settings.runs);
      expect(r.fps.min, r.variant).toBeGreaterThan(0);
      expect(r.cameraFps.median, r.variant).toBeGreaterThan(0);
      expect(r.mainThreadMsPerFrame?.median, r.variant).toBeGreaterThan(0);
    }
    // Counts, not speed: the shared device copies nothing; with a device per module frames move between devices.
    const perFrame = new Map(pipeline?.results.map((r) => [r.variant, r.bytesCopiedPerFrame]));
    expect(pipeline?.frame?.width).toBeGreaterThan(0);
    expect(perFrame.get('shared')).toBe(0);
    expect(perFrame.get('independent')).toBeGreaterThan(0);
    expect(perFrame.get('naive')).toBeGreaterThan(0);
    expect(pipeline?.buffersLeftAlive).toBe(0);
    expect(steps).toBeGreaterThan(0);
    // Every scenario gave back what it allocated.
    expect(report.heapAfter).toMatchObject({ liveBuffers: 0, storageBytes: 0, mirrorBytes: 0 });

    // The page shows a table per scenario and a chart where there is more than one size.
    const root = element.shadowRoot;
    expect(root?.querySelector('[data-phase="done"]')).toBeTruthy();
    for (const id of SCENARIO_IDS) {
      expect(root?.querySelector(`[data-scenario="${id}"] tbody tr`), id).toBeTruthy();
    }
    for (const scenario of report.scenarios) {
      if (scenario.points.length > 1) expect(root?.querySelector(`[data-chart="${scenario.id}"] canvas`), scenario.id).toBeTruthy();
    }
    expect(element.reportText).toContain(report.adapter.vendor);
  } finally {
    element.remove();
  }
});
