import { html } from 'lit';
import { FdTable, FrameBlit, frameBinding } from 'webgpu-dmabuf';
import type { FrameInfo, FrameLease } from '../frame/frame-info.js';
import { FrameInbox } from '../frame/frame-inbox.js';
import { importFrame } from '../frame/import-frame.js';
import { DmabufModule } from '../frame/module-element.js';
import { resolveSource } from '../frame/resolve-source.js';
import { viewStyles } from './view.styles.js';

/**
 * @summary An importer that draws: maps each frame of its source `'to-device'` on its own
 * device and draws it, pixel for pixel, onto a WebGPU `<canvas>` shown at the frame's
 * aspect ratio.
 *
 * @fires dmabuf-module-stats - {@link ModuleStatsEvent} after each frame drawn; `frameMs` is
 *   the time from capture to display.
 * @csspart canvas - the WebGPU canvas.
 */
export class DmabufView extends DmabufModule {
  static override styles = viewStyles;

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
    context.configure({ device, format, alphaMode: 'opaque' });
    this.#context = context;
    this.#blit = new FrameBlit(device, format);
    const table = new FdTable();
    this.#table = table;
    this.#inbox = new FrameInbox(table, (lease) => this.#draw(device, table, lease), () => { this.frameDropped(); }, (error) => { this.fail(error); });
    this.#inbox.listen(resolveSource(this, this.source));
  }

  protected override async close(): Promise<void> {
    await this.#inbox?.stop();
    this.#inbox = undefined;
    this.#context?.unconfigure();
    this.#context = undefined;
    this.#blit?.destroy();
    this.#blit = undefined;
    this.#table?.closeAll();
    this.#table = undefined;
  }

  async #draw(device: GPUDevice, table: FdTable, lease: FrameLease): Promise<void> {
    const { frame } = lease;
    const { layout } = frame;
    const canvas = this.canvas;
    const context = this.#context;
    const blit = this.#blit;
    if (!canvas || !context || !blit) return;
    if (canvas.width !== layout.width || canvas.height !== layout.height) {
      canvas.width = layout.width;
      canvas.height = layout.height;
    }
    await importFrame(table, lease, device, (sgt) => {
      const encoder = device.createCommandEncoder({ label: 'view' });
      blit.encode(encoder, frameBinding(sgt), layout, context.getCurrentTexture().createView());
      device.queue.submit([encoder.finish()]);
    });
    await device.queue.onSubmittedWorkDone();
    this.shown = frame;
    this.#latency = performance.now() - frame.capturedAt;
    this.frameDone(this.#latency, undefined, `${layout.width}×${layout.height}`);
  }

  override render() {
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
