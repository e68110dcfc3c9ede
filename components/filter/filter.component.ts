import { html, type TemplateResult } from 'lit';
import { FdTable, GpuHeap, type GpuHeapStats } from 'webgpu-dmabuf';
import { FrameInbox, type InboxFrame } from '../frame/frame-inbox.js';
import { FrameRing } from '../frame/frame-ring.js';
import { DmabufModule } from '../frame/module-element.js';
import { resolveSource } from '../frame/resolve-source.js';
import { frameBinding } from '../kernels/frame-buffer.js';
import { FRAME_EFFECTS, FrameEffectKernel, isFrameEffect, type FrameEffect } from '../kernels/frame-effect.js';
import type { FrameLayout } from '../kernels/frame-layout.js';
import { filterStyles } from './filter.styles.js';

/** Slots in the ring: one being written, up to three held by a view (on screen, being drawn, waiting). */
const RING_SLOTS = 4;

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
 * @csspart status - The badge that shows the module's `status`.
 * @cssprop [--dmabuf-fg=#e8eaf0] - Text colour.
 * @cssprop [--dmabuf-card=#1b1f2a] - Card background.
 * @cssprop [--dmabuf-border=#2c3344] - Card border colour.
 * @cssprop [--dmabuf-muted=#aab3c5] - Secondary text colour.
 */
export class DmabufFilter extends DmabufModule {
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

  #table: FdTable | undefined;
  #heap: GpuHeap | undefined;
  #lastStats: GpuHeapStats | undefined;
  #kernel: FrameEffectKernel | undefined;
  #ring: FrameRing | undefined;
  #inbox: FrameInbox | undefined;
  #sequence = 0;

  constructor() {
    super('filter');
    this.source = '';
    this.effect = 'sobel';
  }

  /** The counts of the filter's heap while it runs, or of its last heap after it stopped. */
  get heapStats(): GpuHeapStats | undefined {
    return this.#heap?.stats() ?? this.#lastStats;
  }

  protected override open(device: GPUDevice): Promise<void> {
    const source = resolveSource(this, this.source);
    const table = new FdTable();
    this.#table = table;
    this.#heap = new GpuHeap(device, { name: this.name });
    this.#kernel = new FrameEffectKernel(device);
    this.#sequence = 0;
    this.#inbox = new FrameInbox(table, device, (frame) => this.#process(device, frame), () => { this.frameDropped(); }, (error) => { this.fail(error); });
    this.#inbox.listen(source);
    return Promise.resolve();
  }

  protected override async close(): Promise<void> {
    await this.#inbox?.stop();
    this.#inbox = undefined;
    if (this.#ring) {
      this.#ring.revoke();
      await this.#ring.idle();
      this.#ring.dispose();
      this.#ring = undefined;
    }
    this.#kernel?.destroy();
    this.#kernel = undefined;
    this.#table?.closeAll();
    this.#table = undefined;
    // Every buffer is put by now: free the heap's pools and stop it following the device.
    this.#heap?.destroy();
    this.#lastStats = this.#heap?.stats();
    this.#heap = undefined;
  }

  async #process(device: GPUDevice, { lease, import: frameImport }: InboxFrame): Promise<boolean> {
    const started = performance.now();
    const { layout } = lease.frame;
    const ring = await this.#ringFor(layout);
    const out = await ring.acquire();
    if (!out) {
      this.frameDropped();
      return false;
    }
    const effect = this.effect;
    try {
      await frameImport.use((sgt) => {
        const encoder = device.createCommandEncoder({ label: `filter ${effect}` });
        this.#kernel?.encode(encoder, effect, frameBinding(sgt), frameBinding(out.sgt), layout);
        device.queue.submit([encoder.finish()]);
      });
      await device.queue.onSubmittedWorkDone();
    } catch (error) {
      await ring.abandon(out);
      throw error;
    }
    this.#sequence += 1;
    await ring.publish(out, { ...lease.frame, sequence: this.#sequence, exporter: this.name }, this);
    this.frameDone(performance.now() - started, this.#heap?.stats(), effect);
    return false;
  }

  async #ringFor(layout: FrameLayout): Promise<FrameRing> {
    const current = this.#ring;
    if (current && current.layout.width === layout.width && current.layout.height === layout.height) return current;
    if (!this.#heap || !this.#table) throw new Error('<dmabuf-filter>: not running');
    if (current) {
      await current.idle();
      current.dispose();
    }
    this.#ring = new FrameRing(this.#heap, this.#table, layout, RING_SLOTS, `${this.name} frame`);
    return this.#ring;
  }

  #choose(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    if (isFrameEffect(value)) this.effect = value;
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
