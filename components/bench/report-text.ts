/**
 * The report as a plain-text table, for the terminal (`npm run bench`) and for the README.
 */
import type { BenchReport, ScenarioResult, VariantResult } from './report.js';
import { formatSize } from './scenario.js';

/** `x` with three significant digits, no exponent for the ranges a bench shows. */
export function sig3(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 6));
}

/** The figure a table shows for one result: GB/s for throughput, µs per operation for latency. */
export function figureText(scenario: ScenarioResult, result: VariantResult): { median: string; range: string; unit: string } {
  if (scenario.metric === 'throughput') {
    const { median, min, max } = result.gbps;
    return { median: sig3(median), range: `${sig3(min)}..${sig3(max)}`, unit: 'GB/s' };
  }
  const { median, min, max } = result.ms;
  return { median: sig3(median * 1000), range: `${sig3(min * 1000)}..${sig3(max * 1000)}`, unit: 'µs' };
}

/** What a scenario's ratio column is against. */
export function ratioHeading(scenario: ScenarioResult): string {
  if (scenario.ratio === 'first-size') return `speed vs ${formatSize(scenario.points[0]?.size ?? 0)}`;
  return 'speed vs raw';
}

/** `1.23x`, or `-` where there is no ratio. */
export function ratioText(ratio: number | null): string {
  return ratio === null ? '-' : `${ratio.toFixed(2)}x`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** One scenario as a text table, with its counts under it. */
export function scenarioText(scenario: ScenarioResult): string {
  const labels = new Map(scenario.variants.map((v) => [v.id, v.label]));
  const unit = scenario.metric === 'throughput' ? 'GB/s' : 'µs/op';
  const rows: string[][] = [['size', 'variant', `median ${unit}`, 'min..max', ratioHeading(scenario)]];
  const notes: string[] = [];
  for (const point of scenario.points) {
    for (const result of point.results) {
      const { median, range } = figureText(scenario, result);
      rows.push([formatSize(point.size), labels.get(result.variant) ?? result.variant, median, range, ratioText(result.ratio)]);
    }
    const extras = Object.entries(point.extras).map(([key, value]) => `${key} ${value}`);
    if (extras.length > 0) notes.push(`  ${formatSize(point.size)}: ${extras.join(', ')}`);
  }
  const counts = notes.length > 0 ? ['  counts during the timed runs:', ...notes] : [];
  return [`${scenario.id}: ${scenario.title}`, `  ${scenario.measures}`, table(rows), ...counts].join('\n');
}

/** The whole report as text. */
export function reportText(report: BenchReport): string {
  const { adapter, settings } = report;
  const header = [
    `webgpu-dmabuf benchmark${report.quick ? ' (quick)' : ''}: adapter ${adapter.vendor || '?'} / ${adapter.architecture || '?'}${adapter.description ? ` (${adapter.description})` : ''}`,
    `cross-origin isolated: ${report.crossOriginIsolated ? 'yes' : 'no'}, timer step ${sig3(report.timerResolutionMs * 1000)} µs`,
    `each figure: median of ${settings.runs} runs after ${settings.warmup} warm-up runs, min..max beside it; variants interleaved.`,
    "'speed vs raw': the fastest raw baseline's median time over this variant's (above 1 is faster).",
  ];
  const skipped = report.skipped.map((s) => `${s.id}: not run: ${s.reason}`);
  return [header.join('\n'), ...report.scenarios.map(scenarioText), ...skipped].join('\n\n');
}
