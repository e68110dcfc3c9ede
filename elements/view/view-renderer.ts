import { FdTable } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import { FrameInbox, type InboxFrame } from '../frame/frame-inbox.js';
import type { FrameInfo, FrameLease } from '../frame/frame-info.js';
import { FrameImport } from '../frame/import-frame.js';
import { FrameBlit } from '../kernels/frame-blit.js';
import { frameBinding } from '../kernels/frame-buffer.js';
import type { ModuleHost } from '../module/module-host.js';
import type { ViewCapture } from './view-capture.js';

/** How a {@link ViewRenderer} is set up. */
export interface ViewRendererOptions {
  /**
   * The canvas it draws on: a `<canvas>` in the page, or an `OffscreenCanvas` (one made in a
   * worker, or handed there by `transferControlToOffscreen()`). It sizes the canvas to each
   * frame and configures its WebGPU context for its device.
   */
  readonly canvas: HTMLCanvasElement | OffscreenCanvas;
  /** Where its source's `FrameEvent`s are dispatched (a camera, a filter). */
  readonly source: EventTarget;
  /** Where it reports frames drawn (`frameMs`: capture to display) and dropped, and its failure. */
  readonly host: ModuleHost;
  /** Called with each frame drawn and its time from capture to display (ms), before it is reported to {@link host}. */
  readonly onShown?: (frame: FrameInfo, latencyMs: number) => void;
  /** What its error messages call it; default `ViewRenderer` (the element passes its tag). */
  readonly label?: string;
}

/**
 * The view's work, without an element: on its device, it imports each frame of its source
 * through its inbox (a `'to-device'` map) and draws it, pixel for pixel, into the canvas's
 * WebGPU context, sized to the frame. It keeps the lease of the frame on screen, as a
 * display keeps its scanout buffer, until the next one is drawn or the exporter asks for
 * its frames back (the canvas keeps showing the picture).
 *
 * The constructor starts it (listening to the source); {@link close} stops it, gives every
 * frame back and unconfigures the context. The device and the canvas stay the caller's.
 *
 * Realm: any realm with WebGPU and a canvas: the page with an `HTMLCanvasElement`, or a
 * worker with an `OffscreenCanvas`. It touches no DOM beyond the canvas it is given.
 */
export class ViewRenderer {
  readonly #device: GPUDevice;
  readonly #canvas: HTMLCanvasElement | OffscreenCanvas;
  readonly #context: GPUCanvasContext;
  readonly #blit: FrameBlit;
  readonly #table = new FdTable();
  readonly #inbox: FrameInbox;
  readonly #host: ModuleHost;
  readonly #onShown: ((frame: FrameInfo, latencyMs: number) => void) | undefined;
  readonly #label: string;
  /** The frame on screen: kept, like a display's scanout buffer, until the next one is drawn. */
  #onScreen: FrameLease | undefined;
  #lock: Promise<unknown> = Promise.resolve();
  #closed = false;

  /**
   * Configures `options.canvas`'s WebGPU context for `device` (the preferred format, opaque)
   * and begins taking `options.source`'s frames.
   * @throws {DmabufElementError} `ENOCONTEXT` when the canvas gives no WebGPU context (it already has another kind).
   */
  constructor(device: GPUDevice, options: ViewRendererOptions) {
    const label = options.label ?? 'ViewRenderer';
    const context = options.canvas.getContext('webgpu');
    if (!context) throw new DmabufElementError('ENOCONTEXT', label, 'the canvas gives no WebGPU context');
    const format = navigator.gpu.getPreferredCanvasFormat();
    context.configure({ device, format, alphaMode: 'opaque', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
    this.#device = device;
    this.#canvas = options.canvas;
    this.#context = context;
    this.#blit = new FrameBlit(device, format);
    this.#host = options.host;
    this.#onShown = options.onShown;
    this.#label = label;
    const { host } = options;
    this.#inbox = new FrameInbox(this.#table, device, (frame) => this.#exclusive(() => this.#show(frame)), () => { host.frameDropped(); }, (error) => { host.fail(error); });
    this.#inbox.listen(options.source);
  }

  /** The frame on screen, if any. */
  get shown(): FrameInfo | undefined {
    return this.#onScreen?.frame;
  }

  /**
   * Draws the frame on screen again and reads the canvas's own texture back: the pixels the
   * canvas shows, in RGBA order, with the frame they come from.
   * @throws {DmabufElementError} `ENOFRAME` when it is closed or has no frame on screen.
   */
  capture(): Promise<ViewCapture> {
    return this.#exclusive(async () => {
      const device = this.#device;
      const lease = this.#onScreen;
      if (this.#closed || !lease) throw new DmabufElementError('ENOFRAME', `${this.#label}.capture`, 'no frame on screen');
      const { width, height } = lease.frame.layout;
      const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
      const readback = device.createBuffer({ label: 'view capture', size: bytesPerRow * height, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const frameImport = new FrameImport(this.#table, lease, device);
      try {
        await this.#draw(lease.frame, frameImport, (encoder, texture) => {
          encoder.copyTextureToBuffer({ texture }, { buffer: readback, bytesPerRow }, [width, height]);
        });
        await readback.mapAsync(GPUMapMode.READ);
        const rows = new Uint8Array(readback.getMappedRange());
        const pixels = new Uint8Array(width * height * 4);
        const bgra = this.#blit.format.startsWith('bgra');
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const from = y * bytesPerRow + x * 4;
            const to = (y * width + x) * 4;
            pixels[to] = rows[from + (bgra ? 2 : 0)] ?? 0;
            pixels[to + 1] = rows[from + 1] ?? 0;
            pixels[to + 2] = rows[from + (bgra ? 0 : 2)] ?? 0;
            pixels[to + 3] = rows[from + 3] ?? 0;
          }
        }
        return { frame: lease.frame, pixels };
      } finally {
        readback.destroy();
        // Ends the import when the draw failed before using it.
        await frameImport.cancel();
      }
    });
  }

  /**
   * Stops: takes no more frames, waits for the draw or capture under way, gives the frame on
   * screen back, unconfigures the context and frees its kernel and table. Safe to call twice.
   */
  async close(): Promise<void> {
    await this.#inbox.stop();
    await this.#lock;
    if (this.#closed) return;
    this.#closed = true;
    this.#giveBackOnScreen();
    this.#context.unconfigure();
    this.#blit.destroy();
    this.#table.closeAll();
  }

  /** Runs `task` when no other draw or capture is under way. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(task);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #show({ lease, import: frameImport }: InboxFrame): Promise<boolean> {
    const { frame } = lease;
    await this.#draw(frame, frameImport);
    this.#keepOnScreen(lease);
    const latency = performance.now() - frame.capturedAt;
    this.#onShown?.(frame, latency);
    this.#host.frameDone(latency, undefined, `${frame.layout.width}×${frame.layout.height}`);
    return true;
  }

  /** Keeps `lease` as the frame on screen, giving back the one before. */
  #keepOnScreen(lease: FrameLease): void {
    this.#giveBackOnScreen();
    this.#onScreen = lease;
    // An exporter that stops wants its frame back: the canvas keeps showing its picture.
    if (lease.signal.aborted) this.#giveBackOnScreen();
    else lease.signal.addEventListener('abort', this.#onRevoke);
  }

  readonly #onRevoke = () => { this.#giveBackOnScreen(); };

  #giveBackOnScreen(): void {
    const lease = this.#onScreen;
    if (!lease) return;
    this.#onScreen = undefined;
    lease.signal.removeEventListener('abort', this.#onRevoke);
    lease.release();
  }

  /** Draws `frame` onto the canvas through its import; `more` records extra commands on the canvas texture. */
  async #draw(frame: FrameInfo, frameImport: FrameImport, more?: (encoder: GPUCommandEncoder, texture: GPUTexture) => void): Promise<void> {
    if (this.#closed) throw new DmabufElementError('ENOTRUNNING', this.#label, 'not running');
    const { layout } = frame;
    const device = this.#device;
    const canvas = this.#canvas;
    if (canvas.width !== layout.width || canvas.height !== layout.height) {
      canvas.width = layout.width;
      canvas.height = layout.height;
    }
    await frameImport.use((sgt) => {
      const encoder = device.createCommandEncoder({ label: 'view' });
      const texture = this.#context.getCurrentTexture();
      this.#blit.encode(encoder, frameBinding(sgt), layout, texture.createView());
      more?.(encoder, texture);
      device.queue.submit([encoder.finish()]);
    });
    await device.queue.onSubmittedWorkDone();
  }
}
