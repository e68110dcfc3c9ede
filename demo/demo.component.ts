import { html, LitElement, type TemplateResult } from 'lit';
import { requestGpuDevice, type FdSocketTransport } from 'webgpu-dmabuf';
import type { DmabufCamera, DmabufFilter, DmabufInspector, DmabufModule, DmabufView } from 'webgpu-dmabuf/elements';
import { demoStyles } from './demo.styles.js';
import { DeviceModeEvent } from './device-mode-event.js';

type GpuCheck = { kind: 'checking' } | { kind: 'ok' } | { kind: 'missing'; why: string };

/**
 * Where the modules run: `'own'`, a device per module in the page; `'shared'`, one shared
 * `GPUDevice` in the page; `'workers'`, the camera, the filter and the views each in a module
 * worker of its own with its own device (the page only hosts them).
 */
export type DeviceMode = 'own' | 'shared' | 'workers';

/**
 * The demo app: camera → filter → view, each an independent module with its own fd
 * table, passing frames as fds; a second view of the raw camera; the inspector; and the
 * switch, live, between a device per module, one shared `GPUDevice`, and a worker per module
 * (every module in a module worker of its own, the camera's frames reaching the filter's and
 * the views' workers as fds over `FdSocket`s straight from the camera's worker; the page only
 * hosts them, and shows the sockets' transport).
 *
 * Without WebGPU it shows only a message saying which browser settings enable it.
 *
 * @summary The demo app: camera → filter → view, each an independent module with its own fd
 * table, passing frames as fds; a second view of the raw camera; the inspector; and the switch
 * between a device per module, one shared `GPUDevice` and a worker per module, live.
 * @fires dmabuf-device-mode - {@link DeviceModeEvent} when a switch of mode is complete.
 */
export class DmabufDemo extends LitElement {
  /** @internal The element's shadow styles (Lit). */
  static override styles = demoStyles;

  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties = {
    shared: { type: Boolean, reflect: true },
    workers: { type: Boolean, reflect: true },
    frameWidth: { type: Number, attribute: 'frame-width' },
    frameHeight: { type: Number, attribute: 'frame-height' },
    transport: { state: true },
    switching: { state: true },
    gpu: { state: true },
  };

  /** Whether the modules share one device (zero-copy). Default: a device each. */
  declare shared: boolean;
  /** Whether every module runs in a module worker of its own (takes precedence over {@link shared}). */
  declare workers: boolean;
  /**
   * The camera's frame width (the size asked of the camera, and the test pattern's). Default
   * 640; set before the demo is connected. A smaller frame costs a software GPU (SwiftShader)
   * proportionally less per frame.
   */
  declare frameWidth: number;
  /** The camera's frame height. Default 480; set before the demo is connected. */
  declare frameHeight: number;
  /** How buffer bytes travel between the page and its workers, while they run (`socket.transport`). */
  declare transport: FdSocketTransport | undefined;
  /** While a device switch is under way. */
  declare switching: boolean;
  /** @internal Whether the page has WebGPU (until known: checking). */
  declare gpu: GpuCheck;

  #sharedDevice: GPUDevice | undefined;
  #chain: Promise<void> = Promise.resolve();
  #applied: DeviceMode = 'own';

  constructor() {
    super();
    this.shared = false;
    this.workers = false;
    this.frameWidth = 640;
    this.frameHeight = 480;
    this.transport = undefined;
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
    return this.setMode(shared ? 'shared' : 'own');
  }

  /** The mode the modules run in (or are switching to). */
  get mode(): DeviceMode {
    return this.workers ? 'workers' : this.shared ? 'shared' : 'own';
  }

  /**
   * Moves the modules into `mode`, live: each module that moves stops, gets every frame back,
   * frees its buffers (and terminates its worker) and restarts where the mode puts it.
   */
  setMode(mode: DeviceMode): Promise<void> {
    this.shared = mode === 'shared';
    this.workers = mode === 'workers';
    this.#chain = this.#chain.then(() => this.#switch(mode));
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
      if (this.mode !== 'own') await this.setMode(this.mode);
    } catch (error) {
      this.gpu = { kind: 'missing', why: error instanceof Error ? error.message : String(error) };
    }
  }

  #modules(): DmabufModule[] {
    return [...this.renderRoot.querySelectorAll<DmabufModule>('dmabuf-camera, dmabuf-filter, dmabuf-view')];
  }

  /** The views, which take their frames from the camera and the filter. */
  #views(): DmabufView[] {
    return [...this.renderRoot.querySelectorAll<DmabufView>('dmabuf-view')];
  }

  async #switch(mode: DeviceMode): Promise<void> {
    this.switching = true;
    try {
      const previous = this.#sharedDevice;
      const device = mode === 'shared' ? await requestGpuDevice({ label: 'shared device' }) : undefined;
      this.#sharedDevice = device;
      const camera = this.camera;
      if (mode === 'workers') {
        // The camera first, then the filter, then the views, each into a worker of its own:
        // a module whose source's worker runs takes its frames from there, not through the page.
        await camera?.useWorker(true);
        await this.filter?.useWorker(true);
        await Promise.all(this.#views().map((m) => m.useWorker(true)));
      } else if (this.#applied === 'workers') {
        // The views first, then the filter, then the camera: each gives its frames back and is
        // gone before the module it takes them from moves.
        const back = (m: DmabufCamera | DmabufFilter | DmabufView) => {
          m.worker = false;
          return m.useDevice(device);
        };
        await Promise.all(this.#views().map(back));
        if (this.filter) await back(this.filter);
        if (camera) await back(camera);
      } else {
        await Promise.all(this.#modules().map((m) => m.useDevice(device)));
      }
      this.#applied = mode;
      this.transport = mode === 'workers' ? this.filter?.transport : undefined;
      previous?.destroy();
      this.dispatchEvent(new DeviceModeEvent(mode === 'shared', mode === 'workers'));
    } finally {
      this.switching = false;
    }
  }

  #onMode(event: Event): void {
    const input = event.target as HTMLInputElement;
    const mode = input.value;
    void this.setMode(mode === 'shared' || mode === 'workers' ? mode : 'own');
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
        that is zero-copy; across devices the heap stages only the bytes the direction needs. With a worker per
        module, the fds cross realms over an <code>FdSocket</code>.
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
          <input type="radio" id="mode-own" name="mode" value="own" .checked=${this.mode === 'own'} ?disabled=${this.switching} @change=${this.#onMode} />
          <label for="mode-own">Independent devices<small>a device per module: maps copy through staging</small></label>
        </div>
        <div class="choice">
          <input type="radio" id="mode-shared" name="mode" value="shared" .checked=${this.mode === 'shared'} ?disabled=${this.switching} @change=${this.#onMode} />
          <label for="mode-shared">One shared GPUDevice<small>every map is zero-copy</small></label>
        </div>
        <div class="choice">
          <input type="radio" id="mode-workers" name="mode" value="workers" .checked=${this.mode === 'workers'} ?disabled=${this.switching} @change=${this.#onMode} />
          <label for="mode-workers">A worker per module<small>camera, filter and views in workers; frames cross as fds</small></label>
        </div>
        ${this.mode === 'workers' && this.transport ? html`<span class="transport" data-transport=${this.transport}>fd sockets over <code>${this.transport === 'shared-memory' ? 'shared memory' : 'messages'}</code></span>` : null}
        ${this.switching ? html`<span class="busy" role="status">switching devices…</span>` : null}
      </fieldset>
      <div class="grid">
        <dmabuf-view id="out" name="view" source="filter" label="Filtered"></dmabuf-view>
        <div class="side">
          <dmabuf-view id="raw" name="raw view" source="camera" label="Camera, unfiltered" style="--dmabuf-view-max-height: 30vh"></dmabuf-view>
          <dmabuf-camera id="camera" name="camera" .width=${this.frameWidth} .height=${this.frameHeight}></dmabuf-camera>
          <dmabuf-filter id="filter" name="filter" source="camera"></dmabuf-filter>
        </div>
        <dmabuf-inspector></dmabuf-inspector>
      </div>`;
  }
}
