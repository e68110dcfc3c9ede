import type { PropertyDeclarations, PropertyValues } from 'lit';
import type { BufInfoEntry, FdSocketTransport } from 'webgpu-dmabuf';
import { FrameEvent } from '../frame/frame-event.js';
import { DmabufModule, MODULE_STARTED } from './module-element.js';

/** A source that can send its frames to another worker directly (a module running in a worker of its own). */
function isLinkable(source: EventTarget): source is EventTarget & { openFrameLink(): MessagePort | undefined } {
  return typeof (source as { openFrameLink?: unknown }).openFrameLink === 'function';
}

/** What a {@link WorkerHostedModule} needs of the worker it hosts. */
export interface HostedWorker {
  /** The label of the worker's device, for the stats. */
  readonly device: string;
  /** How buffer bytes travel between the page and the worker. */
  readonly transport: FdSocketTransport;
  /** Starts the worker and its module; resolves once it runs. */
  start(): Promise<void>;
  /** Stops the module, gets every frame back and terminates the worker. */
  close(): Promise<void>;
  /**
   * The dma-bufs the worker still listed once its module had stopped: empty when it freed
   * everything; `undefined` until it stopped, or when it was terminated without saying so.
   */
  readonly leftAlive: readonly BufInfoEntry[] | undefined;
  /** Whether it takes its frames straight from its source's worker. */
  readonly linked: boolean;
  /** A port on which it sends its frames too, for another module's worker; `undefined` when it exports none. */
  openFrameLink(): MessagePort | undefined;
  /** Has a worker that makes frames send them to the page too (`on`), or only to other workers. */
  sendFramesToPage?(on: boolean): void;
}

/**
 * A module that can run in a module worker of its own (the filter, the views): the `worker`
 * property moves it there and back, live, and the element then hosts the worker (a `W`,
 * made by the subclass's `openWorker` and started with {@link startWorker}) instead of the
 * module's logic.
 *
 * Realm: the page (an element).
 */
export abstract class WorkerHostedModule<W extends HostedWorker> extends DmabufModule {
  /** @internal Lit's declarations; each property is documented where it is declared. */
  static override properties: PropertyDeclarations = {
    worker: { type: Boolean, reflect: true },
  };

  /**
   * Whether the module runs in a module worker of its own, with its own device there; its
   * source's frames reach the worker as fds over an `FdSocket`. Default: in the page.
   */
  declare worker: boolean;

  /** The worker the module runs in, while it runs in one. */
  protected hostedWorker: W | undefined;

  #workerLeftAlive: number | undefined;
  // The source whose restarts this module's worker follows, while it may take frames from its worker.
  #linkedSource: EventTarget | undefined;
  // The page's importers of this module's frames (FrameEvent listeners): its worker sends them frames only while there are some.
  readonly #frameListeners = new Set<EventListenerOrEventListenerObject>();

  constructor(name: string) {
    super(name);
    this.worker = false;
  }

  /** How buffer bytes travel between the page and the module's worker, while it runs in one. */
  get transport(): FdSocketTransport | undefined {
    return this.hostedWorker?.transport;
  }

  /**
   * How many dma-bufs the module's last worker still held when it stopped (0 when it gave
   * everything back: what a leak check reads after the module stopped); `undefined` while a
   * worker runs, when none has run, or when the last one was terminated without answering
   * (it died or hung: its realm, and whatever it held, are gone with it).
   */
  get workerBuffersLeftAlive(): number | undefined {
    return this.#workerLeftAlive;
  }

  /**
   * How the module's frames reach it while it runs in a worker: `'direct'` from its source's
   * worker (the page introduced the two over a `MessageChannel`), `'page'` through the page
   * (its source runs there); `undefined` while it runs in the page.
   */
  get frameRoute(): 'direct' | 'page' | undefined {
    const worker = this.hostedWorker;
    return worker ? (worker.linked ? 'direct' : 'page') : undefined;
  }

  /**
   * A port on which the module's worker sends its frames too, so that an importer's worker
   * takes them from there rather than through the page; `undefined` unless the module runs
   * in a worker and exports frames. The port is the caller's to hand to that worker.
   */
  openFrameLink(): MessagePort | undefined {
    return this.hostedWorker?.openFrameLink();
  }

  /**
   * Whether anything in the page listens for this module's `FrameEvent`s (an importer in the
   * page, a relay to a worker that takes them through the page): a module in a worker sends
   * its frames to the page only then. A `once` listener counts until it is removed by name.
   */
  protected get pageImportsFrames(): boolean {
    return this.#frameListeners.size > 0;
  }

  /** As `EventTarget`'s; a `FrameEvent` listener counts as an importer in the page: a module in a worker sends the page its frames only while it has one. */
  override addEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: HTMLElement, event: HTMLElementEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    if (!listener) return;
    super.addEventListener(type, listener, options);
    if (type !== FrameEvent.type || this.#frameListeners.has(listener)) return;
    this.#frameListeners.add(listener);
    if (this.#frameListeners.size === 1) this.hostedWorker?.sendFramesToPage?.(true);
  }

  /** As `EventTarget`'s; see {@link addEventListener}. */
  override removeEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: HTMLElement, event: HTMLElementEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void {
    if (!listener) return;
    super.removeEventListener(type, listener, options);
    if (type !== FrameEvent.type || !this.#frameListeners.delete(listener)) return;
    if (this.#frameListeners.size === 0) this.hostedWorker?.sendFramesToPage?.(false);
  }

  /** Moves the module into a worker of its own (`true`) or back into the page, live; resolves once it runs there. */
  useWorker(worker: boolean): Promise<void> {
    this.worker = worker;
    // A worker's device is its own: a shared page device does not follow it there.
    if (worker) this.device = undefined;
    return this.relocate();
  }

  protected override runsInWorker(): boolean {
    return this.worker;
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    if (changed.has('worker')) void this.relocate();
  }

  /** Starts `worker` as the one this element hosts; `openWorker` calls it with the worker it made. */
  protected async startWorker(worker: W): Promise<void> {
    this.hostedWorker = worker;
    this.#workerLeftAlive = undefined;
    await worker.start();
    this.workerDevice = worker.device;
  }

  /**
   * For an importer's worker: the way to take `source`'s frames straight from its worker
   * (the `link` of a `ModuleWorkerClient`), when `source` is a module that can run in a
   * worker; nothing for a source that cannot. Each time that source starts again (elsewhere)
   * this module starts again, to link anew, until its worker stops.
   */
  protected linkTo(source: EventTarget): { link?: () => MessagePort | undefined } {
    if (!isLinkable(source)) return {};
    this.#linkedSource = source;
    source.addEventListener(MODULE_STARTED, this.#onSourceStarted);
    return { link: () => source.openFrameLink() };
  }

  readonly #onSourceStarted = (): void => {
    void this.restart();
  };

  protected override async closeWorker(): Promise<void> {
    this.#linkedSource?.removeEventListener(MODULE_STARTED, this.#onSourceStarted);
    this.#linkedSource = undefined;
    const worker = this.hostedWorker;
    this.hostedWorker = undefined;
    await worker?.close();
    this.#workerLeftAlive = worker?.leftAlive?.length;
  }
}
