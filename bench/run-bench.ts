/**
 * Runs the benchmark: the per-operation scenarios (run-operations.ts: two devices of their
 * own, the stock heap, TypeGPU for its baselines, every size, variants interleaved); last,
 * the camera pipeline and the frame pipeline, whose modules bring their own devices and
 * need the page.
 */
import { FULL_SETTINGS, QUICK_SETTINGS, SMOKE_SETTINGS } from './measure.js';
import { cameraPipelineSteps, runCameraPipeline, type MainThreadClock } from './camera-pipeline/run-camera-pipeline.js';
import { framePipelineSizes, framePipelineSteps, runFramePipeline } from './frame-pipeline/run-frame-pipeline.js';
import type { BenchReport, PipelineResult, SkippedScenario } from './report.js';
import { operationSteps, runOperations, SCENARIOS, type Step } from './run-operations.js';
import { SCENARIO_IDS, type ScenarioId } from './scenario.js';

export { SCENARIOS };

/** What to run. */
export interface BenchOptions {
  /** The short version: fewer sizes and runs. */
  readonly quick?: boolean;
  /** With `quick`: one sample of each variant, to check that everything runs (the tests); its figures are not worth reading. */
  readonly smoke?: boolean;
  /** Which scenarios; all by default. */
  readonly scenarios?: readonly ScenarioId[];
  /** Where the pipelines' modules are shown while they run; a temporary element of `document.body` by default. */
  readonly stage?: HTMLElement | undefined;
  /** The page's main-thread time, for the pipelines' ms per frame; without it that column is empty. */
  readonly mainThreadClock?: MainThreadClock | undefined;
}

/** Where a run is. */
export interface BenchProgress {
  readonly done: number;
  readonly total: number;
  /** The scenario and size being measured. */
  readonly label: string;
}

/** Runs `task` with `stage`, or with a temporary element of the page's body when there is none. */
async function inStage<T>(stage: HTMLElement | undefined, task: (stage: HTMLElement) => Promise<T>): Promise<T> {
  if (stage) return task(stage);
  const temporary = document.body.appendChild(document.createElement('div'));
  try {
    return await task(temporary);
  } finally {
    temporary.remove();
  }
}

/**
 * Runs the chosen scenarios and returns the report. Makes and destroys its own devices.
 * A scenario that throws is listed in `skipped` with the error; the others still run.
 */
export async function runBench(options: BenchOptions = {}, onProgress?: (progress: BenchProgress) => void): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const wanted = new Set(options.scenarios ?? SCENARIO_IDS);
  const settings = quick ? (options.smoke ? SMOKE_SETTINGS : QUICK_SETTINGS) : FULL_SETTINGS;
  const chosen = SCENARIOS.filter((s) => wanted.has(s.id));
  const withPipeline = wanted.has('camera-pipeline');
  const withFramePipeline = wanted.has('frame-pipeline');
  const total = operationSteps(chosen, quick, settings)
    + (withPipeline ? cameraPipelineSteps(settings) : 0)
    + (withFramePipeline ? framePipelineSteps(settings, quick) : 0);
  let done = 0;
  const startedAt = new Date().toISOString();
  const step: Step = (label, advanced) => {
    if (advanced) done += 1;
    onProgress?.({ done, total, label });
  };
  const { timerResolutionMs, adapter, scenarios, failed, heapAfter } = await runOperations(chosen, quick, settings, step);
  const skipped: SkippedScenario[] = [...failed];
  const windowDone = (label: string) => {
    done += 1;
    onProgress?.({ done, total, label });
  };
  let pipeline: PipelineResult | null = null;
  if (withPipeline) {
    try {
      pipeline = await inStage(options.stage, (stage) => runCameraPipeline(stage, settings, options.mainThreadClock, windowDone));
    } catch (error) {
      skipped.push({ id: 'camera-pipeline', reason: `failed: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  const framePipeline: PipelineResult[] = [];
  if (withFramePipeline) {
    try {
      await inStage(options.stage, (stage) => runFramePipeline(stage, settings, quick, options.mainThreadClock, windowDone, (result) => { framePipeline.push(result); }));
    } catch (error) {
      skipped.push({ id: 'frame-pipeline', reason: `failed after ${framePipeline.length} of ${framePipelineSizes(quick, settings).length} sizes: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  onProgress?.({ done: total, total, label: 'done' });
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick,
    adapter,
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    timerResolutionMs,
    settings,
    scenarios,
    pipeline,
    framePipeline,
    skipped,
    heapAfter,
  };
}
