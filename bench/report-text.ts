/**
 * The report as a plain-text table, for the terminal (`npm run bench`) and for docs/performance.md.
 */
import type { Figure } from './measure.js';
import type { BenchReport, PipelineResult, PipelineVariantResult, ScenarioResult, VariantResult } from './report.js';
import { formatSize, sig3 } from './format.mjs';
import { targetText } from './targets.js';

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

/** Rows as aligned columns: the first `textColumns` to the left, the figures to the right. */
function table(rows: readonly (readonly string[])[], textColumns = 2): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i >= textColumns ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
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

/** A figure's median and `min..max` with `digits` decimals (`-` for both without a figure). */
export function spreadText(figure: Figure | null, digits: number): { median: string; range: string } {
  if (!figure) return { median: '-', range: '-' };
  return { median: figure.median.toFixed(digits), range: `${figure.min.toFixed(digits)}..${figure.max.toFixed(digits)}` };
}

/** A table's heading and rows, shared by the page and the terminal. */
export interface TableRows {
  readonly heading: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** One pipeline variant's cells from the frame rate on, with `extra` (the camera pipeline's "of camera rate") after the source's rate. */
function pipelineCells(r: PipelineVariantResult, extra: readonly string[]): string[] {
  const fps = spreadText(r.fps, 1);
  const main = spreadText(r.mainThreadMsPerFrame, 2);
  const latency = spreadText(r.captureToScreenMs ?? null, 0);
  return [fps.median, fps.range, r.cameraFps.median.toFixed(1), ...extra, ratioText(r.vsNaive), main.median, main.range, latency.median, (r.bytesCopiedPerFrame / 1024).toFixed(0), String(r.framesDropped)];
}

/** The camera pipeline table's heading and one row per variant, shared by the page and the terminal. */
export function pipelineRows(pipeline: PipelineResult): TableRows {
  const labels = new Map(pipeline.variants.map((v) => [v.id, v.label]));
  const heading = ['variant', 'fps', 'min..max', 'camera made fps', 'of camera rate', 'vs naive', 'main-thread ms/frame', 'min..max', 'capture-to-screen ms', 'KiB copied/frame', 'dropped'];
  const rows = pipeline.results.map((r) => [labels.get(r.variant) ?? r.variant, ...pipelineCells(r, [ratioText(r.ofCamera)])]);
  return { heading, rows };
}

/** `640 x 480`, or `?` without a frame. */
export function frameSizeText(pipeline: PipelineResult): string {
  return pipeline.frame ? `${pipeline.frame.width} x ${pipeline.frame.height}` : '?';
}

/** The frame pipeline's table: one row per size and variant, shared by the page and the terminal. */
export function framePipelineRows(sizes: readonly PipelineResult[]): TableRows {
  const heading = ['size', 'variant', 'fps', 'min..max', 'pattern made fps', 'vs naive', 'main-thread ms/frame', 'min..max', 'capture-to-screen ms', 'KiB moved/frame', 'dropped'];
  const rows = sizes.flatMap((pipeline) => {
    const labels = new Map(pipeline.variants.map((v) => [v.id, v.label]));
    return pipeline.results.map((r) => [frameSizeText(pipeline), labels.get(r.variant) ?? r.variant, ...pipelineCells(r, [])]);
  });
  return { heading, rows };
}

/** The camera's own frame rate, as text. */
export function sourceRate(pipeline: PipelineResult): string {
  const rate = pipeline.results[0]?.cameraSourceFps;
  if (rate) return `${rate.toFixed(0)} fps`;
  return pipeline.id === 'frame-pipeline' ? 'uncapped (test pattern: the next frame as soon as the importer takes it)' : 'unknown (test pattern: one frame per animation frame)';
}

/** What a pipeline's main-thread figures are, or why there are none. */
export function mainThreadNote(pipeline: PipelineResult): string {
  return pipeline.mainThreadMeasured
    ? `Main-thread time with every pipeline paused: ${pipeline.restingMainThreadMsPerSecond.toFixed(1)} ms/s, taken off the per-frame figures.`
    : 'Main-thread time needs the DevTools protocol: run `npm run bench` to measure it.';
}

/** The frame pipeline's notes under its table: per size, the resting main-thread time and the dma-bufs left alive. */
export function framePipelineNotes(sizes: readonly PipelineResult[]): string[] {
  return sizes.map((p) => `${frameSizeText(p)}: ${p.mainThreadMeasured ? `main thread with every pipeline paused ${p.restingMainThreadMsPerSecond.toFixed(1)} ms/s, taken off` : 'main-thread time needs the DevTools protocol (`npm run bench`)'}; dma-bufs left alive after teardown: ${p.buffersLeftAlive}`);
}

/** A pipeline's targets, one line each (`target met: …`); none for a run saved before targets were judged. */
export function targetLines(pipeline: PipelineResult): string[] {
  return (pipeline.targets ?? []).map((t) => `target ${targetText(t)}`);
}

/** The camera pipeline as a text table, with its notes and its targets met or missed. */
export function pipelineText(pipeline: PipelineResult): string {
  const { heading, rows } = pipelineRows(pipeline);
  const frame = pipeline.frame ? `${pipeline.frame.width} x ${pipeline.frame.height} RGBA` : 'no frame';
  const notes = [
    `  frames: ${frame}, camera path ${pipeline.cameraPath ?? '?'}, camera rate ${sourceRate(pipeline)}; dma-bufs left alive after teardown: ${pipeline.buffersLeftAlive}`,
    `  ${mainThreadNote(pipeline)}`,
    ...targetLines(pipeline).map((line) => `  ${line}`),
  ];
  return [`${pipeline.id}: ${pipeline.title}`, `  ${pipeline.measures}`, table([heading, ...rows], 1), ...notes].join('\n');
}

/** The frame pipeline, every size in one text table, with its notes and each size's targets met or missed. */
export function framePipelineText(sizes: readonly PipelineResult[]): string {
  const first = sizes[0];
  if (!first) return '';
  const { heading, rows } = framePipelineRows(sizes);
  const notes = [`  frames: RGBA, source ${first.cameraPath ?? '?'}, rate ${sourceRate(first)}`, ...framePipelineNotes(sizes).map((n) => `  ${n}`), ...sizes.flatMap(targetLines).map((line) => `  ${line}`)];
  return [`${first.id}: ${first.title}`, `  ${first.measures}`, table([heading, ...rows], 2), ...notes].join('\n');
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
  const pipeline = report.pipeline ? [pipelineText(report.pipeline)] : [];
  const framePipeline = report.framePipeline?.length ? [framePipelineText(report.framePipeline)] : [];
  return [header.join('\n'), ...report.scenarios.map(scenarioText), ...pipeline, ...framePipeline, ...skipped].join('\n\n');
}
