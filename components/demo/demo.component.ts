import { html, LitElement, type TemplateResult } from 'lit';
import { requestGpuDevice } from 'webgpu-dmabuf';
import type { DmabufCamera } from '../camera/camera.component.js';
import type { DmabufFilter } from '../filter/filter.component.js';
import type { DmabufModule } from '../module/module-element.js';
import type { DmabufInspector } from '../inspector/inspector.component.js';
import type { DmabufView } from '../view/view.component.js';
import { demoStyles } from './demo.styles.js';
import { DeviceModeEvent } from './device-mode-event.js';

type GpuCheck = { kind: 'checking' } | { kind: 'ok' } | { kind: 'missing'; why: string };

/**
 * The demo app: camera → filter → view, each an independent module with its own fd
 * table, passing frames as fds; a second view of the raw camera; the inspector; and the
 * switch between one shared `GPUDevice` and a device per module, live.
 *
 * Without WebGPU it shows only a message saying which browser settings enable it.
 *
 * @summary The demo app: camera → filter → view, each an independent module with its own fd
 * table, passing frames as fds; a second view of the raw camera; the inspector; and the switch
 * between one shared `GPUDevice` and a device per module, live.
 * @fires dmabuf-device-mode - {@link DeviceModeEvent} when a device switch is complete.
 */
export class DmabufDemo extends LitElement {
  /** @internal The element's shadow styles (Lit). */
  static override styles = demoStyles;

  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties = {
    shared: { type: Boolean, reflect: true },
    switching: { state: true },
    gpu: { state: true },
  };

  /** Whether the modules share one device (zero-copy). Default: a device each. */
  declare shared: boolean;
  /** While a device switch is under way. */
  declare switching: boolean;
  /** @internal Whether the page has WebGPU (until known: checking). */
  declare gpu: GpuCheck;

  #sharedDevice: GPUDevice | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor() {
    super();
    this.shared = false;
    this.switching = false;
    this.gpu = { kind: 'checking' };
  }

  /** The camera, once rendered. */
  get camera(): DmabufCamera | null {
    return this.renderRoot.querySelector('dmabuf-camera');
  }

  /** The filter, once rendered. */
  get filter(): DmabufFilter | null {
    return this.renderRoot.querySelector('dmabuf-filter');
  }

  /** The view of the filtered picture. */
  get view(): DmabufView | null {
    return this.renderRoot.querySelector('dmabuf-view#out');
  }

  /** The view of the raw camera picture. */
  get preview(): DmabufView | null {
    return this.renderRoot.querySelector('dmabuf-view#raw');
  }

  /** The inspector, once rendered. */
  get inspector(): DmabufInspector | null {
    return this.renderRoot.querySelector('dmabuf-inspector');
  }

  /** Resolves when every device switch asked for so far is done and every module settled. */
  get settled(): Promise<void> {
    return this.#chain.then(() => Promise.all(this.#modules().map((m) => m.settled))).then(() => undefined);
  }

  /**
   * Moves every module onto one shared device (`true`) or a device each (`false`), live:
   * each module stops, gives its buffers back and restarts on its new device.
   */
  setShared(shared: boolean): Promise<void> {
    this.shared = shared;
    this.#chain = this.#chain.then(() => this.#switch(shared));
    return this.#chain;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#checkGpu();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // The modules stop themselves when they leave the page; the shared device goes after them.
    const device = this.#sharedDevice;
    this.#sharedDevice = undefined;
    this.#chain = this.#chain.then(async () => {
      await Promise.all(this.#modules().map((m) => m.settled));
      device?.destroy();
    });
  }

  async #checkGpu(): Promise<void> {
    try {
      if (!('gpu' in navigator)) throw new Error('navigator.gpu is missing');
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) throw new Error('navigator.gpu.requestAdapter() gave no adapter');
      this.gpu = { kind: 'ok' };
      await this.updateComplete;
      if (this.shared) await this.setShared(true);
    } catch (error) {
      this.gpu = { kind: 'missing', why: error instanceof Error ? error.message : String(error) };
    }
  }

  #modules(): DmabufModule[] {
    return [...this.renderRoot.querySelectorAll<DmabufModule>('dmabuf-camera, dmabuf-filter, dmabuf-view')];
  }

  async #switch(shared: boolean): Promise<void> {
    this.switching = true;
    try {
      const previous = this.#sharedDevice;
      const device = shared ? await requestGpuDevice({ label: 'shared device' }) : undefined;
      this.#sharedDevice = device;
      await Promise.all(this.#modules().map((m) => m.useDevice(device)));
      previous?.destroy();
      this.dispatchEvent(new DeviceModeEvent(shared));
    } finally {
      this.switching = false;
    }
  }

  #onMode(event: Event): void {
    const input = event.target as HTMLInputElement;
    void this.setShared(input.value === 'shared');
  }

  #renderNoGpu(why: string) {
    return html`<section class="nogpu" role="alert">
      <h2>This browser gives the page no WebGPU</h2>
      <p>${why}. The demo needs WebGPU. To enable it:</p>
      <ul>
        <li>Chrome or Edge 113 or later on Windows, macOS or ChromeOS have it on; make sure <code>chrome://settings/system</code> › “Use graphics acceleration” is on.</li>
        <li>Chrome on Linux, or Chromium: open <code>chrome://flags/#enable-unsafe-webgpu</code> and set it to Enabled (or start it with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>).</li>
        <li>Firefox 141+ on Windows has it; elsewhere set <code>dom.webgpu.enabled</code> to true in <code>about:config</code>. Safari 26 has it on; earlier: Develop › Feature Flags › WebGPU.</li>
      </ul>
    </section>`;
  }

  override render(): TemplateResult {
    const { gpu } = this;
    const header = html`<header>
      <h1><span>webgpu-dmabuf</span> · camera → filter → view</h1>
      <p class="lede">
        Three independent modules, each with its own fd table and, unless you share one, its own
        <code>GPUDevice</code>. The camera exports each frame as a dma-buf; the filter and the views import it
        through an fd (<code>FdTable.send</code>), map it <code>'to-device'</code> and give it back. On one device
        that is zero-copy; across devices the heap stages only the bytes the direction needs.
      </p>
      <ol class="pipeline" aria-label="Pipeline">
        <li>camera (exporter)</li><li class="arrow" aria-hidden="true">→ fd →</li>
        <li>filter (importer + exporter)</li><li class="arrow" aria-hidden="true">→ fd →</li>
        <li>view (importer)</li>
      </ol>
    </header>`;
    if (gpu.kind === 'missing') return html`${header}${this.#renderNoGpu(gpu.why)}`;
    if (gpu.kind === 'checking') return html`${header}<p role="status">Asking for WebGPU…</p>`;
    return html`${header}
      <fieldset>
        <legend>GPU devices</legend>
        <div class="choice">
          <input type="radio" id="mode-own" name="mode" value="own" .checked=${!this.shared} ?disabled=${this.switching} @change=${this.#onMode} />
          <label for="mode-own">Independent devices<small>a device per module: maps copy through staging</small></label>
        </div>
        <div class="choice">
          <input type="radio" id="mode-shared" name="mode" value="shared" .checked=${this.shared} ?disabled=${this.switching} @change=${this.#onMode} />
          <label for="mode-shared">One shared GPUDevice<small>every map is zero-copy</small></label>
        </div>
        ${this.switching ? html`<span class="busy" role="status">switching devices…</span>` : null}
      </fieldset>
      <div class="grid">
        <dmabuf-view id="out" name="view" source="filter" label="Filtered"></dmabuf-view>
        <div class="side">
          <dmabuf-view id="raw" name="raw view" source="camera" label="Camera, unfiltered" style="--dmabuf-view-max-height: 30vh"></dmabuf-view>
          <dmabuf-camera id="camera" name="camera"></dmabuf-camera>
          <dmabuf-filter id="filter" name="filter" source="camera"></dmabuf-filter>
        </div>
        <dmabuf-inspector></dmabuf-inspector>
      </div>`;
  }
}
