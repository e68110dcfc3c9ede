/**
 * `<ml-mask>`: the example's ML module as an element of the pipeline, built on the elements'
 * `DmabufModule` (its own device unless given one, status, stats, restarts). It takes the
 * frames of the element named by `source` and exports the masked frames itself, so a
 * `<dmabuf-view source="…">` shows them.
 */
import { css, html, type TemplateResult } from 'lit';
import { DmabufModule } from 'webgpu-dmabuf/elements';
import { MaskModule } from './mask-module.js';
import { activeBackendOn } from './tfjs-backend.js';

export class MlMask extends DmabufModule {
  static override styles = css`
    :host { display: block; padding: 0.5rem 0.75rem; border: 1px solid #2c3344; border-radius: 8px; background: #1b1f2a; color: #e8eaf0; }
    h2 { font-size: 1rem; margin: 0; }
    .error { color: #ff8a8a; }
  `;

  static override properties = { ...DmabufModule.properties, source: { type: String } };

  /** The `id` of the element whose frames it masks (a camera or a filter). */
  declare source: string;

  #module: MaskModule | undefined;
  #removeBackend: (() => void) | undefined;

  constructor() {
    super('ml mask');
    this.source = '';
  }

  protected override async open(device: GPUDevice): Promise<void> {
    const root = this.getRootNode();
    const source = root instanceof Document || root instanceof ShadowRoot ? root.getElementById(this.source) : null;
    if (!source) throw new Error(`<ml-mask>: source="${this.source}" names no element`);
    const { backend, remove } = await activeBackendOn(device);
    this.#removeBackend = remove;
    this.#module = new MaskModule(device, backend, source, this, {
      frameDone: (ms, exporter) => { this.host.frameDone(ms, exporter.heapStats, 'mask'); },
      frameDropped: () => { this.host.frameDropped(); },
      fail: (error) => { this.host.fail(error); },
    });
  }

  protected override async close(): Promise<void> {
    try {
      await this.#module?.close();
    } finally {
      this.#module = undefined;
      this.#removeBackend?.();
      this.#removeBackend = undefined;
    }
  }

  override render(): TemplateResult {
    return html`<h2>ML mask <small>(TensorFlow.js, ${this.status})</small></h2>${this.error ? html`<p class="error" role="alert">${this.error}</p>` : null}`;
  }
}
