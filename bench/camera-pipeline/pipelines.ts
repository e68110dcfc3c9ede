/**
 * The pipelines the `camera-pipeline` and `frame-pipeline` scenarios compare, each built
 * from the demo's own `<dmabuf-camera>` (its camera, or its test pattern without a
 * frame-rate cap): the demo's filter and view on one shared device, the same on a device
 * each, the same with the camera, the filter and the view each in a module worker of its own
 * (the page only hosts them), and the naive baseline on a device each. A scenario's spec says which
 * of them it builds. All start paused.
 */
import { bufinfoEntries, requestGpuDevice } from 'webgpu-dmabuf';
import { ModuleStatsEvent, type DmabufCamera, type DmabufFilter, type DmabufModule, type DmabufView, type FrameEffect } from 'webgpu-dmabuf/elements';
import 'webgpu-dmabuf/elements/define';
import type { VariantInfo } from '../scenario.js';
import { NaivePipeline } from './naive-pipeline.js';

/**
 * Every variant a pipeline scenario can build, in the order they are built and shown. The
 * `workers` variant is the demo's third mode: the camera, the filter and the view each in a
 * module worker of its own, with its own device (the camera capturing or drawing its pattern
 * there, the view drawing through an `OffscreenCanvas`), each taking its source's frames
 * straight from its source's worker.
 */
export const PIPELINE_VARIANTS = [
  { id: 'shared', label: 'dmabuf, one shared device', role: 'ours' },
  { id: 'independent', label: 'dmabuf, a device per module', role: 'ours' },
  { id: 'workers', label: 'dmabuf, a worker per module', role: 'ours' },
  { id: 'naive', label: 'naive: read back, upload again', role: 'raw' },
] as const satisfies readonly VariantInfo[];

/** One variant's id. */
export type PipelineVariantId = (typeof PIPELINE_VARIANTS)[number]['id'];

/** The effect every camera pipeline's filter runs: the demo's default. */
export const PIPELINE_EFFECT: FrameEffect = 'sobel';

/** What the pipelines of one scenario are fed and run. */
export interface PipelineSpec {
  /**
   * Prefix of the modules' element ids and names (`bench` gives `bench-shared-camera`...);
   * short: a ring buffer's name (`bench independent filter frame 3`) has at most 32 bytes.
   */
  readonly prefix: string;
  /** The filter's effect. */
  readonly effect: FrameEffect;
  /**
   * The source: the camera (falling back to the pattern), or the test pattern alone, drawn
   * as fast as the pipeline takes frames (`uncapped`); at `width` x `height`.
   */
  readonly source: { readonly kind: 'camera' | 'uncapped-pattern'; readonly width: number; readonly height: number };
  /** The variants built, by id; they are built and shown in {@link PIPELINE_VARIANTS}' order whatever the order here. */
  readonly variants: readonly PipelineVariantId[];
}

/** `camera-pipeline`'s pipelines: the demo's camera at 640 x 480 and its default effect, every variant. */
export const CAMERA_PIPELINE_SPEC: PipelineSpec = { prefix: 'bench', effect: PIPELINE_EFFECT, source: { kind: 'camera', width: 640, height: 480 }, variants: PIPELINE_VARIANTS.map((v) => v.id) };

/** One entry of {@link PIPELINE_VARIANTS}. */
export type PipelineVariant = (typeof PIPELINE_VARIANTS)[number];

/** The variants `spec` builds, in the order they are built and reported. */
export function pipelineVariants(spec: PipelineSpec): PipelineVariant[] {
  return PIPELINE_VARIANTS.filter((v) => spec.variants.includes(v.id));
}

/** What the scenario reads of a running pipeline. */
export interface PipelineCounts {
  /** Frames the camera made. */
  readonly made: number;
  /** Frames drawn at the end of the pipeline. */
  readonly shown: number;
  /** Frames let go anywhere on the way. */
  readonly dropped: number;
  /** Bytes moved between devices (and realms), as the exporters' heaps count them. */
  readonly bytesCopied: number;
}

/** A pipeline under test: its camera (to pause and resume it), its counts, its teardown. Owned by whoever built it (see {@link buildPipelines}). */
export interface Pipeline {
  readonly id: PipelineVariantId;
  readonly camera: DmabufCamera;
  counts(): PipelineCounts;
  /**
   * Capture-to-screen ms of every frame shown so far, in order: from the camera's capture
   * (the frame's `capturedAt`) to the view's draw submitted, on the page's clock.
   */
  latencies(): readonly number[];
  /** Stops every module and frees every buffer and device; resolves with the dma-bufs left alive (0 when nothing leaked). */
  dispose(): Promise<number>;
}

/** Resolves when `modules` have started, or throws with the first one's error. */
async function started(modules: readonly DmabufModule[]): Promise<void> {
  await Promise.all(modules.map((m) => m.settled));
  const failed = modules.find((m) => m.status !== 'running');
  if (failed) throw new Error(`<${failed.localName} name="${failed.name}"> did not start: ${failed.error || failed.status}`);
}

function element<K extends 'dmabuf-camera' | 'dmabuf-filter' | 'dmabuf-view'>(tag: K, id: string, device: GPUDevice | undefined): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.id = id;
  el.name = id.replace(/-/g, ' ');
  el.device = device;
  return el;
}

function camera(id: string, device: GPUDevice | undefined, spec: PipelineSpec): DmabufCamera {
  const el = element('dmabuf-camera', `${id}-camera`, device);
  el.paused = true;
  el.width = spec.source.width;
  el.height = spec.source.height;
  if (spec.source.kind === 'uncapped-pattern') {
    el.source = 'pattern';
    el.uncapped = true;
  }
  return el;
}

async function removeAll(modules: readonly DmabufModule[]): Promise<void> {
  for (const m of modules) m.remove();
  await Promise.all(modules.map((m) => m.settled));
}

/** How many dma-bufs `module`'s last worker held when it stopped; one for a worker terminated without saying (what it held is unknown). */
function workerLeftAlive(module: DmabufCamera | DmabufFilter | DmabufView): number {
  return module.workerBuffersLeftAlive ?? 1;
}

/** The page's own dma-bufs named after `name`'s buffers (`NAME frame 3`): proxies of a worker's buffers, alive in the page. */
function pageBuffersOf(name: string): number {
  return bufinfoEntries().filter((entry) => entry.name.startsWith(`${name} `)).length;
}

/**
 * camera -> filter -> view of the demo, in `stage`: on `device` (`shared`), on a device each
 * (`independent`, `device` undefined), or with the camera, the filter and the view each in a
 * module worker of its own with its own device there (`workers`, as the demo's third mode: the
 * view draws through an `OffscreenCanvas` in its worker). A module in a worker reports to its
 * element in the page: frames done (the view's `frames` are frames drawn in its worker) and
 * dropped, and, with each frame an exporter makes, its heap's counts (`heapStats`); so the
 * counts read the same properties wherever the modules run.
 */
async function dmabufPipeline(stage: HTMLElement, spec: PipelineSpec, id: 'shared' | 'independent' | 'workers', device: GPUDevice | undefined): Promise<Pipeline> {
  const inWorkers = id === 'workers';
  const cam = camera(`${spec.prefix}-${id}`, device, spec);
  const filter = element('dmabuf-filter', `${spec.prefix}-${id}-filter`, device);
  filter.source = cam.id;
  filter.effect = spec.effect;
  const view = element('dmabuf-view', `${spec.prefix}-${id}-view`, device);
  view.source = filter.id;
  view.label = PIPELINE_VARIANTS.find((v) => v.id === id)?.label ?? id;
  // Set before they connect: they start in their workers.
  cam.worker = inWorkers;
  filter.worker = inWorkers;
  view.worker = inWorkers;
  const modules = [cam, filter, view];
  // The view's frame time is its capture-to-screen latency, measured where it draws (its
  // worker's clock brought onto the page's), with each frame it shows.
  const latencies: number[] = [];
  view.addEventListener(ModuleStatsEvent.type, (event) => { latencies.push(event.stats.frameMs); });
  // With workers each importer comes once its source's worker runs: it takes its frames from there.
  stage.append(...(inWorkers ? [cam] : modules));
  const dispose = async () => {
    if (!inWorkers) {
      await removeAll(modules);
      device?.destroy();
      return (cam.heapStats?.liveBuffers ?? 0) + (filter.heapStats?.liveBuffers ?? 0);
    }
    // As the demo leaves its worker mode: the importers first, each giving its source's frames
    // back and its worker terminated, then the camera. The exporters' heaps lived in their
    // workers: what each left is what its worker still listed when it stopped, and any proxy
    // of its frames left here.
    await removeAll([view, filter]);
    await removeAll([cam]);
    return workerLeftAlive(cam) + workerLeftAlive(filter) + workerLeftAlive(view) + pageBuffersOf(cam.name) + pageBuffersOf(filter.name);
  };
  try {
    if (inWorkers) {
      await started([cam]);
      stage.append(filter);
      await started([filter]);
      stage.append(view);
    }
    await started(modules);
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    id,
    camera: cam,
    counts: () => ({
      made: cam.frames,
      shown: view.frames,
      dropped: cam.dropped + filter.dropped + view.dropped,
      // Importers' maps copy in the exporter's heap: the camera's and the filter's (in their workers, as of their last frame, with workers).
      bytesCopied: (cam.heapStats?.bytesCopied ?? 0) + (filter.heapStats?.bytesCopied ?? 0),
    }),
    latencies: () => latencies,
    dispose,
  };
}

/** The demo's camera on a device of its own, then the {@link NaivePipeline} on two more. */
async function naivePipeline(stage: HTMLElement, spec: PipelineSpec): Promise<Pipeline> {
  const devices = {
    camera: await requestGpuDevice({ label: 'bench naive camera device' }),
    filter: await requestGpuDevice({ label: 'bench naive filter device' }),
    view: await requestGpuDevice({ label: 'bench naive view device' }),
  };
  const cam = camera(`${spec.prefix}-naive`, devices.camera, spec);
  const canvas = document.createElement('canvas');
  canvas.className = 'naive-view';
  stage.append(cam, canvas);
  let naive: NaivePipeline | undefined;
  const dispose = async () => {
    await naive?.stop();
    await removeAll([cam]);
    canvas.remove();
    for (const device of Object.values(devices)) device.destroy();
    return cam.heapStats?.liveBuffers ?? 0;
  };
  try {
    await started([cam]);
    naive = new NaivePipeline(cam, devices, canvas, spec.effect);
  } catch (error) {
    await dispose();
    throw error;
  }
  const running = naive;
  return {
    id: 'naive',
    camera: cam,
    counts: () => {
      const failure = running.error;
      if (failure !== undefined) throw new Error(`the naive pipeline failed: ${failure instanceof Error ? failure.message : 'see cause'}`, { cause: failure });
      return { made: cam.frames, shown: running.shown, dropped: cam.dropped + running.dropped, bytesCopied: running.bytesCopied };
    },
    latencies: () => running.latencies,
    dispose,
  };
}

/**
 * Builds the pipelines of `spec` (its `variants`, in {@link PIPELINE_VARIANTS}' order) in
 * `stage`, paused. The caller owns them and disposes of each; a `workers` pipeline's dispose
 * also terminates its workers.
 * @throws {Error} when a module does not start (no WebGPU device, no canvas context, a worker
 *   that fails to start); what was built is disposed of first.
 */
export async function buildPipelines(stage: HTMLElement, spec: PipelineSpec): Promise<Pipeline[]> {
  const built: Pipeline[] = [];
  const build: Record<PipelineVariantId, () => Promise<Pipeline>> = {
    shared: async () => dmabufPipeline(stage, spec, 'shared', await requestGpuDevice({ label: 'bench shared device' })),
    independent: () => dmabufPipeline(stage, spec, 'independent', undefined),
    workers: () => dmabufPipeline(stage, spec, 'workers', undefined),
    naive: () => naivePipeline(stage, spec),
  };
  try {
    for (const { id } of pipelineVariants(spec)) built.push(await build[id]());
    return built;
  } catch (error) {
    for (const pipeline of built) await pipeline.dispose();
    throw error;
  }
}
