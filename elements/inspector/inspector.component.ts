import { html, LitElement, type TemplateResult } from 'lit';
import { bufinfoEntries, type BufInfoEntry } from 'webgpu-dmabuf';
import { ModuleStatsEvent } from '../module/module-stats-event.js';
import type { ModuleStats } from '../module/module-stats.js';
import { workerRealmListings, type RealmListing } from '../worker/worker-realms.js';
import { formatBytes } from './format.js';
import { inspectorStyles } from './inspector.styles.js';

/** A module's latest stats, with the copy rate the inspector works out from its history. */
export interface ModuleRow extends ModuleStats {
  /** Bytes its heap copied per frame it made, over about the last second. */
  readonly copiedPerFrame: number;
}

/** Sums over every module's latest stats. */
export interface InspectorTotals {
  /** Bytes copied by every heap since it was made (a heap is made per device). */
  readonly bytesCopied: number;
  /** Bytes of staging buffers alive now in every heap, idle in its pool or in use. */
  readonly stagingBytes: number;
  /** Dma-bufs of every heap not yet released. */
  readonly liveBuffers: number;
  /** Bytes copied per frame, summed over the exporters. */
  readonly copiedPerFrame: number;
}

interface Sample {
  readonly at: number;
  readonly frames: number;
  readonly bytesCopied: number;
}

const WINDOW_MS = 1000;

/**
 * A live table of every dma-buf in the page and in its module workers, labelled by realm,
 * like the kernel's debugfs `bufinfo`, and of every pipeline module's frames per second, frame time, bytes copied and staging.
 *
 * Buffers come from `bufinfoEntries()` (plain data: the listing gives no way to a buffer),
 * read every {@link interval} ms in the page, and from each module worker's, which it
 * reports over a message when asked. Module figures come from the `dmabuf-module-stats` events
 * that modules in the same document or shadow root fire after each frame.
 *
 * @summary A live table of every dma-buf in the page and its module workers, by realm, like the
 * kernel's debugfs `bufinfo`, and of every pipeline module's frames per second, frame time, bytes copied and staging.
 * @cssprop [--dmabuf-fg=#e8eaf0] - Text colour.
 * @cssprop [--dmabuf-card=#1b1f2a] - Card background.
 * @cssprop [--dmabuf-border=#2c3344] - Card border colour.
 * @cssprop [--dmabuf-muted=#aab3c5] - Secondary text colour.
 */
export class DmabufInspector extends LitElement {
  /** @internal The element's shadow styles (Lit). */
  static override styles = inspectorStyles;

  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties = {
    interval: { type: Number },
    entries: { state: true },
    realms: { state: true },
  };

  /** Milliseconds between readings of the buffer listing. Default 250. */
  declare interval: number;
  /** The page's buffer listing at the last reading. */
  declare entries: readonly BufInfoEntry[];
  /**
   * The listing of every realm at the last reading, labelled by realm: the page's first,
   * then each module worker's (`worker NAME`) as it answered over a message.
   */
  declare realms: readonly RealmListing[];
  /**
   * @internal The latest figures of each module, by name, current at once; the table shows
   * them at the next reading (every {@link interval} ms), not once per frame of each module: a
   * redraw per frame would cost the page a layout and a paint per frame.
   */
  rows: ReadonlyMap<string, ModuleRow>;

  #history = new Map<string, Sample[]>();
  #reading = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #root: Node | undefined;
  readonly #onStats = (event: Event) => {
    if (event instanceof ModuleStatsEvent) this.#record(event.stats);
  };

  constructor() {
    super();
    this.interval = 250;
    this.entries = [];
    this.realms = [];
    this.rows = new Map();
  }

  /** Sums over the modules' latest figures. */
  get totals(): InspectorTotals {
    let bytesCopied = 0;
    let stagingBytes = 0;
    let liveBuffers = 0;
    let copiedPerFrame = 0;
    for (const row of this.rows.values()) {
      bytesCopied += row.heap?.bytesCopied ?? 0;
      stagingBytes += row.heap?.stagingBytes ?? 0;
      liveBuffers += row.heap?.liveBuffers ?? 0;
      copiedPerFrame += row.copiedPerFrame;
    }
    return { bytesCopied, stagingBytes, liveBuffers, copiedPerFrame };
  }

  /** Reads the page's buffer listing now, and asks each module worker for its own (see {@link refreshRealms}). */
  refresh(): void {
    void this.refreshRealms();
  }

  /**
   * Reads the page's buffer listing now and asks each module worker for its own; resolves
   * once every worker that runs has answered, with {@link realms} set.
   */
  async refreshRealms(): Promise<readonly RealmListing[]> {
    const entries = bufinfoEntries();
    this.entries = entries;
    const reading = ++this.#reading;
    const realms = [{ realm: 'page', entries }, ...await workerRealmListings()];
    // A later reading's answers win over an earlier one's that came late.
    if (reading === this.#reading) this.realms = realms;
    return realms;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#root = this.getRootNode();
    this.#root.addEventListener(ModuleStatsEvent.type, this.#onStats);
    this.refresh();
    this.#timer = setInterval(() => { this.refresh(); }, this.interval);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#root?.removeEventListener(ModuleStatsEvent.type, this.#onStats);
    this.#root = undefined;
    clearInterval(this.#timer);
  }

  #record(stats: ModuleStats): void {
    const now = performance.now();
    const copied = stats.heap?.bytesCopied ?? 0;
    let samples = this.#history.get(stats.module) ?? [];
    // A restart (new device, new heap) starts the counts again.
    const last = samples.at(-1);
    if (last && (copied < last.bytesCopied || stats.frames < last.frames)) samples = [];
    samples.push({ at: now, frames: stats.frames, bytesCopied: copied });
    while (samples.length > 2 && (samples[1]?.at ?? now) <= now - WINDOW_MS) samples.shift();
    this.#history.set(stats.module, samples);
    const first = samples[0] ?? { frames: 0, bytesCopied: 0 };
    const frames = stats.frames - first.frames;
    const copiedPerFrame = frames > 0 ? (copied - first.bytesCopied) / frames : 0;
    this.rows = new Map(this.rows).set(stats.module, { ...stats, copiedPerFrame });
  }

  #renderModules() {
    const rows = [...this.rows.values()];
    const totals = this.totals;
    const view = rows.find((row) => row.kind === 'view');
    return html`
      <div class="summary" role="group" aria-label="Pipeline totals">
        <div class="stat"><b data-total="copied-per-frame" class=${totals.copiedPerFrame === 0 ? 'zero' : 'nonzero'}>${formatBytes(totals.copiedPerFrame)}</b><span>copied per frame</span></div>
        <div class="stat"><b data-total="bytes-copied">${formatBytes(totals.bytesCopied)}</b><span>copied since devices set</span></div>
        <div class="stat"><b data-total="staging">${formatBytes(totals.stagingBytes)}</b><span>staging buffers</span></div>
        <div class="stat"><b>${view ? `${view.fps} fps` : '–'}</b><span>${view ? `${view.frameMs.toFixed(1)} ms capture→screen` : 'shown'}</span></div>
      </div>
      <h3 id="modules-heading">Modules</h3>
      <div class="scroll" tabindex="0" role="region" aria-labelledby="modules-heading">
        <table data-table="modules">
          <thead><tr><th scope="col">module</th><th scope="col" class="left">device</th><th scope="col">fps</th><th scope="col">frame ms</th><th scope="col">frames</th><th scope="col">dropped</th><th scope="col">copied/frame</th><th scope="col">copied</th><th scope="col">staging</th><th scope="col">bufs</th><th scope="col" class="left">detail</th></tr></thead>
          <tbody>
            ${rows.length === 0 ? html`<tr><td class="empty" colspan="11">No module has reported a frame yet.</td></tr>` : null}
            ${rows.map((row) => html`<tr data-module=${row.module}>
              <th scope="row" class="left">${row.module}</th>
              <td class="left">${row.device}${row.sharedDevice ? ' (shared)' : ''}</td>
              <td>${row.fps}</td>
              <td>${row.frameMs.toFixed(1)}</td>
              <td>${row.frames}</td>
              <td>${row.dropped}</td>
              <td class=${row.heap ? (row.copiedPerFrame === 0 ? 'zero' : 'nonzero') : ''}>${row.heap ? formatBytes(row.copiedPerFrame) : '–'}</td>
              <td>${row.heap ? formatBytes(row.heap.bytesCopied) : '–'}</td>
              <td>${row.heap ? formatBytes(row.heap.stagingBytes) : '–'}</td>
              <td>${row.heap ? row.heap.liveBuffers : '–'}</td>
              <td class="left">${row.detail}</td>
            </tr>`)}
          </tbody>
        </table>
      </div>`;
  }

  #renderBuffers() {
    const { entries } = this;
    // The page's listing as read, then each worker's as it answered.
    const workers = this.realms.filter((listing) => listing.realm !== 'page');
    const listings: RealmListing[] = [{ realm: 'page', entries }, ...workers];
    const count = listings.reduce((sum, listing) => sum + listing.entries.length, 0);
    const bytes = listings.reduce((sum, listing) => sum + listing.entries.reduce((s, entry) => s + entry.size, 0), 0);
    const realmsText = workers.length > 0 ? html` in ${listings.length} realms: ${listings.map((l) => l.realm).join(', ')}` : '';
    return html`
      <h3 id="bufinfo-heading">dma-bufs <span class="meta">(bufinfo: Total ${count} objects, ${formatBytes(bytes)}${realmsText})</span></h3>
      <div class="scroll" tabindex="0" role="region" aria-labelledby="bufinfo-heading">
        <table data-table="bufinfo">
          <thead><tr><th scope="col" class="left">realm</th><th scope="col">id</th><th scope="col" class="left">name</th><th scope="col" class="left">exporter</th><th scope="col">size</th><th scope="col">refs</th><th scope="col" class="left">attached devices (mappings)</th><th scope="col" class="left">CPU access</th><th scope="col" class="left">fences pending</th></tr></thead>
          <tbody>
            ${count === 0 ? html`<tr><td class="empty" colspan="9">No dma-buf is alive.</td></tr>` : null}
            ${listings.map(({ realm, entries: listed }) => listed.map((entry) => html`<tr data-buffer=${entry.id} data-realm=${realm}>
              <td class="left">${realm}</td>
              <td>${entry.id}</td>
              <td class="left">${entry.name}</td>
              <td class="left">${entry.exporter}</td>
              <td>${formatBytes(entry.size)}</td>
              <td data-refs>${entry.refCount}</td>
              <td class="left">${entry.attachments.length === 0 ? '–' : entry.attachments.map((a, i) => html`${i > 0 ? ', ' : ''}${a.device}${a.mappings.length > 0 ? html` <span class="mapped">(${a.mappings.join(', ')})</span>` : ''}`)}</td>
              <td class="left">${entry.cpuAccess.length === 0 ? '–' : entry.cpuAccess.map((r) => `[${r.start}, ${r.start + r.len}) ${r.direction}`).join(', ')}${entry.kmaps + entry.atomicKmaps > 0 ? ` · kmaps ${entry.kmaps}+${entry.atomicKmaps}` : ''}</td>
              <td class="left" data-fences>${entry.fences.length === 0 ? '–' : entry.fences.map((f) => `${f.usage} ${f.context}:${f.seqno}`).join(', ')}</td>
            </tr>`))}
          </tbody>
        </table>
      </div>`;
  }

  override render(): TemplateResult {
    return html`
      <div class="title"><h2>Inspector <span class="meta">like debugfs dma_buf/bufinfo</span></h2></div>
      ${this.#renderModules()}
      ${this.#renderBuffers()}
    `;
  }
}
