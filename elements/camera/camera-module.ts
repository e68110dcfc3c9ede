import type { GpuHeapStats } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import { FrameExporter } from '../frame/frame-exporter.js';
import { rgbaFrameLayout, type FrameLayout } from '../kernels/frame-layout.js';
import type { ModuleHost } from '../module/module-host.js';
import type { CameraPath } from './camera-path.js';
import { TestPatternCapture } from './capture/test-pattern-capture.js';
import type { VideoFramePath } from './capture/frame-capture.js';
import { VideoFrameCapture } from './capture/video-frame-capture.js';
import { nextPatternFrame, ringWait } from './pattern-pacing.js';

/** Slots in the ring: one being written, the rest held by importers (a view keeps the frame on screen). */
export const CAMERA_RING_SLOTS = 4;

/** How a {@link CameraModule} is set up. */
export interface CameraModuleOptions {
  /** The module's name: its heap's and buffers' names, and the `exporter` of its frames. */
  readonly name: string;
  /** Where it dispatches its `FrameEvent`s: the element that hosts it; by default an `EventTarget` of its own. */
  readonly target?: EventTarget;
  /** Where it reports frames done and dropped, and its failure. */
  readonly host: ModuleHost;
  /** The one capture path to try (for tests); all of them, fastest first, when absent. */
  readonly only?: VideoFramePath;
  /** Called once the path its frames take is known, with why faster ones were not taken. */
  readonly onPath: (path: CameraPath, skipped: readonly string[]) => void;
  /** Called when the frames' size changes (the first frame's included). */
  readonly onLayout?: (layout: FrameLayout) => void;
}

/**
 * The camera's work, without an element: on its device, it writes each camera frame
 * (`VideoFrame`) into a ring slot of its own {@link FrameExporter} by the fastest capture path
 * that works ({@link take}, {@link readFrames}, {@link offer}), or draws the moving test
 * pattern ({@link drawPattern}), and offers each frame to importers on {@link target}. A frame
 * that finds no free ring slot is dropped.
 *
 * The test pattern is drawn as it is at the frame's capture time on the clock every realm
 * shares (`performance.timeOrigin + capturedAt`), so that a frame made in a worker is the
 * frame the page would have made at that instant.
 *
 * {@link close} stops it and frees its table, heap and kernels; the device stays the caller's.
 * Realm: any realm with WebGPU, the page or a worker: it needs no DOM.
 */
export class CameraModule {
  /** While set, no frame is made (importers keep the last one). */
  paused = false;
  /** The pattern's pace: unset, one frame per animation frame; set, as soon as the importers take one (see `<dmabuf-camera uncapped>`). */
  uncapped = false;
  /** Where it dispatches its `FrameEvent`s. */
  readonly target: EventTarget;
  /** Resolves once {@link close} was called: a frame source reading for {@link take} stops then. */
  readonly stopped: Promise<void>;
  readonly #device: GPUDevice;
  readonly #options: CameraModuleOptions;
  readonly #exporter: FrameExporter;
  #stop: () => void = () => undefined;
  #closed = false;
  #capture: VideoFrameCapture | undefined;
  #pattern: TestPatternCapture | undefined;
  #path: CameraPath | undefined;
  #loop: Promise<void> = Promise.resolve();
  #busy: Promise<void> | undefined;
  #producing: Promise<unknown> = Promise.resolve();
  #taking = false;

  /** Makes its table and heap on `device`; frames come with {@link drawPattern} or the camera's frames. */
  constructor(device: GPUDevice, options: CameraModuleOptions) {
    this.#device = device;
    this.#options = options;
    this.target = options.target ?? new EventTarget();
    this.#exporter = new FrameExporter(device, { name: options.name, slots: CAMERA_RING_SLOTS, target: this.target });
    this.stopped = new Promise((resolve) => { this.#stop = resolve; });
  }

  /** Its heap's counts while it runs; after {@link close}, the last counts of the heap. */
  get heapStats(): GpuHeapStats {
    return this.#exporter.heapStats;
  }

  /** The layout of its frames, once it made one. */
  get layout(): FrameLayout | undefined {
    return this.#exporter.layout;
  }

  /** Frames made so far (the last one's `sequence`). */
  get sequence(): number {
    return this.#exporter.sequence;
  }

  /** The path its frames take, once known. */
  get path(): CameraPath | undefined {
    return this.#path;
  }

  /**
   * Writes one camera frame into a free ring slot and offers it (dropped, when paused or with
   * no free slot). Owns `frame` and closes it. Resolves once the frame is offered or dropped.
   * @throws {DmabufElementError} `ECAPTURE` when no capture path works for the first frame; the path's own error later.
   */
  async take(frame: VideoFrame): Promise<void> {
    const taking = this.#take(frame);
    this.#busy = taking.then(() => undefined, () => undefined);
    await taking;
  }

  /**
   * Takes `frame` unless a frame is still being written, else drops it: for frames that come
   * as they are made, with no way to wait (moved from the page one by one). Owns and closes it;
   * a failure fails the module.
   */
  offer(frame: VideoFrame): void {
    if (this.#taking) {
      frame.close();
      this.#options.host.frameDropped();
      return;
    }
    this.#taking = true;
    this.take(frame).catch((error: unknown) => { this.#options.host.fail(error); }).finally(() => { this.#taking = false; });
  }

  /** Takes each frame of `frames`, one at a time, until the stream ends or {@link close}; then cancels it. A failure fails the module. */
  readFrames(frames: ReadableStream<VideoFrame>): void {
    this.#run(async () => {
      const reader = frames.getReader();
      // A stream that errored rejects the cancel: its read has already ended the loop.
      void this.stopped.then(() => reader.cancel()).catch(() => undefined);
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) break;
        await this.take(frame);
      }
    });
  }

  /**
   * The test pattern at `width` x `height`: one frame per animation frame (a timer at the
   * display's rate where the realm has no `requestAnimationFrame`), dropped when the ring is
   * full; or, {@link uncapped} (and not paused), the next frame as soon as the importers take
   * it, waiting (never dropping a frame) while they still hold as many as took the last one,
   * or the ring is full. A failure fails the module.
   */
  drawPattern(width: number, height: number): void {
    this.#found('pattern', []);
    const layout = rgbaFrameLayout(width, height);
    const pattern = (this.#pattern ??= new TestPatternCapture(this.#device));
    const draw = (dst: GPUBufferBinding, capturedAt: number) => { pattern.draw(capturedAt + performance.timeOrigin, dst, layout); };
    this.#run(async () => {
      // Importers that took the last frame: while more frames than that are held, one waits to be replaced.
      let taken = 0;
      while (!this.#closed) {
        if (this.uncapped && !this.paused) {
          const offered = this.#exporter.leases > taken ? undefined : await this.#produce(layout, draw);
          if (offered === undefined) await ringWait(this.stopped);
          else taken = offered;
          continue;
        }
        if (!(await nextPatternFrame(this.stopped))) break;
        if (this.paused) continue;
        if ((await this.#produce(layout, draw)) === undefined) this.#options.host.frameDropped();
      }
    });
  }

  /**
   * Resolves, once no frame is being made, with the last frame's `sequence`: after
   * {@link paused} is set, the last frame made before the pause took effect.
   */
  async idle(): Promise<number> {
    await this.#busy;
    await this.#producing;
    return this.sequence;
  }

  /**
   * Stops: makes no more frames, waits for the one in progress, takes every frame it lent
   * back (see {@link FrameExporter.close}), then frees its kernels. Calls after the first do
   * the same again at no cost.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stop();
    await this.#loop;
    await this.#busy;
    try {
      await this.#exporter.close();
    } finally {
      this.#capture?.destroy();
      this.#capture = undefined;
      this.#pattern?.destroy();
      this.#pattern = undefined;
    }
  }

  #run(loop: () => Promise<void>): void {
    this.#loop = loop().catch((error: unknown) => { this.#options.host.fail(error); });
  }

  async #take(frame: VideoFrame): Promise<void> {
    try {
      if (this.paused || this.#closed) return;
      const capture = (this.#capture ??= new VideoFrameCapture(this.#device, (path, skipped) => { this.#found(path, skipped); }, this.#options.only));
      const layout = rgbaFrameLayout(frame.displayWidth, frame.displayHeight);
      if ((await this.#produce(layout, (dst) => capture.write(frame, dst, layout))) === undefined) this.#options.host.frameDropped();
    } finally {
      frame.close();
    }
  }

  /**
   * One frame through the exporter: a free slot, `write` into it (given the frame's capture
   * time), offered to importers. Resolves with how many importers took it, or `undefined`,
   * with nothing written, when every slot is held or being written.
   */
  async #produce(layout: FrameLayout, write: (dst: GPUBufferBinding, capturedAt: number) => Promise<void> | void): Promise<number | undefined> {
    if (this.#closed) throw new DmabufElementError('ENOTRUNNING', `${this.#options.name}.produce`, 'the camera is closed');
    const exporter = this.#exporter;
    const current = exporter.layout;
    if (current?.width !== layout.width || current.height !== layout.height) this.#options.onLayout?.(layout);
    const producing = exporter.produce(layout, write);
    this.#producing = producing.catch(() => undefined);
    const offered = await producing;
    if (!offered) return undefined;
    this.#options.host.frameDone(performance.now() - offered.frame.capturedAt, exporter.heapStats, this.#path ?? '');
    return offered.taken;
  }

  #found(path: CameraPath, skipped: readonly string[]): void {
    this.#path = path;
    this.#options.onPath(path, skipped);
  }
}
