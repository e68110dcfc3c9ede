/**
 * The `camera-pipeline` scenario: the demo's camera -> filter (Sobel) -> view, live, on one
 * shared device, on a device per module, and naive; measured by {@link measurePipelines}.
 */
import type { MeasureSettings } from '../measure.js';
import type { PipelineResult } from '../report.js';
import { buildPipelines, CAMERA_PIPELINE_SPEC, PIPELINE_VARIANTS } from './pipelines.js';
import { measurePipelines, pipelineWindows, type MainThreadClock } from './windows.js';

export type { MainThreadClock } from './windows.js';

/** Steps of {@link runCameraPipeline}: one per window. */
export function cameraPipelineSteps(settings: MeasureSettings): number {
  return pipelineWindows(PIPELINE_VARIANTS.length, settings);
}

/**
 * Builds the three pipelines in `stage`, measures `settings.warmup` untimed and
 * `settings.runs` timed windows of `settings.windowMs` each per pipeline, interleaved, and
 * frees everything. `step` is called after every window.
 * @throws {Error} when a pipeline does not start or stops showing frames; nothing is left behind.
 */
export async function runCameraPipeline(stage: HTMLElement, settings: MeasureSettings, clock: MainThreadClock | undefined, step: (label: string) => void): Promise<PipelineResult> {
  const spec = CAMERA_PIPELINE_SPEC;
  const measured = await measurePipelines(() => buildPipelines(stage, spec), settings, clock, (pipeline) => { step(`camera-pipeline ${pipeline.id}`); });
  return {
    id: 'camera-pipeline',
    title: 'Camera -> filter -> view, live',
    measures: `The demo's <dmabuf-camera> -> <dmabuf-filter> (${spec.effect}) -> <dmabuf-view>, frames shown per second over ${settings.windowMs} ms windows of steady running, and main-thread time per frame shown (beyond the page's own while every pipeline is paused); the naive baseline reads each frame back to the CPU and uploads it again at every module.`,
    variants: PIPELINE_VARIANTS,
    frame: measured.frame,
    cameraPath: measured.cameraPath,
    windowMs: settings.windowMs,
    mainThreadMeasured: clock !== undefined,
    restingMainThreadMsPerSecond: measured.restingMainThreadMsPerSecond,
    results: measured.results,
    buffersLeftAlive: measured.buffersLeftAlive,
  };
}
