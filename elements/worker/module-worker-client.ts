import { DmaBufError, FdSocket, FdTable, type BufInfoEntry, type FdSocketTransport, type GpuHeapStats } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import type { ModuleHost } from '../module/module-host.js';
import { FrameReceiver } from './frame-receiver.js';
import { FrameSender } from './frame-sender.js';
import { fromWorkerMessage, type ToModuleWorker, type WorkerError } from './worker-protocol.js';
import { listRealm, unlistRealm, type ListedRealm } from './worker-realms.js';

/** How long a worker gets to stop and give its frames back before it is terminated anyway. */
const STOP_GRACE_MS = 5000;

/** How a {@link ModuleWorkerClient} is set up. */
export interface ModuleWorkerClientOptions {
  /** Which module the worker hosts: the role its worker entry registered (`registerWorkerModule`). */
  readonly role: string;
  /**
   * Makes the worker from the module's own worker entry, named `realm`: a
   * `new Worker(new URL('./NAME.worker.ts', import.meta.url), { type: 'module', name: realm })`
   * beside the entry, the form bundlers bundle. The client owns the worker it returns.
   */
  readonly spawn: (realm: string) => Worker;
  /** What the errors it fails its module with name as their `call`: the element that hosts it (`<dmabuf-filter>`). */
  readonly owner: string;
  /** The module's name (its buffers', its device's and its realm's). */
  readonly name: string;
  /**
   * Where the source's `FrameEvent`s are dispatched in the page (a camera, a filter);
   * `undefined` for a module that takes no frames (the camera).
   */
  readonly source?: EventTarget;
  /** Where its reports go: frames done and dropped, and its failure. */
  readonly host: ModuleHost;
  /** The module's own settings to start with (the filter's effect): plain data its worker entry parses. */
  readonly settings?: unknown;
  /** A view's canvas, from `transferControlToOffscreen()`: it moves to the worker. */
  readonly canvas?: OffscreenCanvas;
  /** Where a filter's frames are dispatched in the page, as `FrameEvent`s of the page. */
  readonly output?: EventTarget;
  /** Called with each notice of the module's own (a view's frame shown), as its worker posted it: the caller parses `detail`. */
  readonly onNotice?: (name: string, detail: unknown) => void;
  /**
   * Whether the module's frames (a filter's, a camera's) go to {@link output} from the start:
   * only while something in the page imports them; later changes by {@link sendFramesToPage}.
   * Default: they do.
   */
  readonly pageFrames?: boolean;
  /** Called with the heap counts of each frame a module made (an exporter's). */
  readonly onHeap?: (heap: GpuHeapStats) => void;
  /**
   * An importer's way to its source's worker: a port on which that worker sends its frames
   * (`openFrameLink` of the source's client), or `undefined` when the source runs in the page.
   * With a port the importer's worker takes its frames from there, and the page relays none.
   */
  readonly link?: () => MessagePort | undefined;
}

/**
 * The page's side of a module that runs in a worker of its own: it starts the module's own
 * worker entry (`spawn`, which registers the module with the host of
 * elements/worker/module-worker.ts) with an `FdSocket` to it, relays the source's frames
 * there as fds (a {@link FrameSender}), dispatches the frames the module makes back here as
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
  readonly #calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: WorkerError) => void }>();
  readonly #died: Promise<void>;
  #nextCall = 1;
  #device = '';
  #exports = false;
  #linked = false;
  #pageFrames: boolean;
  #started = false;
  #markDied: () => void = () => undefined;
  #leftAlive: readonly BufInfoEntry[] | undefined;
  #closing: Promise<void> | undefined;
  #onReady: ((started: { device: string; exports: boolean }) => void) | undefined;
  #onStartFailed: ((error: DmabufElementError) => void) | undefined;
  #onStopped: (() => void) | undefined;

  /** Starts the worker; {@link start} hands it the module. */
  constructor(options: ModuleWorkerClientOptions) {
    this.#options = options;
    this.#pageFrames = options.pageFrames ?? true;
    this.realm = `worker ${options.name}`;
    this.#worker = options.spawn(this.realm);
    this.#socket = new FdSocket(this.#worker);
    this.#worker.addEventListener('message', this.#onMessage);
    let died: () => void = () => undefined;
    this.#died = new Promise((resolve) => { died = resolve; });
    this.#markDied = died;
    this.#worker.addEventListener('error', (event) => {
      options.host.fail(new DmabufElementError('EWORKER', options.owner, `${this.realm} failed to run: ${event.message || 'no message'}`));
      died();
    });
    // Its realm gone without a word (terminated, crashed): the frames it held are back, the module fails.
    this.#sender = new FrameSender(this.#worker, this.#socket, () => {
      died();
      if (!this.#closing) options.host.fail(this.#gone());
    });
    // Its receive is always pending: a worker that makes frames is found gone at once, even while it makes none.
    this.#receiver = options.output ? new FrameReceiver(this.#worker, this.#socket, options.output, () => { this.#lost(); }) : undefined;
  }

  /** The worker's realm found gone after its module ran: the module fails (unless it is being stopped). */
  #lost(): void {
    if (!this.#device) return;
    this.#markDied();
    if (!this.#closing) this.#options.host.fail(this.#gone());
  }

  /** The failure of a worker whose realm went without a word (terminated, crashed). */
  #gone(): DmabufElementError {
    return new DmabufElementError('EWORKER', this.#options.owner, `${this.realm} is gone`);
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
   * A port on which the running worker of a module that makes frames (a filter's) sends them
   * too, for the worker of a module that imports them (the other end of the port goes to that
   * worker); `undefined` unless the worker runs a module that makes frames. The port is the caller's.
   */
  openFrameLink(): MessagePort | undefined {
    if (!this.#exports || !this.#device || this.#closing) return undefined;
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
   * @throws {DmabufElementError} `EWORKER` when the worker dies first, or when its module does
   *   not start (its `cause`: the worker's own typed error, rebuilt in the page).
   */
  async start(): Promise<void> {
    const { role, name, settings = null, canvas } = this.#options;
    const ready = new Promise<{ device: string; exports: boolean }>((resolve, reject) => {
      this.#onReady = resolve;
      this.#onStartFailed = reject;
    });
    const frames = this.#options.link?.();
    this.#linked = frames !== undefined;
    this.#post({ worker: 'start', role, name, settings, canvas: canvas ?? null, frames: frames ?? null }, [...(canvas ? [canvas] : []), ...(frames ? [frames] : [])]);
    this.#started = true;
    this.#post({ worker: 'page-frames', on: this.#pageFrames });
    const started = await Promise.race([ready, this.#died.then(() => { throw new DmabufElementError('EWORKER', this.#options.owner, `${this.realm} died before its module ran`); })]);
    this.#onStartFailed = undefined;
    this.#device = started.device;
    this.#exports = started.exports;
    listRealm(this);
    const { source } = this.#options;
    if (source && !frames) this.#sender.listen(source);
    // Else no failed send finds it gone; a worker that makes frames is watched by its receiver.
    else if (!this.#receiver) this.#watchRealm();
  }

  /**
   * A worker the page sends no frames to, and that sends the page none, is not found gone by
   * a failed send nor by its receiver: the socket's watch of its realm says so instead (a
   * receive on it fails `ENODEV`; the worker sends the page no fds, so nothing else ends it
   * before `close`).
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
          if (error instanceof DmaBufError && error.code === 'ENODEV') this.#lost();
        },
      );
    };
    watch();
  }

  /**
   * Posts the module a notice of its own, moving `transfer` to the worker (the camera's
   * track, a stream of its frames, or one frame); its worker entry parses `detail`.
   * @throws {DOMException} `DataCloneError` when the browser cannot move something in
   *   `transfer` to a worker (a `MediaStreamTrack` in Chromium): nothing is posted then.
   */
  notify(name: string, detail: unknown, transfer: Transferable[] = []): void {
    this.#post({ worker: 'notice', name, detail }, transfer);
  }

  /**
   * Has the worker send the module's frames to the page (`on`: something in the page imports
   * them now) or send them only on its links to other workers: each frame the page receives
   * costs its main thread, importer or not. Frames sent stay out until given back.
   */
  sendFramesToPage(on: boolean): void {
    if (on === this.#pageFrames) return;
    this.#pageFrames = on;
    if (this.#started && !this.#closing) this.#post({ worker: 'page-frames', on });
  }

  /** Hands the module new settings of its own (the filter's effect), which its worker entry parses. */
  configure(settings: unknown): void {
    this.#post({ worker: 'configure', settings });
  }

  /**
   * Asks the module in the worker for `method` (the view's `capture`) and resolves with its
   * answer, plain data the caller parses.
   * @throws {DmabufElementError} `ENOTRUNNING` once the worker is stopping, or the module's own
   *   failure (a `DmabufElementError` or a `DmaBufError`) rebuilt in the page.
   */
  request(method: string, argument: unknown = null): Promise<unknown> {
    return this.#call((call) => ({ worker: 'request', call, method, argument }), `${this.realm}.${method}`);
  }

  /** The worker's `bufinfoEntries()`. */
  async bufinfo(): Promise<readonly BufInfoEntry[]> {
    return await this.#call((call) => ({ worker: 'bufinfo', call }), `${this.realm}.bufinfo`) as readonly BufInfoEntry[];
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
    for (const { reject } of this.#calls.values()) reject(new DmabufElementError('ENOTRUNNING', this.realm, 'the worker stopped before it answered'));
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

  #call(ask: (call: number) => ToModuleWorker, what: string): Promise<unknown> {
    if (this.#closing) return Promise.reject(new DmabufElementError('ENOTRUNNING', what, `${this.realm} is stopping`));
    const call = this.#nextCall++;
    return new Promise((resolve, reject) => {
      this.#calls.set(call, { resolve, reject });
      this.#post(ask(call));
    });
  }

  /** Settles call `call` with `value`, or with `error`. */
  #answer(call: number, value: unknown, error: WorkerError | null): void {
    const pending = this.#calls.get(call);
    this.#calls.delete(call);
    if (error) pending?.reject(error);
    else pending?.resolve(value);
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
        this.#onReady?.({ device: message.device, exports: message.exports });
        break;
      case 'frame-done':
        if (message.heap) this.#options.onHeap?.(message.heap);
        host.frameDone(message.frameMs, message.heap ?? undefined, message.detail);
        break;
      case 'frame-dropped':
        host.frameDropped();
        break;
      case 'notice':
        this.#options.onNotice?.(message.name, message.detail);
        break;
      case 'failed': {
        // The module's own failure, in its realm: the element's is that its worker failed.
        const error = new DmabufElementError('EWORKER', this.#options.owner, `${this.realm}: ${message.error.message}`, { cause: message.error });
        // Before it runs, start() rejects (and the element fails); after, the element fails.
        if (this.#onStartFailed) this.#onStartFailed(error);
        else host.fail(error);
        break;
      }
      case 'answer':
        this.#answer(message.call, message.value, message.error);
        break;
      case 'bufinfo':
        this.#answer(message.call, message.entries, null);
        break;
      case 'stopped':
        this.#leftAlive = message.entries;
        // Everything of a stopped worker was given back: what it still lists is a leak.
        if (message.entries.length > 0) console.error(`${this.realm} stopped with ${message.entries.length} dma-buf(s) alive: ${message.entries.map((e) => `${e.name} (${e.refCount} refs)`).join(', ')}`);
        this.#onStopped?.();
        break;
    }
  };
}
