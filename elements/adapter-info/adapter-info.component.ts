import { css, html, LitElement, type TemplateResult } from 'lit';
import { DmaBufError, requestGpuDevice } from 'webgpu-dmabuf';

type AdapterState =
  | { kind: 'pending' }
  | { kind: 'ready'; info: GPUAdapterInfo }
  | { kind: 'failed'; message: string };

/**
 * Shows which WebGPU adapter the browser gave this page, or why there is none.
 *
 * Requests its own device (as every module does), reads the adapter's `info`, and destroys
 * the device again. The adapter's description is in `data-state="ready"` once known.
 *
 * @summary Shows which WebGPU adapter the browser gave this page, or why there is none.
 */
export class DmabufAdapterInfo extends LitElement {
  /** @internal The element's shadow styles (Lit). */
  static override styles = css`
    :host { display: block; font: 14px/1.5 system-ui, sans-serif; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0; }
    dt { font-weight: 600; }
    dd { margin: 0; font-family: ui-monospace, monospace; }
    .error { color: #b00020; }
  `;

  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties = { state: { state: true } };

  /** @internal What the element shows: checking, the adapter's info, or why there is none. */
  declare state: AdapterState;

  constructor() {
    super();
    this.state = { kind: 'pending' };
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.probe();
  }

  private async probe(): Promise<void> {
    try {
      const device = await requestGpuDevice();
      this.state = { kind: 'ready', info: device.adapterInfo };
      device.destroy();
    } catch (error) {
      this.state = { kind: 'failed', message: error instanceof DmaBufError ? error.message : String(error) };
    }
  }

  override render(): TemplateResult {
    const { state } = this;
    if (state.kind === 'pending') return html`<p data-state="pending">Asking for a WebGPU adapter…</p>`;
    if (state.kind === 'failed') return html`<p class="error" role="alert" data-state="failed">No WebGPU: ${state.message}</p>`;
    const { vendor, architecture, device, description } = state.info;
    return html`<dl data-state="ready">
      <dt>Vendor</dt><dd>${vendor || '(not given)'}</dd>
      <dt>Architecture</dt><dd>${architecture || '(not given)'}</dd>
      <dt>Device</dt><dd>${device || '(not given)'}</dd>
      <dt>Description</dt><dd>${description || '(not given)'}</dd>
    </dl>`;
  }
}
