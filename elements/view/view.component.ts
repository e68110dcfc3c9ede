import { html, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { DmabufElementError } from '../element-error.js';
import type { FrameInfo } from '../frame/frame-info.js';
import { resolveSource } from '../module/resolve-source.js';
import { WorkerHostedModule } from '../module/worker-hosted-module.js';
import { ModuleWorkerClient } from '../worker/module-worker-client.js';
import type { ViewCapture } from './view-capture.js';
import { ViewRenderer } from './view-renderer.js';
import { parseShownNotice, parseViewCapture } from './view-worker-wire.js';
import { viewStyles } from './view.styles.js';

/** The view's worker entry, beside it (the form bundlers bundle): it registers the `'view'` module. */
const spawnViewWorker = (realm: string): Worker => new Worker(new URL('./view.worker.ts', import.meta.url), { type: 'module', name: realm });

/**
 * An importer that draws: maps each frame of its source `'to-device'` on its own
 * device and draws it, pixel for pixel, onto a WebGPU `<canvas>` shown at the frame's
 * aspect ratio.
 *
 * @summary An importer that draws: maps each frame of its source `'to-device'` on its own device
 * and draws it, pixel for pixel, onto a WebGPU `<canvas>` shown at the frame's aspect ratio.
 * @fires dmabuf-module-stats - {@link ModuleStatsEvent} after each frame drawn; `frameMs` is
 *   the time from capture to display.
 * @fires dmabuf-module-error - {@link ModuleErrorEvent} when the view fails (`status` turns
 *   `failed`); its `error` is the typed error: a `DmabufElementError` (`ENOSOURCE` when `source`
 *   names no element, `EWORKER` when its worker dies, `EGPU` on a WebGPU error of its device) or
 *   a `DmaBufError`.
 * @csspart canvas - the WebGPU canvas.
 * @cssprop [--dmabuf-fg=#e8eaf0] - Text colour.
 * @cssprop [--dmabuf-card=#1b1f2a] - Card background.
 * @cssprop [--dmabuf-border=#2c3344] - Card border colour.
 * @cssprop [--dmabuf-muted=#aab3c5] - Secondary text colour.
 * @cssprop [--dmabuf-view-max-height=70vh] - The tallest the canvas is drawn.
 */
export class DmabufView extends WorkerHostedModule<ModuleWorkerClient> {
  /** @internal The element's shadow styles (Lit). */
  static override styles = viewStyles;

  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties = {
    source: { type: String },
    label: { type: String },
  };

  /** The `id` of the element whose frames it draws. */
  declare source: string;
  /** What the picture is, for its caption and accessible name. */
  declare label: string;
  /** The last frame drawn (current at once; the caption shows it at most four times a second). */
  shown: FrameInfo | undefined;

  #renderer: ViewRenderer | undefined;
  #latency = 0;
  /**
   * A canvas given to a worker is the worker's for good, and only a canvas without a context
   * can be given: a new one is rendered for each.
   */
  #canvasGeneration = 0;
  #canvasTransferred = false;
  #canvasHasContext = false;

  constructor() {
    super('view');
    this.source = '';
    this.label = 'Picture';
    this.shown = undefined;
  }

  protected override async openWorker(): Promise<void> {
    const canvas = await this.#freshCanvas(this.#canvasHasContext);
    const offscreen = canvas.transferControlToOffscreen();
    this.#canvasTransferred = true;
    const onNotice = (name: string, detail: unknown) => {
      const shown = name === 'shown' ? parseShownNotice(detail) : undefined;
      if (!shown) return;
      this.#show(shown.frame, shown.latencyMs);
    };
    const source = resolveSource(this, this.source);
    // A source in a worker of its own sends its frames straight to this view's worker, over a
    // port the page hands both; each time the source starts again (elsewhere) the link is made anew.
    await this.startWorker(new ModuleWorkerClient({ role: 'view', spawn: spawnViewWorker, owner: `<${this.localName}>`, name: this.name, source, host: this.host, canvas: offscreen, onNotice, ...this.linkTo(source) }));
  }

  /** A frame drawn: the caption follows a few times a second; a new frame size reshapes the canvas at once. */
  #show(frame: FrameInfo, latencyMs: number): void {
    const before = this.shown?.layout;
    this.shown = frame;
    this.#latency = latencyMs;
    if (before?.width !== frame.layout.width || before.height !== frame.layout.height) this.requestUpdate();
    else this.requestFiguresUpdate();
  }

  /** The canvas: a new one if the one rendered was handed to a worker, or if `renew`. */
  async #freshCanvas(renew = false): Promise<HTMLCanvasElement> {
    if (this.#canvasTransferred || renew) {
      this.#canvasGeneration += 1;
      this.#canvasTransferred = false;
      this.#canvasHasContext = false;
      this.requestUpdate();
    }
    await this.updateComplete;
    const canvas = this.canvas;
    if (!canvas) throw new DmabufElementError('ENOCONTEXT', '<dmabuf-view>', 'the view rendered no canvas');
    return canvas;
  }

  /** The canvas frames are drawn on (once rendered). */
  get canvas(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector('canvas');
  }

  protected override async open(device: GPUDevice): Promise<void> {
    const canvas = await this.#freshCanvas();
    this.#canvasHasContext = true;
    const onShown = (frame: FrameInfo, latency: number) => {
      this.#show(frame, latency);
    };
    this.#renderer = new ViewRenderer(device, { canvas, source: resolveSource(this, this.source), host: this.host, onShown, label: '<dmabuf-view>' });
  }

  protected override async close(): Promise<void> {
    const renderer = this.#renderer;
    this.#renderer = undefined;
    await renderer?.close();
  }

  /**
   * Draws the frame on screen again and reads the canvas's own texture back: the pixels the
   * canvas shows, in RGBA order, with the frame they come from.
   * @throws {DmabufElementError} `ENOFRAME` when the view has no frame on screen (it is not
   *   running, or no frame came yet), `ENOTRUNNING` when its worker stops first, `EPROTO` when
   *   its worker answers with no capture.
   */
  capture(): Promise<ViewCapture> {
    if (this.#renderer) return this.#renderer.capture();
    const worker = this.hostedWorker;
    if (!worker) return Promise.reject(new DmabufElementError('ENOFRAME', '<dmabuf-view>.capture', 'the view is not running: no frame on screen'));
    return worker.request('capture').then((value) => {
      const captured = parseViewCapture(value);
      if (!captured) throw new DmabufElementError('EPROTO', '<dmabuf-view>.capture', `${worker.realm} answered with no capture`);
      return captured;
    });
  }

  override render(): TemplateResult {
    const { shown } = this;
    const aspect = shown ? `${shown.layout.width} / ${shown.layout.height}` : '4 / 3';
    return html`
      <figure>
        <div class="stage">
          ${keyed(this.#canvasGeneration, html`<canvas part="canvas" role="img" aria-label=${this.label} style="aspect-ratio: ${aspect}"></canvas>`)}
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
