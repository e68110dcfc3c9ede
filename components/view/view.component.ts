import { html, type TemplateResult } from 'lit';
import { FdTable } from 'webgpu-dmabuf';
import type { FrameInfo, FrameLease } from '../frame/frame-info.js';
import { FrameInbox, type InboxFrame } from '../frame/frame-inbox.js';
import { FrameImport } from '../frame/import-frame.js';
import { DmabufModule } from '../frame/module-element.js';
import { resolveSource } from '../frame/resolve-source.js';
import { FrameBlit } from '../kernels/frame-blit.js';
import { frameBinding } from '../kernels/frame-buffer.js';
import { viewStyles } from './view.styles.js';

/** What {@link DmabufView.capture} read back. */
export interface ViewCapture {
  /** The frame on screen. */
  readonly frame: FrameInfo;
  /** The canvas's pixels, RGBA, rows top to bottom with no padding. */
  readonly pixels: Uint8Array;
}

/**
 * An importer that draws: maps each frame of its source `'to-device'` on its own
 * device and draws it, pixel for pixel, onto a WebGPU `<canvas>` shown at the frame's
 * aspect ratio.
 *
 * @summary An importer that draws: maps each frame of its source `'to-device'` on its own device
 * and draws it, pixel for pixel, onto a WebGPU `<canvas>` shown at the frame's aspect ratio.
 * @fires dmabuf-module-stats - {@link ModuleStatsEvent} after each frame drawn; `frameMs` is
 *   the time from capture to display.
 * @csspart canvas - the WebGPU canvas.
 * @cssprop [--dmabuf-fg=#e8eaf0] - Text colour.
 * @cssprop [--dmabuf-card=#1b1f2a] - Card background.
 * @cssprop [--dmabuf-border=#2c3344] - Card border colour.
 * @cssprop [--dmabuf-muted=#aab3c5] - Secondary text colour.
 * @cssprop [--dmabuf-view-max-height=70vh] - The tallest the canvas is drawn.
 */
export class DmabufView extends DmabufModule {
  /** @internal The element's shadow styles (Lit). */
  static override styles = viewStyles;

  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties = {
    source: { type: String },
    label: { type: String },
    shown: { state: true },
  };

  /** The `id` of the element whose frames it draws. */
  declare source: string;
  /** What the picture is, for its caption and accessible name. */
  declare label: string;
  /** The last frame drawn. */
  declare shown: FrameInfo | undefined;

  #context: GPUCanvasContext | undefined;
  #blit: FrameBlit | undefined;
  #inbox: FrameInbox | undefined;
  #table: FdTable | undefined;
  #latency = 0;
  /** The frame on screen: kept, like a display's scanout buffer, until the next one is drawn. */
  #onScreen: FrameLease | undefined;
  #lock: Promise<unknown> = Promise.resolve();

  constructor() {
    super('view');
    this.source = '';
    this.label = 'Picture';
    this.shown = undefined;
  }

  /** The canvas frames are drawn on (once rendered). */
  get canvas(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector('canvas');
  }

  protected override async open(device: GPUDevice): Promise<void> {
    await this.updateComplete;
    const canvas = this.canvas;
    const context = canvas?.getContext('webgpu');
    if (!context) throw new Error('<dmabuf-view>: the canvas gives no WebGPU context');
    const format = navigator.gpu.getPreferredCanvasFormat();
    context.configure({ device, format, alphaMode: 'opaque', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
    this.#context = context;
    this.#blit = new FrameBlit(device, format);
    const table = new FdTable();
    this.#table = table;
    this.#inbox = new FrameInbox(table, device, (frame) => this.#exclusive(() => this.#show(device, frame)), () => { this.frameDropped(); }, (error) => { this.fail(error); });
    this.#inbox.listen(resolveSource(this, this.source));
  }

  protected override async close(): Promise<void> {
    await this.#inbox?.stop();
    this.#inbox = undefined;
    await this.#lock;
    this.#giveBackOnScreen();
    this.#context?.unconfigure();
    this.#context = undefined;
    this.#blit?.destroy();
    this.#blit = undefined;
    this.#table?.closeAll();
    this.#table = undefined;
  }

  /**
   * Draws the frame on screen again and reads the canvas's own texture back: the pixels the
   * canvas shows, in RGBA order, with the frame they come from.
   * @throws {Error} when the view is not running or has no frame yet.
   */
  capture(): Promise<ViewCapture> {
    return this.#exclusive(async () => {
      const device = this.gpu;
      const lease = this.#onScreen;
      const table = this.#table;
      if (!device || !lease || !table) throw new Error('<dmabuf-view>.capture: no frame on screen');
      const { width, height } = lease.frame.layout;
      const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
      const readback = device.createBuffer({ label: 'view capture', size: bytesPerRow * height, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const frameImport = new FrameImport(table, lease, device);
      try {
        await this.#draw(device, lease.frame, frameImport, (encoder, texture) => {
          encoder.copyTextureToBuffer({ texture }, { buffer: readback, bytesPerRow }, [width, height]);
        });
        await readback.mapAsync(GPUMapMode.READ);
        const rows = new Uint8Array(readback.getMappedRange());
        const pixels = new Uint8Array(width * height * 4);
        const bgra = this.#blit?.format.startsWith('bgra') ?? false;
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

  /** Runs `task` when no other draw or capture is under way. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(task);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #show(device: GPUDevice, { lease, import: frameImport }: InboxFrame): Promise<boolean> {
    const { frame } = lease;
    await this.#draw(device, frame, frameImport);
    this.#keepOnScreen(lease);
    this.shown = frame;
    this.#latency = performance.now() - frame.capturedAt;
    this.frameDone(this.#latency, undefined, `${frame.layout.width}×${frame.layout.height}`);
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
  async #draw(device: GPUDevice, frame: FrameInfo, frameImport: FrameImport, more?: (encoder: GPUCommandEncoder, texture: GPUTexture) => void): Promise<void> {
    const { layout } = frame;
    const canvas = this.canvas;
    const context = this.#context;
    const blit = this.#blit;
    if (!canvas || !context || !blit) throw new Error('<dmabuf-view>: not running');
    if (canvas.width !== layout.width || canvas.height !== layout.height) {
      canvas.width = layout.width;
      canvas.height = layout.height;
    }
    await frameImport.use((sgt) => {
      const encoder = device.createCommandEncoder({ label: 'view' });
      const texture = context.getCurrentTexture();
      blit.encode(encoder, frameBinding(sgt), layout, texture.createView());
      more?.(encoder, texture);
      device.queue.submit([encoder.finish()]);
    });
    await device.queue.onSubmittedWorkDone();
  }

  override render(): TemplateResult {
    const { shown } = this;
    const aspect = shown ? `${shown.layout.width} / ${shown.layout.height}` : '4 / 3';
    return html`
      <figure>
        <div class="stage">
          <canvas part="canvas" role="img" aria-label=${this.label} style="aspect-ratio: ${aspect}"></canvas>
        </div>
        <figcaption class="meta">
          <span><strong>${this.label}</strong> · ${this.status === 'running' ? html`from <code>${this.source}</code>` : this.status}</span>
          <span>${shown ? html`frame <code>${shown.origin}</code> · ${this.#latency.toFixed(1)} ms capture→screen` : 'waiting for frames…'}</span>
        </figcaption>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : null}
      </figure>
    `;
  }
}
