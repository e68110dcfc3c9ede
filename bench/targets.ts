/**
 * The issues' targets that a run's own figures can judge, each with its verdict: computed
 * when the run ends, kept in the report (`npm run bench` writes them to its JSON) and shown
 * met or missed under the scenario's table.
 */
import type { PipelineVariantResult } from './report.js';

/** A target's verdict: `not judged` when a figure it needs is missing (a variant not run, main-thread time not measured). */
export type TargetVerdict = 'met' | 'missed' | 'not judged';

/** One target of a scenario, judged on the figures of one run. Plain data, in the report. */
export interface TargetResult {
  /** A stable name, `SCENARIO/what`: `camera-pipeline/workers-main-thread`. */
  readonly id: string;
  /** What the target asks, in words. */
  readonly target: string;
  readonly verdict: TargetVerdict;
  /** The figures it was judged on (medians), or why it was not judged. */
  readonly detail: string;
}

/** The most main-thread time per frame the worker pipeline may take, as a share of the device-per-module pipeline's. */
export const WORKERS_MAIN_THREAD_SHARE = 0.1;

/**
 * A pipeline scenario's targets, judged on its `results` (medians over the timed windows);
 * `scope` begins their ids: `camera-pipeline`, or `frame-pipeline@640x480` for one frame size
 * of `frame-pipeline`.
 *
 * - `SCOPE/workers-main-thread`: with a worker per module (`workers`),
 *   main-thread ms per frame at most {@link WORKERS_MAIN_THREAD_SHARE} of a device per module's
 *   (`independent`), at a frame rate no lower (its fps median at or above `independent`'s).
 *   Not judged without both variants, or without main-thread time (no DevTools clock).
 * - `SCOPE/workers-latency`: with a worker per module, capture-to-screen ms (median)
 *   no more than a device per module's. Not judged without both variants' latencies.
 *
 * Pure: it reads nothing but `results`.
 */
export function pipelineTargets(scope: string, results: readonly PipelineVariantResult[]): TargetResult[] {
  const workers = results.find((r) => r.variant === 'workers');
  const independent = results.find((r) => r.variant === 'independent');
  return [mainThreadTarget(scope, workers, independent), latencyTarget(scope, workers, independent)];
}

function missing(workers: PipelineVariantResult | undefined): string {
  return `the ${workers ? 'independent' : 'workers'} variant did not run`;
}

function mainThreadTarget(scope: string, workers: PipelineVariantResult | undefined, independent: PipelineVariantResult | undefined): TargetResult {
  const id = `${scope}/workers-main-thread`;
  const target = `a worker per module: main-thread ms per frame <= ${WORKERS_MAIN_THREAD_SHARE} x a device per module's, at fps no lower`;
  if (!workers || !independent) return { id, target, verdict: 'not judged', detail: missing(workers) };
  const fps = `fps ${workers.fps.median.toFixed(1)} against ${independent.fps.median.toFixed(1)}`;
  const workersMain = workers.mainThreadMsPerFrame?.median;
  const independentMain = independent.mainThreadMsPerFrame?.median;
  if (workersMain === undefined || independentMain === undefined) return { id, target, verdict: 'not judged', detail: `main-thread time not measured (it needs the DevTools protocol: npm run bench); ${fps}` };
  const limit = WORKERS_MAIN_THREAD_SHARE * independentMain;
  const mainMet = workersMain <= limit;
  const fpsMet = workers.fps.median >= independent.fps.median;
  const share = independentMain > 0 ? ` (${(workersMain / independentMain).toFixed(2)}x)` : '';
  const detail = `main thread ${workersMain.toFixed(2)} ms/frame against ${independentMain.toFixed(2)}${share}, limit ${limit.toFixed(2)}: ${mainMet ? 'within' : 'over'}; ${fps}: ${fpsMet ? 'no lower' : 'lower'}`;
  return { id, target, verdict: mainMet && fpsMet ? 'met' : 'missed', detail };
}

function latencyTarget(scope: string, workers: PipelineVariantResult | undefined, independent: PipelineVariantResult | undefined): TargetResult {
  const id = `${scope}/workers-latency`;
  const target = "a worker per module: capture-to-screen ms no more than a device per module's";
  if (!workers || !independent) return { id, target, verdict: 'not judged', detail: missing(workers) };
  const ours = workers.captureToScreenMs?.median;
  const theirs = independent.captureToScreenMs?.median;
  if (ours === undefined || theirs === undefined) return { id, target, verdict: 'not judged', detail: 'capture-to-screen time not measured (no frame shown in a timed window)' };
  const met = ours <= theirs;
  return { id, target, verdict: met ? 'met' : 'missed', detail: `${ours.toFixed(0)} ms against ${theirs.toFixed(0)}: ${met ? 'no more' : 'more'}` };
}

/** A target as one line: `met: TARGET (DETAIL)`. */
export function targetText(result: TargetResult): string {
  return `${result.verdict}: ${result.target} (${result.detail})`;
}
