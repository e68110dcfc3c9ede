import { DmaBufError, FdSocket, FdTable, type BufInfoEntry, type FdSocketTransport, type GpuHeapStats } from 'webgpu-dmabuf';
import type { FrameInfo } from '../frame/frame-info.js';
import type { FrameEffect } from '../kernels/frame-effect.js';
import type { ModuleHost } from '../module/module-host.js';
import type { ViewCapture } from '../view/view-capture.js';
import { fromSharedClock } from './frame-link.js';
import { FrameReceiver } from './frame-receiver.js';
import { FrameSender } from './frame-sender.js';
import { listRealm, unlistRealm, type ListedRealm } from './worker-realms.js';
import { fromWorkerMessage, type FromModuleWorker, type ToModuleWorker, type WorkerRole } from './worker-protocol.js';

/** How long a worker gets to stop and give its frames back before it is terminated anyway. */
const STOP_GRACE_MS = 5000;

/** How a {@link ModuleWorkerClient} is set up. */
export interface ModuleWorkerClientOptions {
  /** Which module the worker hosts. */
  readonly role: WorkerRole;
  /** The module's name (its buffers', its device's and its realm's). */
  readonly name: string;
  /** Where the source's `FrameEvent`s are dispatched in the page (a camera, a filter). */
  readonly source: EventTarget;
  /** Where its reports go: frames done and dropped, and its failure. */
  readonly host: ModuleHost;
  /** The filter's effect to start with. */
  readonly effect?: FrameEffect;
  /** A view's canvas, from `transferControlToOffscreen()`: it moves to the worker. */
  readonly canvas?: OffscreenCanvas;
  /** Where a filter's frames are dispatched in the page, as `FrameEvent`s of the page. */
  readonly output?: EventTarget;
  /** Called with each frame a view drew, and its time from capture to display. */
  readonly onShown?: (frame: FrameInfo, latencyMs: number) => void;
  /** Called with the heap counts of each frame a filter made. */
  readonly onHeap?: (heap: GpuHeapStats) => void;
  /**
   * A view's way to its source's worker: a port on which that worker sends its frames
   * (`openFrameLink` of the source's client), or `undefined` when the source runs in the page.
   * With a port the view's worker takes its frames from there, and the page relays none.
   */
  readonly link?: () => MessagePort | undefined;
}

/**
 * The page's side of a module that runs in a worker of its own: it starts the module worker
 * (elements/worker/module-worker.ts) with an `FdSocket` to it, relays the source's frames
 * there as fds (a {@link FrameSender}), dispatches the frames a filter makes back here as
 * `FrameEvent`s of the page (a {@link FrameReceiver}), and turns the worker's reports into
 * the element's `ModuleHost` calls. Its realm is listed for the inspector while it runs.
 *
 * Realm: the page.
 */
export class ModuleWorkerClient implements ListedRealm {
  /** The worker's realm label for the inspector: `worker NAME`. */
  readonly realm: string;
  readonly #options: ModuleWorkerClientOptions;
  readonly #worker: Worker;
  readonly #socket: FdSocket;
  readonly #sender: FrameSender;
  readonly #receiver: FrameReceiver | undefined;
  readonly #calls = new Map<number, (message: FromModuleWorker) => void>();
  readonly #died: Promise<void>;
  #nextCall = 1;
  #device = '';
  #linked = false;
  #markDied: () => void = () => undefined;
  #leftAlive: readonly BufInfoEntry[] | undefined;
  #closing: Promise<void> | undefined;
  #onReady: ((device: string) => void) | undefined;
  #onStartFailed: ((error: Error) => void) | undefined;
  #onStopped: (() => void) | undefined;

  /** Starts the worker; {@link start} hands it the module. */
  constructor(options: ModuleWorkerClientOptions) {
    this.#options = options;
    this.realm = `worker ${options.name}`;
    this.#worker = new Worker(new URL('./module-worker.ts', import.meta.url), { type: 'module', name: this.realm });
    this.#socket = new FdSocket(this.#worker);
    this.#worker.addEventListener('message', this.#onMessage);
    let died: () => void = () => undefined;
    this.#died = new Promise((resolve) => { died = resolve; });
    this.#markDied = died;
    this.#worker.addEventListener('error', (event) => {
      options.host.fail(new Error(`${this.realm}: ${event.message || 'the worker failed to run'}`));
      died();
    });
    // Its realm gone without a word (terminated, crashed): the frames it held are back, the module fails.
    this.#sender = new FrameSender(this.#worker, this.#socket, () => {
      died();
      if (!this.#closing) options.host.fail(new Error(`${this.realm} is gone`));
    });
    this.#receiver = options.output ? new FrameReceiver(this.#worker, this.#socket, options.output) : undefined;
  }

  /** The label of the worker's own device, once it runs. */
  get device(): string {
    return this.#device;
  }

  /**
   * The dma-bufs the worker still listed once it had stopped its module and given every frame
   * back (its `bufinfoEntries()` then): empty when it freed everything, a leak otherwise.
   * `undefined` until it said it stopped, and for good when it died or hung instead.
   */
  get leftAlive(): readonly BufInfoEntry[] | undefined {
    return this.#leftAlive;
  }

  /** Whether the worker takes its frames straight from its source's worker (else the page relays them). */
  get linked(): boolean {
    return this.#linked;
  }

  /**
   * A port on which a filter's running worker sends its frames too, for the worker of a
   * module that imports them (the other end of the port goes to that worker); `undefined`
   * unless this is a filter's worker that runs. The port is the caller's.
   */
  openFrameLink(): MessagePort | undefined {
    if (this.#options.role !== 'filter' || !this.#device || this.#closing) return undefined;
    const { port1, port2 } = new MessageChannel();
    this.#post({ worker: 'link', port: port1 }, [port1]);
    return port2;
  }

  /** How buffer bytes travel on its socket (known once it runs). */
  get transport(): FdSocketTransport {
    return this.#socket.transport;
  }

  /**
   * Hands the worker its module (and a view's canvas) and resolves once it runs there on its
   * own device; then begins relaying the source's frames.
   * @throws {Error} when the worker fails first.
   */
  async start(): Promise<void> {
    const { role, name, effect = 'none', canvas } = this.#options;
    const ready = new Promise<string>((resolve, reject) => {
      this.#onReady = resolve;
      this.#onStartFailed = reject;
    });
    const frames = this.#options.link?.();
    this.#linked = frames !== undefined;
    this.#post({ worker: 'start', role, name, effect, canvas: canvas ?? null, frames: frames ?? null }, [...(canvas ? [canvas] : []), ...(frames ? [frames] : [])]);
    const device = await Promise.race([ready, this.#died.then(() => { throw new Error(`${this.realm} died before it ran`); })]);
    this.#onStartFailed = undefined;
    this.#device = device;
    listRealm(this);
    if (frames) this.#watchRealm();
    else this.#sender.listen(this.#options.source);
  }

  /**
   * A worker the page sends no frames to is not found gone by a failed send: the socket's
   * watch of its realm says so instead (a receive on it fails `ENODEV`; the worker sends the
   * page no fds, so nothing else ends it before `close`).
   */
  #watchRealm(): void {
    const scratch = new FdTable();
    const watch = (): void => {
      this.#socket.receive(scratch).then(
        (fd) => {
          scratch.close(fd);
          watch();
        },
        (error: unknown) => {
          if (!(error instanceof DmaBufError) || error.code !== 'ENODEV') return;
          this.#markDied();
          if (!this.#closing) this.#options.host.fail(new Error(`${this.realm} is gone`));
        },
      );
    };
    watch();
  }

  /** Sets the filter's effect in the worker. */
  setEffect(effect: FrameEffect): void {
    this.#post({ worker: 'effect', effect });
  }

  /** The view's pixels as its canvas shows them, read back in the worker from the canvas's own texture. */
  async capture(): Promise<ViewCapture> {
    const answer = await this.#call((call) => ({ worker: 'capture', call }));
    if (answer.worker !== 'capture' || !answer.frame || !answer.pixels) throw new Error(answer.worker === 'capture' && answer.error ? answer.error : `${this.realm}: no capture`);
    return { frame: fromSharedClock(answer.frame), pixels: answer.pixels };
  }

  /** The worker's `bufinfoEntries()`. */
  async bufinfo(): Promise<readonly BufInfoEntry[]> {
    const answer = await this.#call((call) => ({ worker: 'bufinfo', call }));
    return answer.worker === 'bufinfo' ? answer.entries : [];
  }

  /**
   * Stops relaying, has the worker stop its module and give every frame back, then
   * terminates it (at once when it is dead, after a grace period when it does not answer)
   * and gives back whatever it still held. Calls after the first return the first one's promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    unlistRealm(this);
    this.#sender.stop();
    const stopped = new Promise<void>((resolve) => { this.#onStopped = resolve; });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, STOP_GRACE_MS); });
    this.#post({ worker: 'stop' });
    const graceful = await Promise.race([stopped.then(() => true), this.#died.then(() => false), grace.then(() => false)]);
    clearTimeout(timer);
    this.#worker.terminate();
    // A worker that did not stop held references to the page's buffers: they go when the page
    // sees its realm die, which the exporters' teardown must wait for.
    if (!graceful) await this.#realmGone();
    this.#worker.removeEventListener('message', this.#onMessage);
    // Its `done`s came before `stopped`: these are only frames of a worker that died or hung.
    this.#sender.close();
    this.#receiver?.close();
    this.#socket.close();
    for (const answer of this.#calls.values()) answer({ worker: 'failed', message: `${this.realm} stopped` });
    this.#calls.clear();
  }

  /** Resolves once the socket sees the worker's realm gone (its references dropped), or after the grace period. */
  async #realmGone(): Promise<void> {
    const scratch = new FdTable();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<undefined>((resolve) => { timer = setTimeout(() => { resolve(undefined); }, STOP_GRACE_MS); });
    try {
      // Fds still on their way are closed; the receive that fails is the realm's death.
      for (let fd = await Promise.race([this.#socket.receive(scratch), grace]); fd !== undefined; fd = await Promise.race([this.#socket.receive(scratch), grace])) scratch.close(fd);
    } catch {
      // ENODEV: gone, and its references with it.
    } finally {
      clearTimeout(timer);
      scratch.closeAll();
    }
  }

  #call(ask: (call: number) => ToModuleWorker): Promise<FromModuleWorker> {
    if (this.#closing) return Promise.reject(new Error(`${this.realm} is stopping`));
    const call = this.#nextCall++;
    return new Promise((resolve) => {
      this.#calls.set(call, resolve);
      this.#post(ask(call));
    });
  }

  #post(message: ToModuleWorker, transfer: Transferable[] = []): void {
    this.#worker.postMessage(message, transfer);
  }

  readonly #onMessage = (event: MessageEvent) => {
    const message = fromWorkerMessage(event.data);
    if (!message) return;
    const { host } = this.#options;
    switch (message.worker) {
      case 'ready':
        this.#onReady?.(message.device);
        break;
      case 'frame-done':
        if (message.heap) this.#options.onHeap?.(message.heap);
        host.frameDone(message.frameMs, message.heap, message.detail);
        break;
      case 'frame-dropped':
        host.frameDropped();
        break;
      case 'shown':
        this.#options.onShown?.(fromSharedClock(message.frame), message.latencyMs);
        break;
      case 'failed': {
        const error = new Error(`${this.realm}: ${message.message}`);
        // Before it runs, start() rejects (and the element fails); after, the element fails.
        if (this.#onStartFailed) this.#onStartFailed(error);
        else host.fail(error);
        break;
      }
      case 'capture':
      case 'bufinfo': {
        const answer = this.#calls.get(message.call);
        this.#calls.delete(message.call);
        answer?.(message);
        break;
      }
      case 'stopped':
        this.#leftAlive = message.entries;
        // Everything of a stopped worker was given back: what it still lists is a leak.
        if (message.entries.length > 0) console.error(`${this.realm} stopped with ${message.entries.length} dma-buf(s) alive: ${message.entries.map((e) => `${e.name} (${e.refCount} refs)`).join(', ')}`);
        this.#onStopped?.();
        break;
    }
  };
}
