import { html, type TemplateResult } from 'lit';
import { FdTable, GpuHeap, type GpuHeapStats } from 'webgpu-dmabuf';
import { FrameRing, type RingSlot } from '../frame/frame-ring.js';
import { DmabufModule } from '../frame/module-element.js';
import { frameBinding } from '../kernels/frame-buffer.js';
import { rgbaFrameLayout, type FrameLayout } from '../kernels/frame-layout.js';
import { PlanesToFrame } from '../kernels/planes-to-frame.js';
import { TestPatternKernel } from '../kernels/test-pattern.js';
import { TextureToFrame } from '../kernels/texture-to-frame.js';
import { CameraPathEvent } from './camera-path-event.js';
import { CAMERA_PATHS, isCameraPath, type CameraPath } from './camera-path.js';
import { cameraStyles } from './camera.styles.js';

/** Chromium's `MediaStreamTrackProcessor`: a camera track as a stream of `VideoFrame`s. */
interface TrackProcessor {
  readonly readable: ReadableStream<VideoFrame>;
}
type TrackProcessorClass = new (init: { track: MediaStreamTrack }) => TrackProcessor;

/** Slots in the ring: one being written, the rest held by importers (a view keeps the frame on screen). */
const RING_SLOTS = 4;

const PATH_TEXT: Record<CameraPath, string> = {
  'external-texture': 'importExternalTexture → compute shader',
  'copy-external-image': 'copyExternalImageToTexture → compute shader',
  'copy-to': 'VideoFrame.copyTo → writeBuffer → compute shader',
  pattern: 'test pattern drawn by a compute shader',
};

/** The next animation frame, or `undefined` at once when `stop` settles first. */
function nextAnimationFrame(stop: Promise<void>): Promise<number | undefined> {
  let id = 0;
  return Promise.race([
    new Promise<number>((resolve) => { id = requestAnimationFrame(resolve); }),
    stop.then(() => { cancelAnimationFrame(id); return undefined; }),
  ]);
}

/**
 * How long an {@link DmabufCamera.uncapped} pattern waits before it looks at its ring again,
 * ms: the ring tells no one when a lease comes back. (Browsers stretch nested timers to 4 ms.)
 */
const RING_POLL_MS = 1;

/** {@link RING_POLL_MS}, or less when `stop` settles first. */
function ringWait(stop: Promise<void>): Promise<void> {
  let id = 0;
  return Promise.race([
    new Promise<void>((resolve) => { id = window.setTimeout(resolve, RING_POLL_MS); }),
    stop.then(() => { clearTimeout(id); }),
  ]);
}

/**
 * The exporter: writes each camera frame into a ring of dma-bufs from its own heap
 * and offers it to importers as an fd.
 *
 * Frames are packed RGBA (`FrameLayout`). The camera takes the fastest path the browser
 * allows (see {@link CameraPath}) and shows it; without a camera or permission it says so
 * and draws a moving test pattern on the GPU instead, so the pipeline still runs. A ring
 * slot is written again only after every importer that took it has released its lease.
 *
 * Wire importers by giving them this element's `id` as their `source`.
 *
 * @summary The exporter: writes each camera frame into a ring of dma-bufs from its own heap and
 * offers it to importers as an fd.
 * @fires dmabuf-frame - {@link FrameEvent} on this element for each frame (does not bubble).
 * @fires dmabuf-camera-path - {@link CameraPathEvent} once the path is known.
 * @fires dmabuf-module-stats - {@link ModuleStatsEvent} after each frame.
 * @csspart status - The badge that shows the module's `status`.
 * @cssprop [--dmabuf-fg=#e8eaf0] - Text colour.
 * @cssprop [--dmabuf-card=#1b1f2a] - Card background.
 * @cssprop [--dmabuf-border=#2c3344] - Card border colour.
 * @cssprop [--dmabuf-muted=#aab3c5] - Secondary text colour.
 */
export class DmabufCamera extends DmabufModule {
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
    notice: { state: true },
    layout: { state: true },
    sourceFrameRate: { state: true },
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
  /** Why the pattern is shown instead of the camera, if it is. */
  declare notice: string;
  /** The frames' layout, once known. */
  declare layout: FrameLayout | undefined;
  /**
   * Frames per second the camera delivers (its track's settings), once it runs; `undefined`
   * for the test pattern, which is drawn once per animation frame (or, {@link uncapped}, as
   * fast as the importers take frames).
   */
  declare sourceFrameRate: number | undefined;

  #table: FdTable | undefined;
  #heap: GpuHeap | undefined;
  #lastStats: GpuHeapStats | undefined;
  #ring: FrameRing | undefined;
  #kernels: { texture?: TextureToFrame; external?: TextureToFrame; planes?: PlanesToFrame; pattern?: TestPatternKernel } = {};
  #texture: GPUTexture | undefined;
  #loop: Promise<void> | undefined;
  #stop: () => void = () => undefined;
  #sequence = 0;

  constructor() {
    super('camera');
    this.source = 'camera';
    this.width = 640;
    this.height = 480;
    this.paused = false;
    this.uncapped = false;
    this.forcePath = '';
    this.path = undefined;
    this.notice = '';
    this.layout = undefined;
    this.sourceFrameRate = undefined;
  }

  /** The counts of the camera's heap while it runs, or of its last heap after it stopped. */
  get heapStats(): GpuHeapStats | undefined {
    return this.#heap?.stats() ?? this.#lastStats;
  }

  protected override async open(device: GPUDevice): Promise<void> {
    this.#table = new FdTable();
    this.#heap = new GpuHeap(device, { name: this.name });
    this.#sequence = 0;
    this.path = undefined;
    this.sourceFrameRate = undefined;
    const stopped = new Promise<void>((resolve) => { this.#stop = resolve; });
    const stream = this.source === 'camera' ? await this.#openCamera() : undefined;
    this.#loop = (stream ? this.#cameraLoop(device, stream, stopped) : this.#patternLoop(device, stopped)).catch((error: unknown) => {
      this.fail(error);
    });
  }

  protected override async close(): Promise<void> {
    this.#stop();
    await this.#loop;
    this.#loop = undefined;
    if (this.#ring) {
      this.#ring.revoke();
      await this.#ring.idle();
      this.#ring.dispose();
      this.#ring = undefined;
    }
    for (const kernel of Object.values(this.#kernels)) kernel.destroy();
    this.#kernels = {};
    this.#texture?.destroy();
    this.#texture = undefined;
    this.#table?.closeAll();
    this.#table = undefined;
    // Every buffer is put by now: free the heap's pools and stop it following the device.
    this.#heap?.destroy();
    this.#lastStats = this.#heap?.stats();
    this.#heap = undefined;
  }

  async #openCamera(): Promise<MediaStream | undefined> {
    this.notice = '';
    if (!('mediaDevices' in navigator) || typeof navigator.mediaDevices.getUserMedia !== 'function') {
      this.notice = 'This browser offers no camera here (navigator.mediaDevices needs a secure context such as https or localhost). Showing a test pattern drawn on the GPU instead.';
      return undefined;
    }
    try {
      return await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: this.width }, height: { ideal: this.height } }, audio: false });
    } catch (error) {
      const name = error instanceof DOMException ? error.name : '';
      const why = name === 'NotAllowedError' ? 'Camera permission was refused' : name === 'NotFoundError' ? 'No camera was found' : `The camera could not be opened (${String(error)})`;
      this.notice = `${why}. Showing a test pattern drawn on the GPU instead.`;
      return undefined;
    }
  }

  async #cameraLoop(device: GPUDevice, stream: MediaStream, stopped: Promise<void>): Promise<void> {
    const [track] = stream.getVideoTracks();
    try {
      if (!track) throw new Error('the camera stream has no video track');
      this.sourceFrameRate = track.getSettings().frameRate;
      const Processor = (globalThis as { MediaStreamTrackProcessor?: TrackProcessorClass }).MediaStreamTrackProcessor;
      if (Processor) {
        const reader = new Processor({ track }).readable.getReader();
        void stopped.then(() => reader.cancel());
        for (;;) {
          const { value: frame, done } = await reader.read();
          if (done) break;
          await this.#take(device, frame);
        }
      } else {
        await this.#videoLoop(device, stream, stopped);
      }
    } finally {
      for (const t of stream.getTracks()) t.stop();
    }
  }

  /** Browsers without `MediaStreamTrackProcessor`: a `<video>` and `requestVideoFrameCallback`. */
  async #videoLoop(device: GPUDevice, stream: MediaStream, stopped: Promise<void>): Promise<void> {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    try {
      for (;;) {
        const shown = await Promise.race([new Promise<boolean>((resolve) => video.requestVideoFrameCallback(() => { resolve(true); })), stopped.then(() => false)]);
        if (!shown) break;
        await this.#take(device, new VideoFrame(video, { timestamp: performance.now() * 1000 }));
      }
    } finally {
      video.pause();
      video.srcObject = null;
    }
  }

  async #take(device: GPUDevice, frame: VideoFrame): Promise<void> {
    try {
      if (this.paused) return;
      const layout = rgbaFrameLayout(frame.displayWidth, frame.displayHeight);
      if ((await this.#produce(device, layout, (dst) => this.#writeFrame(device, frame, dst, layout))) === undefined) this.frameDropped();
    } finally {
      frame.close();
    }
  }

  /**
   * The test pattern: one frame per animation frame, dropped when the ring is full; or,
   * {@link uncapped} (and not paused), the next frame as soon as the importers take it,
   * waiting (never dropping a frame) while they still hold as many as took the last one, or
   * the ring is full.
   */
  async #patternLoop(device: GPUDevice, stopped: Promise<void>): Promise<void> {
    this.#foundPath('pattern', []);
    const layout = rgbaFrameLayout(this.width, this.height);
    const kernel = (this.#kernels.pattern ??= new TestPatternKernel(device));
    const draw = (time: number) => (dst: GPUBufferBinding) => {
      const encoder = device.createCommandEncoder({ label: 'camera pattern' });
      kernel.encode(encoder, time / 1000, dst, layout);
      device.queue.submit([encoder.finish()]);
      return Promise.resolve();
    };
    const stop = { now: false };
    void stopped.then(() => { stop.now = true; });
    // Importers that took the last frame: while more frames than that are held, one waits to be replaced.
    let taken = 0;
    while (!stop.now) {
      if (this.uncapped && !this.paused) {
        const held = this.#ring?.leases ?? 0;
        const offered = held > taken ? undefined : await this.#produce(device, layout, draw(performance.now()));
        if (offered === undefined) await ringWait(stopped);
        else taken = offered;
        continue;
      }
      const time = await nextAnimationFrame(stopped);
      if (time === undefined) break;
      if (this.paused) continue;
      if ((await this.#produce(device, layout, draw(time))) === undefined) this.frameDropped();
    }
  }

  /**
   * One frame: a free slot, `write` into it, wait for the GPU, offer it to importers.
   * Resolves with how many importers took it, or `undefined`, with nothing written, when
   * every slot is held or being written.
   */
  async #produce(device: GPUDevice, layout: FrameLayout, write: (dst: GPUBufferBinding) => Promise<void>): Promise<number | undefined> {
    const started = performance.now();
    const ring = await this.#ringFor(layout);
    const slot = await ring.acquire();
    if (!slot) return undefined;
    await this.#fill(ring, slot, device, write);
    this.#sequence += 1;
    const frame = { layout, sequence: this.#sequence, origin: this.#sequence, capturedAt: started, exporter: this.name };
    const taken = await ring.publish(slot, frame, this);
    this.frameDone(performance.now() - started, this.#heap?.stats(), this.path ?? '');
    return taken;
  }

  async #fill(ring: FrameRing, slot: RingSlot, device: GPUDevice, write: (dst: GPUBufferBinding) => Promise<void>): Promise<void> {
    try {
      await write(frameBinding(slot.sgt));
      await device.queue.onSubmittedWorkDone();
    } catch (error) {
      await ring.abandon(slot);
      throw error;
    }
  }

  async #ringFor(layout: FrameLayout): Promise<FrameRing> {
    const current = this.#ring;
    if (current && current.layout.byteLength === layout.byteLength && current.layout.width === layout.width) return current;
    const heap = this.#heap;
    const table = this.#table;
    if (!heap || !table) throw new Error('<dmabuf-camera>: not running');
    if (current) {
      await current.idle();
      current.dispose();
    }
    this.layout = layout;
    this.#ring = new FrameRing(heap, table, layout, RING_SLOTS, `${this.name} frame`);
    return this.#ring;
  }

  /** Writes `frame` into `dst` by the known path, or finds the fastest that works. */
  async #writeFrame(device: GPUDevice, frame: VideoFrame, dst: GPUBufferBinding, layout: FrameLayout): Promise<void> {
    if (this.path) {
      await this.#writeBy(this.path, device, frame, dst, layout);
      return;
    }
    const order = isCameraPath(this.forcePath) ? [this.forcePath] : CAMERA_PATHS;
    const skipped: string[] = [];
    for (const path of order) {
      try {
        await this.#writeBy(path, device, frame, dst, layout);
        this.#foundPath(path, skipped);
        return;
      } catch (error) {
        skipped.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    throw new Error(`no way to get camera frames into a buffer worked: ${skipped.join('; ')}`);
  }

  #foundPath(path: CameraPath, skipped: readonly string[]): void {
    this.path = path;
    this.dispatchEvent(new CameraPathEvent(path, skipped));
  }

  /** One path; rejects (with nothing written) when the browser refuses it. */
  async #writeBy(path: CameraPath, device: GPUDevice, frame: VideoFrame, dst: GPUBufferBinding, layout: FrameLayout): Promise<void> {
    device.pushErrorScope('validation');
    let thrown: unknown;
    try {
      if (path === 'external-texture') {
        // Import and submit in one task: an external texture expires when the task ends.
        const kernel = (this.#kernels.external ??= new TextureToFrame(device, 'external'));
        const source = device.importExternalTexture({ source: frame });
        const encoder = device.createCommandEncoder({ label: 'camera external texture' });
        kernel.encode(encoder, source, dst, layout);
        device.queue.submit([encoder.finish()]);
      } else if (path === 'copy-external-image') {
        const kernel = (this.#kernels.texture ??= new TextureToFrame(device, 'texture'));
        const texture = this.#textureFor(device, layout);
        device.queue.copyExternalImageToTexture({ source: frame }, { texture }, { width: layout.width, height: layout.height });
        const encoder = device.createCommandEncoder({ label: 'camera texture' });
        kernel.encode(encoder, texture.createView(), dst, layout);
        device.queue.submit([encoder.finish()]);
      } else {
        const format = frame.format;
        if (!PlanesToFrame.reads(format)) throw new Error(`VideoFrame format ${String(format)} is not one the planes kernel reads`);
        const bytes = new Uint8Array(frame.allocationSize());
        const planes = await frame.copyTo(bytes);
        const kernel = (this.#kernels.planes ??= new PlanesToFrame(device));
        const encoder = device.createCommandEncoder({ label: 'camera planes' });
        kernel.encode(encoder, bytes, format, planes, frame.colorSpace.fullRange ?? false, dst, layout);
        device.queue.submit([encoder.finish()]);
      }
    } catch (error) {
      thrown = error;
    }
    const invalid = await device.popErrorScope();
    if (thrown !== undefined) throw thrown instanceof Error ? thrown : new Error(`the path ${path} threw`, { cause: thrown });
    if (invalid) throw new Error(invalid.message);
  }

  #textureFor(device: GPUDevice, layout: FrameLayout): GPUTexture {
    const texture = this.#texture;
    if (texture?.width === layout.width && texture.height === layout.height) return texture;
    texture?.destroy();
    this.#texture = device.createTexture({
      label: 'camera picture',
      size: [layout.width, layout.height],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
    });
    return this.#texture;
  }

  #togglePause(): void {
    this.paused = !this.paused;
  }

  override render(): TemplateResult {
    const size = this.layout ? `${this.layout.width} × ${this.layout.height}` : '…';
    return html`
      <div class="title"><h2>Camera <span class="meta">exporter</span></h2><span class="badge" part="status">${this.status}</span></div>
      <p class="meta" data-path=${this.path ?? ''}>Path: <code>${this.path ? PATH_TEXT[this.path] : 'finding out…'}</code></p>
      <p class="meta">Frame: <code>${size}</code> RGBA in a ring of ${RING_SLOTS} dma-bufs · sequence <code>${this.#sequence}</code>${this.sourceFrameRate ? html` · camera at <code>${this.sourceFrameRate.toFixed(0)}</code> fps` : null}${this.uncapped && this.path === 'pattern' ? html` · uncapped: the next frame as soon as it is taken` : null}</p>
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : null}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : null}
      <div class="controls">
        <button type="button" aria-pressed=${this.paused ? 'true' : 'false'} @click=${this.#togglePause}>${this.paused ? 'Resume' : 'Pause'}</button>
      </div>
    `;
  }
}
