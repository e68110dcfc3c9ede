/**
 * A scenario's chart: throughput (or time per operation) against size, one line per
 * variant, log scales on both axes. Drawn by uPlot (small, dependency-free, canvas).
 */
import uPlot from 'uplot';
import type { ScenarioResult } from './report.js';
import { formatSize } from './format.mjs';

/** uPlot's `Scale.Distr.Logarithmic`: its const enum cannot be read under `isolatedModules`. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the enum's own value, named here once
const LOGARITHMIC = 3 as uPlot.Scale.Distr;

/** Line colours by variant role, then order: ours stands out. */
const OURS = ['#c2185b', '#7b1fa2'];
const OTHERS = ['#1565c0', '#2e7d32', '#ef6c00', '#546e7a'];

/** Draws `scenario` into `target` (emptied first); returns the chart to destroy later. */
export function drawChart(target: HTMLElement, scenario: ScenarioResult, width: number): uPlot {
  target.replaceChildren();
  const sizes = scenario.points.map((p) => p.size);
  const throughput = scenario.metric === 'throughput';
  const values = (variant: string) =>
    scenario.points.map((p) => {
      const result = p.results.find((r) => r.variant === variant);
      if (!result) return null;
      return throughput ? result.gbps.median : result.ms.median * 1000;
    });
  let ours = 0;
  let others = 0;
  const series: uPlot.Series[] = [
    { label: 'size' },
    ...scenario.variants.map((v): uPlot.Series => ({
      label: v.label,
      stroke: v.role === 'ours' ? (OURS[ours++ % OURS.length] ?? '#000') : (OTHERS[others++ % OTHERS.length] ?? '#000'),
      width: v.role === 'ours' ? 2.5 : 1.5,
      points: { show: true, size: 5 },
    })),
  ];
  const options: uPlot.Options = {
    width,
    height: 280,
    title: `${scenario.id}: ${throughput ? 'GB/s' : 'µs per operation'} against size`,
    scales: { x: { time: false, distr: LOGARITHMIC, log: 2 }, y: { distr: LOGARITHMIC, log: 10 } },
    axes: [
      // Ticks at the measured sizes only; uPlot passes null for ticks it leaves out for room.
      { splits: () => sizes, space: 20, values: (_u, splits: readonly (number | null)[]) => splits.map((v) => (v === null ? '' : formatSize(v))), label: 'size' },
      { label: throughput ? 'GB/s' : 'µs', size: 60 },
    ],
    series,
    legend: { live: false },
  };
  return new uPlot(options, [sizes, ...scenario.variants.map((v) => values(v.id))], target);
}
