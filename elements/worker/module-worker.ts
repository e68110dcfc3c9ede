// A module worker's entry: it hosts one pipeline module's logic (the filter's FilterModule or
// a view's ViewRenderer) on a GPUDevice of its own, taking its frames as fds from the page
// over an FdSocket (FrameReceiver), or, for a view whose source runs in a worker too, from
// that worker over a port the page handed both; a filter gives its own frames back to the
// page the same way (FrameSender), and sends them on every such port too. Realm: a module
// worker the page starts (ModuleWorkerClient).
import { bufinfoEntries, FdSocket, inheritedFdTable, requestGpuDevice } from 'webgpu-dmabuf';
import { FilterModule } from '../filter/filter-module.js';
import type { FrameInfo } from '../frame/frame-info.js';
import type { ModuleHost } from '../module/module-host.js';
import { ViewRenderer } from '../view/view-renderer.js';
import { toSharedClock } from './frame-link.js';
import { FrameReceiver } from './frame-receiver.js';
import { FrameSender } from './frame-sender.js';
import { toWorkerMessage, type FromModuleWorker, type ToModuleWorker } from './worker-protocol.js';

interface Scope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}
const scope = globalThis as unknown as Scope;
const post = (message: FromModuleWorker, transfer: Transferable[] = []) => { scope.postMessage(message, transfer); };

// No top-level await: the site's build bundles workers as classic scripts too. Every step
// waits for the socket to the page, which is made at once so that no fd the page sends is missed.
const inherited = inheritedFdTable();

/** A frame link on a port to another worker: its sender (a filter's) or its receiver (a view's), and its socket. */
interface PortLink {
  readonly end: { close(): void };
  readonly socket: FdSocket;
}

interface Running {
  readonly device: GPUDevice;
  readonly receiver: FrameReceiver;
  /** Links on ports to other workers, closed after the module. */
  readonly links: PortLink[];
  readonly filter: FilterModule | undefined;
  readonly renderer: ViewRenderer | undefined;
  readonly sender: FrameSender | undefined;
}
let running: Running | undefined;
let failed = false;
// Start and stop in the order asked: a stop that comes while the device is asked for waits for it.
let steps: Promise<unknown> = inherited;

const host: ModuleHost = {
  frameDone: (frameMs, heap, detail) => { post({ worker: 'frame-done', frameMs, heap, detail }); },
  frameDropped: () => { post({ worker: 'frame-dropped' }); },
  fail: (error) => {
    if (failed) return;
    failed = true;
    post({ worker: 'failed', message: error instanceof Error ? error.message : String(error) });
  },
};

async function start(message: Extract<ToModuleWorker, { worker: 'start' }>): Promise<void> {
  const { socket } = await inherited;
  const device = await requestGpuDevice({ label: `${message.name} device (worker)` });
  device.addEventListener('uncapturederror', (event) => { host.fail(new Error(`WebGPU error on ${device.label}: ${event.error.message}`)); });
  const links: PortLink[] = [];
  // A view whose source runs in a worker takes its frames from there; the page sends it none.
  const framesSocket = message.frames ? new FdSocket(message.frames) : undefined;
  const receiver = message.frames && framesSocket ? new FrameReceiver(message.frames, framesSocket) : new FrameReceiver(scope, socket);
  if (framesSocket) links.push({ end: receiver, socket: framesSocket });
  if (message.role === 'filter') {
    const filter = new FilterModule(device, { name: message.name, source: receiver.target, effect: message.effect, host });
    const sender = new FrameSender(scope, socket);
    sender.listen(filter.target);
    running = { device, receiver, links, filter, renderer: undefined, sender };
  } else {
    if (!message.canvas) throw new Error('module worker: a view needs its OffscreenCanvas');
    const onShown = (frame: FrameInfo, latencyMs: number) => { post({ worker: 'shown', frame: toSharedClock(frame), latencyMs }); };
    const renderer = new ViewRenderer(device, { canvas: message.canvas, source: receiver.target, host, onShown, label: `<dmabuf-view name="${message.name}"> (worker)` });
    running = { device, receiver, links, filter: undefined, renderer, sender: undefined };
  }
  post({ worker: 'ready', device: device.label });
}

/** A filter's frames go on `port` too, to the worker of a module that imports them. */
function link(port: MessagePort): void {
  const filter = running?.filter;
  if (!running || !filter) {
    port.close();
    return;
  }
  const socket = new FdSocket(port);
  const { links } = running;
  // The importer's worker gone (it starts again to link anew): this link goes with it.
  const sender: FrameSender = new FrameSender(port, socket, () => {
    socket.close();
    const at = links.findIndex((l) => l.end === sender);
    if (at >= 0) links.splice(at, 1);
  });
  sender.listen(filter.target);
  links.push({ end: sender, socket });
}

async function stop(): Promise<void> {
  const current = running;
  running = undefined;
  if (current) {
    // The module first: it gives back what it holds (and takes its own frames back), then the links.
    try {
      await current.filter?.close();
      await current.renderer?.close();
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
  post({ worker: 'stopped', entries: bufinfoEntries() });
}

async function capture(call: number): Promise<void> {
  try {
    const renderer = running?.renderer;
    if (!renderer) throw new Error('<dmabuf-view>.capture: the worker hosts no view');
    const { frame, pixels } = await renderer.capture();
    post({ worker: 'capture', call, frame: toSharedClock(frame), pixels, error: null }, [pixels.buffer]);
  } catch (error) {
    post({ worker: 'capture', call, frame: null, pixels: null, error: error instanceof Error ? error.message : String(error) });
  }
}

function handle(event: MessageEvent): void {
  const message = toWorkerMessage(event.data);
  if (!message) return;
  switch (message.worker) {
    case 'start':
      steps = steps.then(() => start(message)).catch((error: unknown) => { host.fail(error); });
      break;
    case 'link': {
      const { port } = message;
      steps = steps.then(() => { link(port); }).catch((error: unknown) => { host.fail(error); });
      break;
    }
    case 'effect':
      if (running?.filter) running.filter.effect = message.effect;
      break;
    case 'capture':
      void capture(message.call);
      break;
    case 'bufinfo':
      post({ worker: 'bufinfo', call: message.call, entries: bufinfoEntries() });
      break;
    case 'stop':
      steps = steps.then(stop).catch((error: unknown) => {
        host.fail(error);
        post({ worker: 'stopped', entries: bufinfoEntries() });
      });
      break;
  }
}

scope.addEventListener('message', handle);
