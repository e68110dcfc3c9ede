/**
 * The module worker's host: what runs in a worker the page starts for one module
 * (`ModuleWorkerClient`), whatever the module. It knows the frame protocol, the devices and
 * the socket, and no module by name: a module's worker entry (`filter.worker.ts` beside the
 * filter, `view.worker.ts` beside the view) registers it with {@link registerWorkerModule},
 * and the page's `start` names it by role.
 *
 * The host takes its frames as fds from the page over an `FdSocket` (a `FrameReceiver`), or,
 * for a module whose source runs in a worker too, from that worker over a port the page
 * handed both; a module that makes frames gives them back to the page the same way (a
 * `FrameSender`) and sends them on every such port too. It asks the module's device, turns
 * the module's `ModuleHost` reports into messages to the page, and, to stop, closes the
 * module, then its links, destroys the device and reports what is left in its
 * `bufinfoEntries()`.
 *
 * Realm: a module worker the page starts; importing it anywhere else does nothing until a
 * module is registered.
 *
 * @module
 */
import { bufinfoEntries, FdSocket, inheritedFdTable, requestGpuDevice, type MessageEndpoint } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import type { ModuleHost } from '../module/module-host.js';
import { FrameReceiver } from './frame-receiver.js';
import { FrameSender } from './frame-sender.js';
import { toWireError } from './wire-fields.js';
import type { WorkerModule, WorkerModuleDefinition } from './worker-module.js';
import { toWorkerMessage, type FromModuleWorkerWire, type ToModuleWorker } from './worker-protocol.js';

/** A frame link on a port to another worker: its sender (for a module's frames) or its receiver (a source's), and its socket. */
interface PortLink {
  readonly end: { close(): void };
  readonly socket: FdSocket;
}

interface Running {
  readonly device: GPUDevice;
  readonly receiver: FrameReceiver;
  /** Links on ports to other workers, closed after the module. */
  readonly links: PortLink[];
  readonly module: WorkerModule;
  /** The module's frames to the page, for a module that makes frames. */
  readonly sender: FrameSender | undefined;
}

/** The one host of this worker, made when the first module registers. */
class ModuleWorkerHost {
  readonly #scope: MessageEndpoint;
  readonly #modules = new Map<string, WorkerModuleDefinition>();
  // Made at once, so that no fd the page sends is missed; no top-level await: the site's
  // build bundles workers as classic scripts too.
  readonly #inherited: ReturnType<typeof inheritedFdTable>;
  #realm = 'module worker';
  #running: Running | undefined;
  #failed = false;
  // Whether the module's frames go to the page: only while someone there imports them.
  #pageFrames = true;
  // Start and stop in the order asked: a stop that comes while the device is asked for waits for it.
  #steps: Promise<unknown>;

  readonly #host: ModuleHost = {
    frameDone: (frameMs, heap, detail) => { this.#post({ worker: 'frame-done', frameMs, heap: heap ?? null, detail }); },
    frameDropped: () => { this.#post({ worker: 'frame-dropped' }); },
    fail: (error) => {
      if (this.#failed) return;
      this.#failed = true;
      this.#post({ worker: 'failed', error: toWireError(error, this.#realm) });
    },
  };

  constructor(scope: MessageEndpoint) {
    this.#scope = scope;
    this.#inherited = inheritedFdTable();
    this.#steps = this.#inherited;
    scope.addEventListener('message', this.#handle);
  }

  register(definition: WorkerModuleDefinition): void {
    if (this.#modules.has(definition.role)) throw new DmabufElementError('EINVAL', 'registerWorkerModule', `a module of role "${definition.role}" is registered already`);
    this.#modules.set(definition.role, definition);
  }

  #post(message: FromModuleWorkerWire, transfer: Transferable[] = []): void {
    this.#scope.postMessage(message, transfer);
  }

  async #start(message: Extract<ToModuleWorker, { worker: 'start' }>): Promise<void> {
    const { socket } = await this.#inherited;
    this.#realm = `worker ${message.name}`;
    const definition = this.#modules.get(message.role);
    if (!definition) throw new DmabufElementError('ENOWORKER', this.#realm, `this worker entry hosts no module of role "${message.role}" (it hosts ${[...this.#modules.keys()].join(', ') || 'none'})`);
    const device = await requestGpuDevice({ label: `${message.name} device (worker)` });
    device.addEventListener('uncapturederror', (event) => { this.#host.fail(new DmabufElementError('EGPU', device.label, event.error.message)); });
    const links: PortLink[] = [];
    // A module whose source runs in a worker takes its frames from there; the page sends it none.
    const framesSocket = message.frames ? new FdSocket(message.frames) : undefined;
    const receiver = message.frames && framesSocket ? new FrameReceiver(message.frames, framesSocket) : new FrameReceiver(this.#scope, socket);
    if (framesSocket) links.push({ end: receiver, socket: framesSocket });
    let module: WorkerModule;
    try {
      module = definition.start({
        device, name: message.name, source: receiver.target, host: this.#host, canvas: message.canvas, settings: message.settings,
        notify: (name, detail, transfer = []) => { this.#post({ worker: 'notice', name, detail }, transfer); },
      });
    } catch (error) {
      receiver.close();
      for (const { end, socket: linkSocket } of links) {
        end.close();
        linkSocket.close();
      }
      device.destroy();
      throw error;
    }
    const output = module.output;
    const sender = output ? new FrameSender(this.#scope, socket) : undefined;
    if (output && this.#pageFrames) sender?.listen(output);
    this.#running = { device, receiver, links, module, sender };
    this.#post({ worker: 'ready', device: device.label, exports: output !== undefined });
  }

  /** A module's frames go on `port` too, to the worker of a module that imports them. */
  #link(port: MessagePort): void {
    const output = this.#running?.module.output;
    if (!this.#running || !output) {
      port.close();
      return;
    }
    const socket = new FdSocket(port);
    const { links } = this.#running;
    // The importer's worker gone (it starts again to link anew): this link goes with it.
    const sender: FrameSender = new FrameSender(port, socket, () => {
      socket.close();
      const at = links.findIndex((l) => l.end === sender);
      if (at >= 0) links.splice(at, 1);
    });
    sender.listen(output);
    links.push({ end: sender, socket });
  }

  async #stop(): Promise<void> {
    const current = this.#running;
    this.#running = undefined;
    if (current) {
      // The module first: it gives back what it holds (and takes its own frames back), then the links.
      try {
        await current.module.close();
      } finally {
        current.receiver.close();
        current.sender?.close();
        for (const { end, socket } of current.links) {
          end.close();
          socket.close();
        }
        current.device.destroy();
      }
    }
    this.#post({ worker: 'stopped', entries: bufinfoEntries() });
  }

  /** Sends the module's frames to the page (`on`), or stops: what was sent stays out until given back. */
  #sendToPage(on: boolean): void {
    this.#pageFrames = on;
    const running = this.#running;
    const output = running?.module.output;
    if (!running?.sender || !output) return;
    if (on) running.sender.listen(output);
    else running.sender.stop();
  }

  /** A notice of the page's for the module; what it moved is closed when no module takes it. */
  #notice(name: string, detail: unknown): void {
    const module = this.#running?.module;
    if (module?.notice) module.notice(name, detail);
    else closeMoved(detail);
  }

  async #request(call: number, method: string, argument: unknown): Promise<void> {
    try {
      const module = this.#running?.module;
      if (!module?.request) throw new DmabufElementError('ENOTRUNNING', `${this.#realm}.${method}`, 'no module that answers requests runs in this worker');
      const { value, transfer = [] } = await module.request(method, argument);
      this.#post({ worker: 'answer', call, value, error: null }, transfer);
    } catch (error) {
      this.#post({ worker: 'answer', call, value: null, error: toWireError(error, this.#realm) });
    }
  }

  readonly #handle = (event: MessageEvent): void => {
    const message = toWorkerMessage(event.data);
    if (!message) return;
    const fail = (error: unknown): void => { this.#host.fail(error); };
    switch (message.worker) {
      case 'start':
        this.#steps = this.#steps.then(() => this.#start(message)).catch(fail);
        break;
      case 'link': {
        const { port } = message;
        this.#steps = this.#steps.then(() => { this.#link(port); }).catch(fail);
        break;
      }
      case 'configure':
        this.#running?.module.configure?.(message.settings);
        break;
      case 'page-frames':
        this.#sendToPage(message.on);
        break;
      case 'notice':
        this.#notice(message.name, message.detail);
        break;
      case 'request':
        void this.#request(message.call, message.method, message.argument);
        break;
      case 'bufinfo':
        this.#post({ worker: 'bufinfo', call: message.call, entries: bufinfoEntries() });
        break;
      case 'stop':
        this.#steps = this.#steps.then(() => this.#stop()).catch((error: unknown) => {
          fail(error);
          this.#post({ worker: 'stopped', entries: bufinfoEntries() });
        });
        break;
    }
  };
}

/** Closes a `VideoFrame` or stops a `MediaStreamTrack` that `detail` moved here and nobody takes. */
function closeMoved(detail: unknown): void {
  if (typeof detail !== 'object' || detail === null) return;
  for (const value of Object.values(detail)) {
    if (typeof VideoFrame === 'function' && value instanceof VideoFrame) value.close();
    else if (typeof ReadableStream === 'function' && value instanceof ReadableStream) value.cancel().catch(() => undefined);
    else if (typeof MediaStreamTrack === 'function' && value instanceof MediaStreamTrack) value.stop();
  }
}

let host: ModuleWorkerHost | undefined;

/**
 * Registers `definition` with this worker's host, which starts it when the page's `start`
 * names its role: a module's worker entry calls it once, at its top level, so that the host
 * listens before the page's first message is delivered. The first call makes the host (it
 * listens on the worker's global scope and takes the socket to the page).
 * @throws {DmabufElementError} `EINVAL` when a module of that role is registered already.
 */
export function registerWorkerModule(definition: WorkerModuleDefinition): void {
  host ??= new ModuleWorkerHost(globalThis as unknown as MessageEndpoint);
  host.register(definition);
}
