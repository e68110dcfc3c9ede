/**
 * Runs the benchmark: two devices of their own (an exporter and an importer, as two modules
 * have), the stock heap on the first, TypeGPU on the first for its baselines, then every
 * chosen scenario size by size, variants interleaved; last, the camera pipeline and the
 * frame pipeline, whose modules bring their own devices.
 */
import { tgpu } from 'typegpu';
import { GpuHeap, requestGpuDevice } from 'webgpu-dmabuf';
import { FULL_SETTINGS, measureInterleaved, QUICK_SETTINGS, type Figure, type MeasureSettings } from './measure.js';
import { cameraPipelineSteps, runCameraPipeline, type MainThreadClock } from './camera-pipeline/run-camera-pipeline.js';
import { framePipelineSizes, framePipelineSteps, runFramePipeline } from './frame-pipeline/run-frame-pipeline.js';
import { withRatios, type BenchReport, type PipelineResult, type ScenarioResult, type SkippedScenario } from './report.js';
import { SCENARIO_IDS, formatSize, type BenchEnv, type Scenario, type ScenarioId } from './scenario.js';
import { cpuRead } from './scenarios/cpu-read.js';
import { cpuWrite } from './scenarios/cpu-write.js';
import { mapCrossDevice } from './scenarios/map-cross-device.js';
import { mapSameDevice } from './scenarios/map-same-device.js';
import { pageLatency } from './scenarios/page-latency.js';

/** The scenarios measured operation by operation, size by size, in order; `camera-pipeline` and `frame-pipeline` run after them. */
export const SCENARIOS: readonly Scenario[] = [cpuRead, cpuWrite, pageLatency, mapSameDevice, mapCrossDevice];

/** What to run. */
export interface BenchOptions {
  /** The short version: fewer sizes and runs. */
  readonly quick?: boolean;
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

/** The smallest step of `performance.now()` seen in a short busy loop, ms. */
function timerResolution(): number {
  let smallest = Infinity;
  let last = performance.now();
  const end = last + 20;
  while (last < end) {
    const now = performance.now();
    if (now > last) smallest = Math.min(smallest, now - last);
    last = now;
  }
  return smallest;
}

async function makeEnv(): Promise<BenchEnv> {
  const exporter = await requestGpuDevice();
  exporter.label = 'bench exporter';
  const importer = await requestGpuDevice();
  importer.label = 'bench importer';
  const heap = new GpuHeap(exporter, { name: 'bench' });
  return { exporter, importer, heap, root: tgpu.initFromDevice({ device: exporter }) };
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

/** Progress of one scenario: `advanced` when one warm-up run or sample is done, not when a size is announced. */
type Step = (label: string, advanced: boolean) => void;

async function runScenario(env: BenchEnv, scenario: Scenario, quick: boolean, settings: MeasureSettings, step: Step): Promise<ScenarioResult> {
  const points = [];
  const figures: Map<string, Figure>[] = [];
  for (const size of scenario.sizes(quick)) {
    const label = `${scenario.id} ${formatSize(size)}`;
    step(label, false);
    const prepared = await scenario.prepare(env, size);
    try {
      let atWarm = env.heap.stats();
      const afterWarmup = () => {
        atWarm = env.heap.stats();
        prepared.afterWarmup?.();
      };
      const measured = await measureInterleaved(prepared.ops, settings, { step: () => { step(label, true); }, afterWarmup });
      const after = env.heap.stats();
      figures.push(measured);
      // What the heap did during the timed runs, for every variant together (baselines do not use it).
      const heap = { heapStagingBuffersCreated: after.stagingBuffersCreated - atWarm.stagingBuffersCreated, heapBytesCopied: after.bytesCopied - atWarm.bytesCopied };
      points.push({ size, bytesPerOp: prepared.bytesPerOp, extras: { ...heap, ...prepared.extras?.() } });
    } finally {
      await prepared.dispose();
    }
  }
  const { id, title, measures, metric, ratio, variants } = scenario;
  return { id, title, measures, metric, ratio, variants, points: withRatios(ratio, variants, points, figures) };
}

/**
 * Runs the chosen scenarios and returns the report. Makes and destroys its own devices.
 * A scenario that throws is listed in `skipped` with the error; the others still run.
 */
export async function runBench(options: BenchOptions = {}, onProgress?: (progress: BenchProgress) => void): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const wanted = new Set(options.scenarios ?? SCENARIO_IDS);
  const settings = quick ? QUICK_SETTINGS : FULL_SETTINGS;
  const chosen = SCENARIOS.filter((s) => wanted.has(s.id));
  const withPipeline = wanted.has('camera-pipeline');
  const withFramePipeline = wanted.has('frame-pipeline');
  const skipped: SkippedScenario[] = [];
  const total = chosen.reduce((sum, s) => sum + s.sizes(quick).length * s.variants.length * (settings.warmup + settings.runs), 0)
    + (withPipeline ? cameraPipelineSteps(settings) : 0)
    + (withFramePipeline ? framePipelineSteps(settings, quick) : 0);
  let done = 0;
  const startedAt = new Date().toISOString();
  const timerResolutionMs = timerResolution();
  const env = await makeEnv();
  const scenarios: ScenarioResult[] = [];
  try {
    for (const scenario of chosen) {
      const step: Step = (label, advanced) => {
        if (advanced) done += 1;
        onProgress?.({ done, total, label });
      };
      try {
        scenarios.push(await runScenario(env, scenario, quick, settings, step));
      } catch (error) {
        skipped.push({ id: scenario.id, reason: `failed: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
  } finally {
    env.root.destroy();
  }
  const heapAfter = env.heap.stats();
  if (heapAfter.liveBuffers === 0) env.heap.destroy();
  const { vendor, architecture, device, description } = env.exporter.adapterInfo;
  env.exporter.destroy();
  env.importer.destroy();
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
      skipped.push({ id: 'frame-pipeline', reason: `failed after ${framePipeline.length} of ${framePipelineSizes(quick).length} sizes: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  onProgress?.({ done: total, total, label: 'done' });
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick,
    adapter: { vendor, architecture, device, description },
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
