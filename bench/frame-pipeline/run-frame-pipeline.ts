/**
 * The `frame-pipeline` scenario: where sharing is the cost. The demo's modules fed by the
 * camera's test pattern drawn on the GPU without a frame-rate cap (`<dmabuf-camera
 * source="pattern" uncapped>`: the next frame as soon as the filter takes it), through
 * a pass-through filter (`none`: one copy on the GPU) to the view, so that what is left to
 * measure is how frames move between the modules: on one shared device (zero-copy), on a
 * device per module (the heap's copies), with a worker per module (the same copies, the page
 * only hosting), and naive (read back to the CPU, upload again). Size by size, each size's
 * four pipelines built, measured in interleaved windows as `camera-pipeline`'s are
 * ({@link measurePipelines}), judged against the worker targets ({@link pipelineTargets}),
 * and torn down before the next.
 */
import type { FrameEffect } from 'webgpu-dmabuf/elements';
import { buildPipelines, pipelineVariants, type PipelineSpec, type PipelineVariantId } from '../camera-pipeline/pipelines.js';
import { measurePipelines, pipelineWindows, type MainThreadClock } from '../camera-pipeline/windows.js';
import type { MeasureSettings } from '../measure.js';
import type { PipelineResult } from '../report.js';
import { pipelineTargets } from '../targets.js';

/** A frame size of the scenario. */
export interface FrameSize {
  readonly width: number;
  readonly height: number;
}

/** The frame sizes of a full run; a quick run takes the first only. */
export const FRAME_PIPELINE_SIZES: readonly FrameSize[] = [
  { width: 640, height: 480 },
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
];

/** The filter's effect: `none`, a pass-through copy, so the modules' GPU work is as small as it gets. */
export const FRAME_PIPELINE_EFFECT: FrameEffect = 'none';

/** The variants it builds: every one of `camera-pipeline`'s. */
export const FRAME_PIPELINE_VARIANTS: readonly PipelineVariantId[] = ['shared', 'independent', 'workers', 'naive'];

/** The pipelines of one size. */
function frameSpec(width: number, height: number): PipelineSpec {
  return { prefix: 'frame', effect: FRAME_PIPELINE_EFFECT, source: { kind: 'uncapped-pattern', width, height }, variants: FRAME_PIPELINE_VARIANTS };
}

/** The sizes a run measures: every size, 640 x 480 alone when `quick`, or the one frame `settings` sets. */
export function framePipelineSizes(quick: boolean, settings?: MeasureSettings): readonly FrameSize[] {
  if (settings?.pipelineFrame) return [settings.pipelineFrame];
  return quick ? FRAME_PIPELINE_SIZES.slice(0, 1) : FRAME_PIPELINE_SIZES;
}

/** Steps of {@link runFramePipeline}: one per window, at every size. */
export function framePipelineSteps(settings: MeasureSettings, quick: boolean): number {
  return framePipelineSizes(quick, settings).length * pipelineWindows(FRAME_PIPELINE_VARIANTS.length, settings);
}

/**
 * Measures the four pipelines at every size of the run (`quick`: 640 x 480 only), one size
 * after the other, in `stage`; `done` gets each size's result as soon as it is measured, so
 * a later size that fails leaves the earlier ones. `step` is called after every window.
 * @throws {Error} when a pipeline does not start or stops showing frames; nothing is left behind.
 */
export async function runFramePipeline(stage: HTMLElement, settings: MeasureSettings, quick: boolean, clock: MainThreadClock | undefined, step: (label: string) => void, done: (result: PipelineResult) => void): Promise<void> {
  const sizes = framePipelineSizes(quick, settings);
  const sizesText = sizes.map((s) => `${s.width} x ${s.height}`).join(', ');
  for (const { width, height } of sizes) {
    const spec = frameSpec(width, height);
    const size = `${width}x${height}`;
    const measured = await measurePipelines(() => buildPipelines(stage, spec), settings, clock, (pipeline) => { step(`frame-pipeline ${size} ${pipeline.id}`); });
    done({
      id: 'frame-pipeline',
      title: 'GPU pattern -> pass-through filter -> view, uncapped',
      measures: `The demo's <dmabuf-camera source="pattern" uncapped> (no frame-rate cap: the next frame as soon as the filter takes it) -> <dmabuf-filter> (${spec.effect}) -> <dmabuf-view> at ${sizesText}, one size after the other: frames shown per second over ${settings.windowMs} ms windows of steady running, main-thread time per frame shown (beyond the page's own while every pipeline is paused), capture-to-screen time per frame and bytes moved between devices per frame shown, on one shared device, a device per module and a worker per module (camera, filter and view each in a module worker); the naive baseline reads each frame back to the CPU and uploads it again at every module.`,
      variants: pipelineVariants(spec),
      frame: measured.frame ?? { width, height },
      cameraPath: measured.cameraPath,
      windowMs: settings.windowMs,
      mainThreadMeasured: clock !== undefined,
      restingMainThreadMsPerSecond: measured.restingMainThreadMsPerSecond,
      results: measured.results,
      buffersLeftAlive: measured.buffersLeftAlive,
      targets: pipelineTargets(`frame-pipeline@${size}`, measured.results),
    });
  }
}
