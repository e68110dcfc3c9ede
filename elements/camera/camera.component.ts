import { html, type PropertyValues, type TemplateResult } from 'lit';
import type { GpuHeapStats } from 'webgpu-dmabuf';
import { rgbaFrameLayout, type FrameLayout } from '../kernels/frame-layout.js';
import { WorkerHostedModule } from '../module/worker-hosted-module.js';
import { ModuleWorkerClient } from '../worker/module-worker-client.js';
import { feedCameraWorker, type RunningFeed } from './camera-feed.js';
import { CAMERA_RING_SLOTS, CameraModule } from './camera-module.js';
import { CameraPathEvent } from './camera-path-event.js';
import { isCameraPath, type CameraPath } from './camera-path.js';
import { openCamera, readCameraFrames } from './camera-stream.js';
import { parseCameraNotice, type CameraFeed, type CameraWorkerSettings } from './camera-worker-wire.js';
import { cameraStyles } from './camera.styles.js';

/** The camera's worker entry, beside it (the form bundlers bundle): it registers the `'camera'` module. */
const spawnCameraWorker = (realm: string): Worker => new Worker(new URL('./camera.worker.ts', import.meta.url), { type: 'module', name: realm });

const PATH_TEXT: Record<CameraPath, string> = {
  'external-texture': 'importExternalTexture → compute shader',
  'copy-external-image': 'copyExternalImageToTexture → compute shader',
  'copy-to': 'VideoFrame.copyTo → writeBuffer → compute shader',
  pattern: 'test pattern drawn by a compute shader',
};

const FEED_TEXT: Record<CameraFeed, string> = {
  track: 'its track moved to the worker',
  stream: 'a stream of its frames moved to the worker',
  frames: 'each frame moved to the worker',
};

/**
 * The exporter: writes each camera frame into a ring of dma-bufs from its own heap
 * and offers it to importers as an fd.
 *
 * Frames are packed RGBA (`FrameLayout`). The camera takes the fastest path the browser
 * allows (see {@link CameraPath}) and shows it; without a camera or permission it says so
 * and draws a moving test pattern on the GPU instead, so the pipeline still runs. A ring
 * slot is written again only after every importer that took it has released its lease.
 *
 * Wire importers by giving them this element's `id` as their `source`. With `worker` set it
 * runs in a module worker of its own, on its own device there: the pattern is drawn there,
 * and the camera's frames are moved there untouched ({@link feed}); its frames come back to
 * this element as `FrameEvent`s, and an importer in a worker takes them from there directly.
 *
 * @summary The exporter: writes each camera frame into a ring of dma-bufs from its own heap and
 * offers it to importers as an fd.
 * @fires dmabuf-frame - {@link FrameEvent} on this element for each frame (does not bubble).
 * @fires dmabuf-camera-path - {@link CameraPathEvent} once the path is known.
 * @fires dmabuf-module-stats - {@link ModuleStatsEvent} after each frame.
 * @fires dmabuf-module-error - {@link ModuleErrorEvent} when the camera fails (`status` turns
 *   `failed`); its `error` is the typed error: a `DmabufElementError` (`ECAPTURE` when no frame
 *   gets into a buffer, `EGPU` on a WebGPU error of its device, `EWORKER` when its worker
 *   fails or dies) or a `DmaBufError`.
 * @csspart status - The badge that shows the module's `status`.
 * @cssprop [--dmabuf-fg=#e8eaf0] - Text colour.
 * @cssprop [--dmabuf-card=#1b1f2a] - Card background.
 * @cssprop [--dmabuf-border=#2c3344] - Card border colour.
 * @cssprop [--dmabuf-muted=#aab3c5] - Secondary text colour.
 */
export class DmabufCamera extends WorkerHostedModule<ModuleWorkerClient> {
  /** @internal The element's shadow styles (Lit). */
  static override styles = cameraStyles;

  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties = {
    source: { type: String },
    width: { type: Number },
    height: { type: Number },
    paused: { type: Boolean, reflect: true },
    uncapped: { type: Boolean, reflect: true },
    forcePath: { type: String, attribute: 'force-path' },
    path: { state: true },
    feed: { state: true },
    notice: { state: true },
    layout: { state: true },
    sourceFrameRate: { state: true },
    pausedAfter: { state: true },
  };

  /** `'camera'` (default): `getUserMedia`, falling back to the pattern; `'pattern'`: the pattern only. */
  declare source: 'camera' | 'pattern';
  /** The frame size asked of the camera (ideal), and the pattern's size. Default 640 x 480. */
  declare width: number;
  /** The frame height asked of the camera (ideal), and the pattern's. Default 480. */
  declare height: number;
  /** While set, no frame is made (importers keep showing the last one). */
  declare paused: boolean;
  /**
   * The test pattern's pace. Unset (the default): one frame per animation frame. Set: no
   * frame-rate cap, the next frame as soon as the importers take it, that is once a ring slot
   * is free and no more of its frames are held than importers took the last one (each works
   * on one, none waits behind it to be replaced by a newer one): a source for benchmarks,
   * drawing nothing that no one shows. A camera delivers frames at its own rate whatever
   * this says.
   */
  declare uncapped: boolean;
  /** Tries only this path (for tests and comparisons); empty: fastest first. */
  declare forcePath: string;
  /** The path frames take, once known. */
  declare path: CameraPath | undefined;
  /**
   * How the camera's frames reach the camera's worker (see {@link CameraFeed}), while it runs
   * in one with a camera; `undefined` in the page and for the test pattern.
   */
  declare feed: CameraFeed | undefined;
  /** Why the pattern is shown instead of the camera, if it is. */
  declare notice: string;
  /** The frames' layout, once known. */
  declare layout: FrameLayout | undefined;
  /**
   * While {@link paused}: the `sequence` of the last frame made, once the pause took effect
   * (a frame being made when it was set is finished first; in a worker the pause crosses a
   * message); `undefined` until then, and while not paused.
   */
  declare pausedAfter: number | undefined;
  /**
   * Frames per second the camera delivers (its track's settings), once it runs; `undefined`
   * for the test pattern, which is drawn once per animation frame (or, {@link uncapped}, as
   * fast as the importers take frames).
   */
  declare sourceFrameRate: number | undefined;

  #module: CameraModule | undefined;
  #reading: Promise<void> | undefined;
  #workerHeap: GpuHeapStats | undefined;
  // The worker's feed: the stream it reads, how, and how to stop the page's part.
  #stream: MediaStream | undefined;
  #feeding: RunningFeed | undefined;
  #stopFeed: () => void = () => undefined;

  constructor() {
    super('camera');
    this.source = 'camera';
    this.width = 640;
    this.height = 480;
    this.paused = false;
    this.uncapped = false;
    this.forcePath = '';
    this.path = undefined;
    this.feed = undefined;
    this.notice = '';
    this.layout = undefined;
    this.sourceFrameRate = undefined;
    this.pausedAfter = undefined;
  }

  /** The counts of the camera's heap while it runs, or of its last heap after it stopped (in a worker: as of its last frame). */
  get heapStats(): GpuHeapStats | undefined {
    return this.hostedWorker || this.worker ? this.#workerHeap : this.#module?.heapStats;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    const module = this.#module;
    if (module) {
      module.paused = this.paused;
      module.uncapped = this.uncapped;
    }
    if (changed.has('paused')) {
      this.pausedAfter = undefined;
      if (this.paused && module) void module.idle().then((sequence) => { if (this.paused && this.#module === module) this.pausedAfter = sequence; });
    }
    if (changed.has('paused') || changed.has('uncapped')) this.hostedWorker?.configure(this.#settings('pattern'));
  }

  protected override async open(device: GPUDevice): Promise<void> {
    this.#reset();
    const module = new CameraModule(device, {
      name: this.name, target: this, host: this.host,
      ...(isCameraPath(this.forcePath) ? { only: this.forcePath } : {}),
      onPath: (path, skipped) => { this.#foundPath(path, skipped); },
      onLayout: (layout) => { this.layout = layout; },
    });
    module.paused = this.paused;
    module.uncapped = this.uncapped;
    this.#module = module;
    if (this.paused) this.pausedAfter = 0;
    const stream = this.source === 'camera' ? await this.#openCamera() : undefined;
    if (!stream) {
      module.drawPattern(this.width, this.height);
      return;
    }
    this.sourceFrameRate = stream.getVideoTracks()[0]?.getSettings().frameRate;
    this.#reading = readCameraFrames(stream, module.stopped, (frame) => module.take(frame)).catch((error: unknown) => { this.fail(error); });
  }

  // The module stays, closed, for its last heap counts (heapStats) until the next start.
  protected override async close(): Promise<void> {
    await this.#module?.close();
    await this.#reading;
    this.#reading = undefined;
  }

  // In a worker, its frames come back to this element as FrameEvents: importers wire to it as
  // always; an importer in a worker takes them straight from the camera's.
  protected override async openWorker(): Promise<void> {
    this.#reset();
    this.#module = undefined;
    this.#workerHeap = undefined;
    const stream = this.source === 'camera' ? await this.#openCamera() : undefined;
    this.#stream = stream;
    let readsTracks = false;
    const onNotice = (name: string, detail: unknown): void => {
      const notice = parseCameraNotice(name, detail);
      if (notice?.name === 'feeds') readsTracks = notice.readsTracks;
      else if (notice?.name === 'path') this.#foundPath(notice.path, notice.skipped);
      else if (notice?.name === 'layout') this.layout = rgbaFrameLayout(notice.width, notice.height);
      else if (notice?.name === 'paused' && this.paused) this.pausedAfter = notice.sequence;
    };
    const client = new ModuleWorkerClient({
      role: 'camera', spawn: spawnCameraWorker, owner: `<${this.localName}>`, name: this.name, host: this.host,
      settings: this.#settings(stream ? 'camera' : 'pattern'), output: this, onNotice, pageFrames: this.pageImportsFrames,
      onHeap: (heap) => { this.#workerHeap = heap; },
    });
    await this.startWorker(client);
    if (!stream) return;
    this.sourceFrameRate = stream.getVideoTracks()[0]?.getSettings().frameRate;
    const stopped = new Promise<void>((resolve) => { this.#stopFeed = resolve; });
    this.#feeding = feedCameraWorker(stream, client, readsTracks, stopped);
    this.feed = this.#feeding.feed;
    this.#feeding.done.catch((error: unknown) => { this.fail(error); });
  }

  protected override async closeWorker(): Promise<void> {
    // The page's part of the feed first: no frame is moved to a worker that stops.
    this.#stopFeed();
    await this.#feeding?.done.catch(() => undefined);
    this.#feeding = undefined;
    try {
      await super.closeWorker();
    } finally {
      for (const track of this.#stream?.getTracks() ?? []) track.stop();
      this.#stream = undefined;
    }
  }

  #reset(): void {
    this.pausedAfter = undefined;
    this.path = undefined;
    this.feed = undefined;
    this.layout = undefined;
    this.sourceFrameRate = undefined;
  }

  /** The settings its worker entry takes. */
  #settings(source: 'camera' | 'pattern'): CameraWorkerSettings {
    return { source, width: this.width, height: this.height, paused: this.paused, uncapped: this.uncapped, forcePath: this.forcePath };
  }

  async #openCamera(): Promise<MediaStream | undefined> {
    this.notice = '';
    const opening = await openCamera(this.width, this.height);
    if ('notice' in opening) {
      this.notice = opening.notice;
      return undefined;
    }
    return opening.stream;
  }

  #foundPath(path: CameraPath, skipped: readonly string[]): void {
    this.path = path;
    this.dispatchEvent(new CameraPathEvent(path, skipped));
  }

  #togglePause(): void {
    this.paused = !this.paused;
  }

  override render(): TemplateResult {
    const size = this.layout ? `${this.layout.width} × ${this.layout.height}` : '…';
    const sequence = this.#module?.sequence ?? this.frames;
    return html`
      <div class="title"><h2>Camera <span class="meta">exporter</span></h2><span class="badge" part="status">${this.status}</span></div>
      <p class="meta" data-path=${this.path ?? ''}>Path: <code>${this.path ? PATH_TEXT[this.path] : 'finding out…'}</code>${this.feed ? html` · <span data-feed=${this.feed}>${FEED_TEXT[this.feed]}</span>` : null}</p>
      <p class="meta">Frame: <code>${size}</code> RGBA in a ring of ${CAMERA_RING_SLOTS} dma-bufs · sequence <code>${sequence}</code>${this.sourceFrameRate ? html` · camera at <code>${this.sourceFrameRate.toFixed(0)}</code> fps` : null}${this.uncapped && this.path === 'pattern' ? html` · uncapped: the next frame as soon as it is taken` : null}</p>
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : null}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : null}
      <div class="controls">
        <button type="button" aria-pressed=${this.paused ? 'true' : 'false'} @click=${this.#togglePause}>${this.paused ? 'Resume' : 'Pause'}</button>
      </div>
    `;
  }
}
