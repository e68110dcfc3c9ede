/**
 * How a pipeline scenario is measured, shared by `camera-pipeline` and `frame-pipeline`:
 * frames per second, main-thread milliseconds per frame and capture-to-screen milliseconds
 * of camera -> filter -> view, in windows of steady running. One pipeline runs at a time (the others' cameras are paused),
 * in a rotating order, so the variants share the page's load as the other scenarios'
 * variants do; the page's own main-thread time with every pipeline paused is measured in
 * windows of its own and taken off.
 */
import { summarize, type MeasureSettings } from '../measure.js';
import type { PipelineVariantResult } from '../report.js';
import type { Pipeline, PipelineCounts } from './pipelines.js';

/**
 * Cumulative seconds the page's main thread has spent running tasks: Chrome DevTools
 * Protocol `Performance.getMetrics`' `TaskDuration`, which `npm run bench` and the quick-run
 * test pass in. A page cannot measure this by itself.
 */
export type MainThreadClock = () => Promise<number>;

/** How long a resumed pipeline may take to show its first frames before the scenario gives up, ms. */
const FILL_TIMEOUT_MS = 15_000;

/** Main-thread seconds per second with every pipeline paused: the page's own cost, taken off the pipelines'. */
async function restingRate(clock: MainThreadClock, windowMs: number): Promise<number> {
  const before = await clock();
  const t0 = performance.now();
  await sleep(windowMs);
  const after = await clock();
  return (after - before) / ((performance.now() - t0) / 1000);
}

/** One window of one pipeline. */
interface Window {
  readonly seconds: number;
  readonly delta: PipelineCounts;
  /** Main-thread seconds in the window, when a clock was given. */
  readonly mainThread: number | undefined;
  /** Capture-to-screen ms of each frame shown in the window. */
  readonly latencies: readonly number[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function minus(a: PipelineCounts, b: PipelineCounts): PipelineCounts {
  return { made: a.made - b.made, shown: a.shown - b.shown, dropped: a.dropped - b.dropped, bytesCopied: a.bytesCopied - b.bytesCopied };
}

/** Resolves once `pipeline` has shown `frames` more frames; throws after `timeoutMs`. */
async function framesShown(pipeline: Pipeline, frames: number, timeoutMs: number): Promise<void> {
  const target = pipeline.counts().shown + frames;
  const deadline = performance.now() + timeoutMs;
  while (pipeline.counts().shown < target) {
    if (performance.now() > deadline || pipeline.camera.status === 'failed') throw new Error(`the ${pipeline.id} pipeline showed no frame${pipeline.camera.status === 'failed' ? '' : ` for ${timeoutMs} ms`} (camera: ${pipeline.camera.status}${pipeline.camera.error ? `, ${pipeline.camera.error}` : ''})`);
    await sleep(10);
  }
}

/**
 * Resumes `pipeline`, lets it fill, counts `windowMs` of steady running (and on until it has
 * shown a frame: on a loaded machine a short window may end between two frames, and a window
 * of none would read as a pipeline that stopped), and pauses it again until what is in flight
 * has drained.
 */
async function measureWindow(pipeline: Pipeline, windowMs: number, clock: MainThreadClock | undefined): Promise<Window> {
  pipeline.camera.paused = false;
  try {
    await framesShown(pipeline, 2, FILL_TIMEOUT_MS);
    const before = pipeline.counts();
    const latenciesBefore = pipeline.latencies().length;
    const clockBefore = await clock?.();
    const t0 = performance.now();
    await sleep(windowMs);
    if (pipeline.counts().shown === before.shown) await framesShown(pipeline, 1, FILL_TIMEOUT_MS);
    const clockAfter = await clock?.();
    const seconds = (performance.now() - t0) / 1000;
    const delta = minus(pipeline.counts(), before);
    const mainThread = clockBefore === undefined || clockAfter === undefined ? undefined : clockAfter - clockBefore;
    return { seconds, delta, mainThread, latencies: pipeline.latencies().slice(latenciesBefore) };
  } finally {
    pipeline.camera.paused = true;
    await sleep(Math.min(200, windowMs));
  }
}

/** One pipeline's figures over its timed windows; `vsNaive` is filled in once the naive one's are known. */
function result(pipeline: Pipeline, windows: readonly Window[], resting: number): PipelineVariantResult {
  const fps = summarize(windows.map((w) => w.delta.shown / w.seconds), 1);
  const cameraFps = summarize(windows.map((w) => w.delta.made / w.seconds), 1);
  // Per frame over the windows that showed any (a slow window on a loaded machine may show none).
  const clocked = windows.every((w) => w.mainThread !== undefined);
  const timed = windows.flatMap((w) => (w.mainThread === undefined || w.delta.shown === 0 ? [] : [(Math.max(0, w.mainThread - resting * w.seconds) * 1000) / w.delta.shown]));
  const latencies = windows.flatMap((w) => w.latencies);
  const sourceRate = pipeline.camera.sourceFrameRate;
  const total = windows.reduce((sum, w) => ({ shown: sum.shown + w.delta.shown, dropped: sum.dropped + w.delta.dropped, bytes: sum.bytes + w.delta.bytesCopied }), { shown: 0, dropped: 0, bytes: 0 });
  return {
    variant: pipeline.id,
    fps,
    cameraFps,
    mainThreadMsPerFrame: clocked && timed.length > 0 ? summarize(timed, 1) : null,
    captureToScreenMs: latencies.length > 0 ? summarize(latencies, 1) : null,
    framesShown: total.shown,
    framesDropped: total.dropped,
    bytesCopiedPerFrame: total.shown > 0 ? total.bytes / total.shown : 0,
    cameraSourceFps: sourceRate ?? null,
    ofCamera: sourceRate ? fps.median / sourceRate : null,
    vsNaive: null,
  };
}

/** What {@link measurePipelines} found. */
export interface PipelineMeasurement {
  /** One result per pipeline, in the order they were built, with `vsNaive` filled in. */
  readonly results: readonly PipelineVariantResult[];
  /** The first pipeline's frame size, once its camera made a frame. */
  readonly frame: { readonly width: number; readonly height: number } | null;
  /** The first pipeline's camera path. */
  readonly cameraPath: string | null;
  /** The page's main-thread ms per second with every pipeline paused (median); 0 without a clock. */
  readonly restingMainThreadMsPerSecond: number;
  /** Dma-bufs of the pipelines' heaps still alive after teardown: 0 when nothing leaked. */
  readonly buffersLeftAlive: number;
}

/** Windows {@link measurePipelines} takes of `pipelines` pipelines: one progress step each. */
export function pipelineWindows(pipelines: number, settings: MeasureSettings): number {
  return pipelines * (settings.warmup + settings.runs);
}

/**
 * Builds the pipelines (`build`), measures `settings.warmup` untimed and `settings.runs`
 * timed windows of `settings.windowMs` each per pipeline, interleaved in a rotating order
 * (with a resting window of the page before each timed round when there is a `clock`), and
 * disposes of every pipeline. `step` is called after every window.
 * @throws {Error} when a pipeline does not start or stops showing frames; nothing is left behind.
 */
export async function measurePipelines(build: () => Promise<Pipeline[]>, settings: MeasureSettings, clock: MainThreadClock | undefined, step: (pipeline: Pipeline) => void): Promise<PipelineMeasurement> {
  const pipelines = await build();
  const windows = new Map<Pipeline, Window[]>(pipelines.map((p) => [p, []]));
  const resting: number[] = [];
  let leftAlive = 0;
  try {
    for (let round = 0; round < settings.warmup + settings.runs; round++) {
      if (clock && round >= settings.warmup) resting.push(await restingRate(clock, settings.windowMs));
      for (let k = 0; k < pipelines.length; k++) {
        const pipeline = pipelines[(k + round) % pipelines.length];
        if (!pipeline) continue;
        const window = await measureWindow(pipeline, settings.windowMs, clock);
        if (round >= settings.warmup) windows.get(pipeline)?.push(window);
        step(pipeline);
      }
    }
  } finally {
    for (const pipeline of pipelines) leftAlive += await pipeline.dispose();
  }
  const first = pipelines[0]?.camera;
  const restingRateMedian = resting.length > 0 ? summarize(resting, 1).median : 0;
  const results = pipelines.map((p) => result(p, windows.get(p) ?? [], restingRateMedian));
  const naiveFps = results.find((r) => r.variant === 'naive')?.fps.median ?? 0;
  return {
    results: results.map((r) => ({ ...r, vsNaive: naiveFps > 0 ? r.fps.median / naiveFps : null })),
    frame: first?.layout ? { width: first.layout.width, height: first.layout.height } : null,
    cameraPath: first?.path ?? null,
    restingMainThreadMsPerSecond: restingRateMedian * 1000,
    buffersLeftAlive: leftAlive,
  };
}
