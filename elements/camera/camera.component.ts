import { html, type TemplateResult } from 'lit';
import type { GpuHeapStats } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import { FrameExporter } from '../frame/frame-exporter.js';
import { rgbaFrameLayout, type FrameLayout } from '../kernels/frame-layout.js';
import { DmabufModule } from '../module/module-element.js';
import { CameraPathEvent } from './camera-path-event.js';
import { isCameraPath, type CameraPath } from './camera-path.js';
import { openCamera, readCameraFrames } from './camera-stream.js';
import { cameraStyles } from './camera.styles.js';
import { TestPatternCapture } from './capture/test-pattern-capture.js';
import { VideoFrameCapture } from './capture/video-frame-capture.js';
import { nextAnimationFrame, ringWait } from './pattern-pacing.js';

/** Slots in the ring: one being written, the rest held by importers (a view keeps the frame on screen). */
const RING_SLOTS = 4;

const PATH_TEXT: Record<CameraPath, string> = {
  'external-texture': 'importExternalTexture → compute shader',
  'copy-external-image': 'copyExternalImageToTexture → compute shader',
  'copy-to': 'VideoFrame.copyTo → writeBuffer → compute shader',
  pattern: 'test pattern drawn by a compute shader',
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
 * Wire importers by giving them this element's `id` as their `source`.
 *
 * @summary The exporter: writes each camera frame into a ring of dma-bufs from its own heap and
 * offers it to importers as an fd.
 * @fires dmabuf-frame - {@link FrameEvent} on this element for each frame (does not bubble).
 * @fires dmabuf-camera-path - {@link CameraPathEvent} once the path is known.
 * @fires dmabuf-module-stats - {@link ModuleStatsEvent} after each frame.
 * @fires dmabuf-module-error - {@link ModuleErrorEvent} when the camera fails (`status` turns
 *   `failed`); its `error` is the typed error: a `DmabufElementError` (`ECAPTURE` when no frame
 *   gets into a buffer, `EGPU` on a WebGPU error of its device) or a `DmaBufError`.
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

  #exporter: FrameExporter | undefined;
  #capture: VideoFrameCapture | undefined;
  #pattern: TestPatternCapture | undefined;
  #loop: Promise<void> | undefined;
  #stop: () => void = () => undefined;

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
    return this.#exporter?.heapStats;
  }

  protected override async open(device: GPUDevice): Promise<void> {
    this.#exporter = new FrameExporter(device, { name: this.name, slots: RING_SLOTS, target: this });
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
    try {
      await this.#exporter?.close();
    } finally {
      this.#capture?.destroy();
      this.#capture = undefined;
      this.#pattern?.destroy();
      this.#pattern = undefined;
    }
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

  async #cameraLoop(device: GPUDevice, stream: MediaStream, stopped: Promise<void>): Promise<void> {
    this.sourceFrameRate = stream.getVideoTracks()[0]?.getSettings().frameRate;
    const only = isCameraPath(this.forcePath) ? this.forcePath : undefined;
    const capture = new VideoFrameCapture(device, (path, skipped) => { this.#foundPath(path, skipped); }, only);
    this.#capture = capture;
    await readCameraFrames(stream, stopped, (frame) => this.#take(capture, frame));
  }

  async #take(capture: VideoFrameCapture, frame: VideoFrame): Promise<void> {
    try {
      if (this.paused) return;
      const layout = rgbaFrameLayout(frame.displayWidth, frame.displayHeight);
      if ((await this.#produce(layout, (dst) => capture.write(frame, dst, layout))) === undefined) this.frameDropped();
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
    const pattern = (this.#pattern ??= new TestPatternCapture(device));
    const draw = (time: number) => (dst: GPUBufferBinding) => { pattern.draw(time, dst, layout); };
    const stop = { now: false };
    void stopped.then(() => { stop.now = true; });
    // Importers that took the last frame: while more frames than that are held, one waits to be replaced.
    let taken = 0;
    while (!stop.now) {
      if (this.uncapped && !this.paused) {
        const held = this.#exporter?.leases ?? 0;
        const offered = held > taken ? undefined : await this.#produce(layout, draw(performance.now()));
        if (offered === undefined) await ringWait(stopped);
        else taken = offered;
        continue;
      }
      const time = await nextAnimationFrame(stopped);
      if (time === undefined) break;
      if (this.paused) continue;
      if ((await this.#produce(layout, draw(time))) === undefined) this.frameDropped();
    }
  }

  /**
   * One frame through the exporter: a free slot, `write` into it, offered to importers.
   * Resolves with how many importers took it, or `undefined`, with nothing written, when
   * every slot is held or being written.
   */
  async #produce(layout: FrameLayout, write: (dst: GPUBufferBinding) => Promise<void> | void): Promise<number | undefined> {
    const exporter = this.#exporter;
    if (!exporter) throw new DmabufElementError('ENOTRUNNING', '<dmabuf-camera>', 'not running');
    // A new frame size: the exporter makes a new ring for it.
    const current = exporter.layout;
    if (current?.width !== layout.width || current.height !== layout.height) this.layout = layout;
    const offered = await exporter.produce(layout, write);
    if (!offered) return undefined;
    this.frameDone(performance.now() - offered.frame.capturedAt, exporter.heapStats, this.path ?? '');
    return offered.taken;
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
    return html`
      <div class="title"><h2>Camera <span class="meta">exporter</span></h2><span class="badge" part="status">${this.status}</span></div>
      <p class="meta" data-path=${this.path ?? ''}>Path: <code>${this.path ? PATH_TEXT[this.path] : 'finding out…'}</code></p>
      <p class="meta">Frame: <code>${size}</code> RGBA in a ring of ${RING_SLOTS} dma-bufs · sequence <code>${this.#exporter?.sequence ?? 0}</code>${this.sourceFrameRate ? html` · camera at <code>${this.sourceFrameRate.toFixed(0)}</code> fps` : null}${this.uncapped && this.path === 'pattern' ? html` · uncapped: the next frame as soon as it is taken` : null}</p>
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : null}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : null}
      <div class="controls">
        <button type="button" aria-pressed=${this.paused ? 'true' : 'false'} @click=${this.#togglePause}>${this.paused ? 'Resume' : 'Pause'}</button>
      </div>
    `;
  }
}
