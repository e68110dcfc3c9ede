import { html, type PropertyValues, type TemplateResult } from 'lit';
import type { GpuHeapStats } from 'webgpu-dmabuf';
import { resolveSource } from '../module/resolve-source.js';
import { FRAME_EFFECTS, isFrameEffect, type FrameEffect } from '../kernels/frame-effect.js';
import { WorkerHostedModule } from '../module/worker-hosted-module.js';
import { ModuleWorkerClient } from '../worker/module-worker-client.js';
import { FilterModule } from './filter-module.js';
import type { FilterWorkerSettings } from './filter.worker.js';
import { filterStyles } from './filter.styles.js';

/** The filter's worker entry, beside it (the form bundlers bundle): it registers the `'filter'` module. */
const spawnFilterWorker = (realm: string): Worker => new Worker(new URL('./filter.worker.ts', import.meta.url), { type: 'module', name: realm });

const EFFECT_TEXT: Record<FrameEffect, string> = { none: 'None (copy)', grayscale: 'Grayscale', sobel: 'Sobel edges', invert: 'Invert' };

/**
 * An importer that computes: maps each frame of its source `'to-device'` on its own
 * device, runs the selected effect in a compute shader, and writes the result into a
 * dma-buf of its own heap, which it exports in turn.
 *
 * @summary An importer that computes: maps each frame of its source `'to-device'` on its own
 * device, runs the selected effect in a compute shader, and writes the result into a dma-buf of
 * its own heap, which it exports in turn.
 * @fires dmabuf-frame - {@link FrameEvent} on this element for each filtered frame (does not bubble).
 * @fires dmabuf-module-stats - {@link ModuleStatsEvent} after each frame.
 * @fires dmabuf-module-error - {@link ModuleErrorEvent} when the filter fails (`status` turns
 *   `failed`); its `error` is the typed error: a `DmabufElementError` (`ENOSOURCE` when `source`
 *   names no element, `EWORKER` when its worker dies, `EGPU` on a WebGPU error of its device) or
 *   a `DmaBufError`.
 * @csspart status - The badge that shows the module's `status`.
 * @cssprop [--dmabuf-fg=#e8eaf0] - Text colour.
 * @cssprop [--dmabuf-card=#1b1f2a] - Card background.
 * @cssprop [--dmabuf-border=#2c3344] - Card border colour.
 * @cssprop [--dmabuf-muted=#aab3c5] - Secondary text colour.
 */
export class DmabufFilter extends WorkerHostedModule<ModuleWorkerClient> {
  /** @internal The element's shadow styles (Lit). */
  static override styles = filterStyles;

  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties = {
    source: { type: String },
    effect: { type: String, reflect: true },
  };

  /** The `id` of the element whose frames it filters (a camera, or another filter). */
  declare source: string;
  /** The effect applied to the next frame. Default `'sobel'`. */
  declare effect: FrameEffect;

  #module: FilterModule | undefined;
  #workerHeap: GpuHeapStats | undefined;

  constructor() {
    super('filter');
    this.source = '';
    this.effect = 'sobel';
  }

  /** The counts of the filter's heap while it runs, or of its last heap after it stopped (in a worker: as of its last frame). */
  get heapStats(): GpuHeapStats | undefined {
    return this.hostedWorker || this.worker ? this.#workerHeap : this.#module?.heapStats;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    if (changed.has('effect')) {
      if (this.#module) this.#module.effect = this.effect;
      this.hostedWorker?.configure(this.#settings());
    }
  }

  // In a worker, its frames come back to this element as FrameEvents: importers wire to it as always;
  // an importer in a worker takes them straight from this one's.
  protected override openWorker(): Promise<void> {
    const source = resolveSource(this, this.source);
    this.#workerHeap = undefined;
    return this.startWorker(new ModuleWorkerClient({
      role: 'filter', spawn: spawnFilterWorker, owner: `<${this.localName}>`, name: this.name, source, host: this.host, settings: this.#settings(), output: this,
      onHeap: (heap) => { this.#workerHeap = heap; }, pageFrames: this.pageImportsFrames,
      // A source in a worker of its own (the camera's) sends its frames straight to this one's.
      ...this.linkTo(source),
    }));
  }

  protected override open(device: GPUDevice): Promise<void> {
    const source = resolveSource(this, this.source);
    // Its frames are dispatched on the element itself, where importers wired to its id listen.
    this.#module = new FilterModule(device, { name: this.name, source, target: this, effect: this.effect, host: this.host });
    return Promise.resolve();
  }

  protected override async close(): Promise<void> {
    await this.#module?.close();
  }

  #choose(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    if (!isFrameEffect(value)) return;
    this.effect = value;
    if (this.#module) this.#module.effect = value;
    this.hostedWorker?.configure(this.#settings());
  }

  /** The settings its worker entry takes. */
  #settings(): FilterWorkerSettings {
    return { effect: this.effect };
  }

  override render(): TemplateResult {
    return html`
      <div class="title"><h2>Filter <span class="meta">importer → exporter</span></h2><span class="badge" part="status">${this.status}</span></div>
      <p class="meta">Maps <code>${this.source || '?'}</code>'s buffer <code>'to-device'</code>, runs a compute shader, exports its own.</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : null}
      <div class="controls">
        <label for="effect">Effect</label>
        <select id="effect" @change=${this.#choose}>
          ${FRAME_EFFECTS.map((effect) => html`<option value=${effect} ?selected=${effect === this.effect}>${EFFECT_TEXT[effect]}</option>`)}
        </select>
      </div>
    `;
  }
}
