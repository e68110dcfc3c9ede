/**
 * The `camera-pipeline` scenario: the demo's camera -> filter (Sobel) -> view, live, on one
 * shared device, on a device per module, with a worker per module (the filter and the view
 * each in a module worker of its own) and naive; measured by {@link measurePipelines}, and
 * judged against its targets ({@link pipelineTargets}).
 */
import type { MeasureSettings } from '../measure.js';
import type { PipelineResult } from '../report.js';
import { buildPipelines, CAMERA_PIPELINE_SPEC, pipelineVariants } from './pipelines.js';
import { pipelineTargets } from '../targets.js';
import { measurePipelines, pipelineWindows, type MainThreadClock } from './windows.js';

export type { MainThreadClock } from './windows.js';

/** Steps of {@link runCameraPipeline}: one per window. */
export function cameraPipelineSteps(settings: MeasureSettings): number {
  return pipelineWindows(pipelineVariants(CAMERA_PIPELINE_SPEC).length, settings);
}

/**
 * Builds the four pipelines in `stage`, measures `settings.warmup` untimed and
 * `settings.runs` timed windows of `settings.windowMs` each per pipeline, interleaved, frees
 * everything (terminating the workers), and judges the figures against the scenario's targets.
 * `step` is called after every window.
 * @throws {Error} when a pipeline does not start or stops showing frames; nothing is left behind.
 */
export async function runCameraPipeline(stage: HTMLElement, settings: MeasureSettings, clock: MainThreadClock | undefined, step: (label: string) => void): Promise<PipelineResult> {
  const spec = settings.pipelineFrame ? { ...CAMERA_PIPELINE_SPEC, source: { ...CAMERA_PIPELINE_SPEC.source, ...settings.pipelineFrame } } : CAMERA_PIPELINE_SPEC;
  const measured = await measurePipelines(() => buildPipelines(stage, spec), settings, clock, (pipeline) => { step(`camera-pipeline ${pipeline.id}`); });
  return {
    id: 'camera-pipeline',
    title: 'Camera -> filter -> view, live',
    measures: `The demo's <dmabuf-camera> -> <dmabuf-filter> (${spec.effect}) -> <dmabuf-view>, frames shown per second over ${settings.windowMs} ms windows of steady running, main-thread time per frame shown (beyond the page's own while every pipeline is paused) and capture-to-screen time per frame; with a worker per module the camera, the filter and the view each run in a module worker of their own (their time there is not the page's); the naive baseline reads each frame back to the CPU and uploads it again at every module.`,
    variants: pipelineVariants(spec),
    frame: measured.frame,
    cameraPath: measured.cameraPath,
    windowMs: settings.windowMs,
    mainThreadMeasured: clock !== undefined,
    restingMainThreadMsPerSecond: measured.restingMainThreadMsPerSecond,
    results: measured.results,
    buffersLeftAlive: measured.buffersLeftAlive,
    targets: pipelineTargets('camera-pipeline', measured.results),
  };
}
