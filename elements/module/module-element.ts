import { LitElement, type PropertyDeclarations, type PropertyValues } from 'lit';
import { DmaBufError, requestGpuDevice, type GpuHeapStats } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import { ModuleErrorEvent } from './module-error-event.js';
import type { ModuleHost } from './module-host.js';
import { ModuleStatsEvent } from './module-stats-event.js';
import type { ModuleStats } from './module-stats.js';
import { RateMeter } from './rate-meter.js';

/**
 * How often, at most, a module's card is drawn again for its per-frame figures (frames, the
 * frame on screen), ms: a redraw per frame would cost the page a style, layout and paint per
 * frame, more than the rest of a pipeline in workers costs it.
 */
const FIGURES_REDRAW_MS = 250;

/** Where a module is in its life: `idle` (not connected), `starting`, `running`, `failed`. */
export type ModuleStatus = 'idle' | 'starting' | 'running' | 'failed';

/**
 * The event (`dmabuf-module-started`, not bubbling) a module fires on itself each time it
 * runs after a (re)start, in the page or in a worker: an importer whose worker takes the
 * module's frames straight from the module's worker must link to it anew.
 */
export const MODULE_STARTED = 'dmabuf-module-started';

/**
 * The common life of a pipeline module (camera, filter, view): an independent module with
 * its own fd table and, unless given a shared {@link device}, its own `GPUDevice`.
 *
 * Connecting starts it (`open`), disconnecting stops it (`close`); setting {@link device}
 * (or calling {@link useDevice}) restarts it on that device, live: it stops taking and
 * making frames, waits until every frame it lent is given back, frees its buffers, destroys
 * the device if it was its own, and starts again. Steps never overlap.
 *
 * The element holds the module's life and its figures; what the module does with frames is in
 * plain classes it hosts (a `FrameExporter`, a `FilterModule`, a `ViewRenderer`), which
 * report back through a `ModuleHost` and need no element, so that a worker can host them
 * as well: a module that can (the filter, the views) runs in a module worker of its own when
 * asked, and the element then hosts the worker instead of the logic, with the same life and
 * figures. Lives in the page only (a Lit element).
 *
 * @fires dmabuf-module-stats - {@link ModuleStatsEvent} after each frame.
 * @fires dmabuf-module-error - {@link ModuleErrorEvent} when the module fails: its `error` is
 *   the typed error that stopped it (a `DmabufElementError` or a `DmaBufError`).
 */
export abstract class DmabufModule extends LitElement {
  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties: PropertyDeclarations = {
    name: { type: String, reflect: true },
    device: { attribute: false },
    status: { type: String, reflect: true },
    error: { state: true },
  };

  /** The module's name in stats and buffer names. */
  declare name: string;
  /** A device shared with other modules; `undefined` (the default) for a device of its own. */
  declare device: GPUDevice | undefined;
  /** Where the module is in its life (reflected as the `status` attribute). */
  declare status: ModuleStatus;
  /**
   * Why it failed, in words, when {@link status} is `failed` (else empty): the `reason` of a
   * `DmabufElementError` (the element it shows on is the one that failed), the `message` of a
   * `DmaBufError`. The typed error itself is {@link failure}.
   */
  declare error: string;

  /** The device in use while running. */
  protected gpu: GPUDevice | undefined;
  #owned = false;
  #requested: GPUDevice | undefined;
  #inWorker = false;
  #running = false;
  // Set by restart(): start again even where nothing else changed.
  #stale = false;
  #chain: Promise<void> = Promise.resolve();
  #rate = new RateMeter();
  #frames = 0;
  #dropped = 0;
  #failure: DmaBufError | DmabufElementError | undefined;
  #redraw: ReturnType<typeof setTimeout> | undefined;
  /**
   * @internal This module's {@link ModuleHost}, for the plain classes that do its work:
   * {@link frameDone}, {@link frameDropped} and {@link fail}, bound to the element.
   */
  protected readonly host: ModuleHost = {
    frameDone: (frameMs, heap, detail) => { this.frameDone(frameMs, heap, detail); },
    frameDropped: () => { this.frameDropped(); },
    fail: (error) => { this.fail(error); },
  };
  readonly #onGpuError = (event: GPUUncapturedErrorEvent) => {
    this.fail(new DmabufElementError('EGPU', this.gpu?.label ?? `<${this.localName}>`, event.error.message));
  };

  constructor(name: string) {
    super();
    this.name = name;
    this.device = undefined;
    this.status = 'idle';
    this.error = '';
  }

  /** Resolves when every start, stop and restart asked for so far is done. */
  get settled(): Promise<void> {
    return this.#chain;
  }

  /**
   * The typed error that stopped the module, while {@link status} is `failed` (the one its
   * `dmabuf-module-error` event carried); `undefined` otherwise.
   */
  get failure(): DmaBufError | DmabufElementError | undefined {
    return this.#failure;
  }

  /** Frames done since the module last started. */
  get frames(): number {
    return this.#frames;
  }

  /** Frames let go since the module last started. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Runs the module on `device` (shared) or on a device of its own (`undefined`); resolves once it runs there. */
  useDevice(device: GPUDevice | undefined): Promise<void> {
    this.device = device;
    return this.#sync();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#sync();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    void this.#sync();
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    if (changed.has('device')) void this.#sync();
  }

  /** Starts work on `device`: make the heap, fd table, kernels, and begin taking or making frames. */
  protected abstract open(device: GPUDevice): Promise<void>;

  /** Stops work: take and make no more frames, wait for lent frames to come back, free everything. */
  protected abstract close(): Promise<void>;

  /**
   * Whether the module's work should run in a module worker of its own (with its own device
   * there) rather than in the page; checked at each (re)start. Modules that can (the filter,
   * the views) answer with their `worker` property; the default is the page.
   */
  protected runsInWorker(): boolean {
    return false;
  }

  /**
   * Starts the work in a worker instead of {@link open}: the element hosts the worker, which
   * reports frames through {@link host}.
   * @throws {DmabufElementError} `ENOWORKER` by default: this module cannot run in a worker.
   */
  protected openWorker(): Promise<void> {
    return Promise.reject(new DmabufElementError('ENOWORKER', `<${this.localName}>`, 'this module has no worker entry: it runs in the page only'));
  }

  /** Stops the worker {@link openWorker} started: every frame back, the worker terminated. */
  protected closeWorker(): Promise<void> {
    return Promise.resolve();
  }

  /** The label of the device the worker runs on, for the stats (set by {@link openWorker}). */
  protected workerDevice = '';

  /** Restarts the module where it should now run, if that changed (see {@link runsInWorker}); resolves once settled. */
  protected relocate(): Promise<void> {
    return this.#sync();
  }

  /** Stops the module and starts it again where it runs (an importer that must take its frames anew); resolves once settled. */
  protected restart(): Promise<void> {
    this.#stale = true;
    return this.#sync();
  }

  /**
   * Draws the card again for its per-frame figures, at most once per {@link FIGURES_REDRAW_MS}
   * (the figures themselves, {@link frames} and the like, are current at once).
   */
  protected requestFiguresUpdate(): void {
    if (this.#redraw !== undefined) return;
    this.#redraw = setTimeout(() => {
      this.#redraw = undefined;
      this.requestUpdate();
    }, FIGURES_REDRAW_MS);
  }

  /** Counts one frame done, fires a {@link ModuleStatsEvent} and draws the figures again (not at once: {@link requestFiguresUpdate}). */
  protected frameDone(frameMs: number, heap: GpuHeapStats | undefined, detail: string): void {
    this.#frames += 1;
    this.requestFiguresUpdate();
    this.#emit(this.#rate.tick(), frameMs, heap, detail);
  }

  /** Counts one frame let go. */
  protected frameDropped(): void {
    this.#dropped += 1;
  }

  /**
   * Stops the module, shows why and fires a {@link ModuleErrorEvent} with the typed error
   * (once; later errors while failed are ignored). An error of no typed class is wrapped in an
   * `EINTERNAL` {@link DmabufElementError} whose `cause` it is.
   */
  protected fail(error: unknown): void {
    if (this.status === 'failed') return;
    const failure = error instanceof DmaBufError || error instanceof DmabufElementError
      ? error
      : new DmabufElementError('EINTERNAL', `<${this.localName}>`, error instanceof Error ? error.message : String(error), { cause: error });
    const shown = failure instanceof DmabufElementError ? failure.reason : failure.message;
    console.error(`<${this.localName} name="${this.name}">: ${shown}`);
    this.status = 'failed';
    this.error = shown;
    this.#failure = failure;
    void this.#enqueue(() => this.#stop());
    this.dispatchEvent(new ModuleErrorEvent(failure));
  }

  #emit(fps: number, frameMs: number, heap: GpuHeapStats | undefined, detail: string): void {
    const stats: ModuleStats = {
      module: this.name,
      kind: this.localName.replace(/^dmabuf-/, ''),
      device: this.#inWorker ? this.workerDevice : this.gpu?.label ?? '',
      sharedDevice: !this.#owned,
      frames: this.#frames,
      dropped: this.#dropped,
      fps,
      frameMs,
      heap,
      detail,
    };
    this.dispatchEvent(new ModuleStatsEvent(stats));
  }

  #sync(): Promise<void> {
    return this.#enqueue(() => this.#reconcile());
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(step).catch((error: unknown) => { this.fail(error); });
    return this.#chain;
  }

  async #reconcile(): Promise<void> {
    const wanted = this.isConnected ? this.device : null;
    const inWorker = this.runsInWorker();
    const same = wanted === this.#requested && inWorker === this.#inWorker && !this.#stale;
    this.#stale = false;
    if (this.#running && !same) await this.#stop();
    if (this.#running || wanted === null || this.status === 'failed' && same) return;
    this.status = 'starting';
    this.error = '';
    this.#failure = undefined;
    this.#requested = wanted;
    this.#inWorker = inWorker;
    try {
      this.#frames = 0;
      this.#dropped = 0;
      this.#rate = new RateMeter();
      if (inWorker) {
        this.#owned = true;
        this.#running = true;
        await this.openWorker();
      } else {
        this.#owned = wanted === undefined;
        const device = wanted ?? await requestGpuDevice({ label: `${this.name} device` });
        this.gpu = device;
        this.#running = true;
        device.addEventListener('uncapturederror', this.#onGpuError);
        await this.open(device);
      }
      // A frame may have failed the module while it opened.
      if ((this.status as ModuleStatus) === 'starting') {
        this.status = 'running';
        this.dispatchEvent(new Event(MODULE_STARTED));
      }
    } catch (error) {
      this.fail(error);
    }
  }

  async #stop(): Promise<void> {
    if (!this.#running) return;
    const device = this.gpu;
    try {
      if (this.#inWorker) await this.closeWorker();
      else await this.close();
    } finally {
      if (device) {
        device.removeEventListener('uncapturederror', this.#onGpuError);
        if (this.#owned) device.destroy();
      }
      this.gpu = undefined;
      this.#running = false;
      if (this.status !== 'failed') this.status = 'idle';
    }
  }
}
