/**
 * What the page and a module worker say to each other, as plain messages beside the frame
 * link's and the fd socket's on the same channel, and the parsers every incoming one goes
 * through: a message that is not the host's (no `worker` field) or is malformed in any way (an
 * unknown kind, a wrong type, a count out of range) parses to `undefined` and is ignored.
 *
 * The host knows no module: what is a module's own (its settings, its requests and their
 * answers, its notices) crosses as plain data that the module parses itself.
 *
 * @module
 */
import type { BufInfoEntry, DmaBufError, GpuHeapStats } from 'webgpu-dmabuf';
import type { DmabufElementError } from '../element-error.js';
import { bufInfoEntry, fromWireError, heapStats, isInt, isNumber, isRecord, isText, listOf, type Fields, type WireError } from './wire-fields.js';

/** What the page tells a module worker. */
export type ToModuleWorker =
  /**
   * Start the module registered as `role`, named `name`, with the module's own `settings`;
   * `canvas` is a view's; `frames`, a port on which its source's worker sends its frames
   * (else the page sends them).
   */
  | { readonly worker: 'start'; readonly role: string; readonly name: string; readonly settings: unknown; readonly canvas: OffscreenCanvas | null; readonly frames: MessagePort | null }
  /**
   * Whether the module's frames go to the page too (`on`: someone in the page imports them;
   * else only on its links to other workers). Until told, they do.
   */
  | { readonly worker: 'page-frames'; readonly on: boolean }
  /** Send the module's frames on this port too, to another module's worker. */
  | { readonly worker: 'link'; readonly port: MessagePort }
  /** The module's new settings (the filter's effect). */
  | { readonly worker: 'configure'; readonly settings: unknown }
  /**
   * Something of the module's own for it to take, moved with the message (the camera's
   * frames: a `MediaStreamTrack`, a `ReadableStream` of `VideoFrame`s, or one `VideoFrame`).
   */
  | { readonly worker: 'notice'; readonly name: string; readonly detail: unknown }
  /** A request of the module's own (the view's `capture`), answered by an `answer` with the same `call`. */
  | { readonly worker: 'request'; readonly call: number; readonly method: string; readonly argument: unknown }
  | { readonly worker: 'bufinfo'; readonly call: number }
  | { readonly worker: 'stop' };

/** What a module worker tells the page, as posted: a failure's error as {@link WireError}. */
export type FromModuleWorkerWire =
  /** `exports`: the module makes frames of its own, which it can send on a link. */
  | { readonly worker: 'ready'; readonly device: string; readonly exports: boolean }
  | { readonly worker: 'frame-done'; readonly frameMs: number; readonly heap: GpuHeapStats | null; readonly detail: string }
  | { readonly worker: 'frame-dropped' }
  /** A notice of the module's own (a view's frame shown), for its element. */
  | { readonly worker: 'notice'; readonly name: string; readonly detail: unknown }
  | { readonly worker: 'failed'; readonly error: WireError }
  | { readonly worker: 'answer'; readonly call: number; readonly value: unknown; readonly error: WireError | null }
  | { readonly worker: 'bufinfo'; readonly call: number; readonly entries: readonly BufInfoEntry[] }
  | { readonly worker: 'stopped'; readonly entries: readonly BufInfoEntry[] };

/** A worker's error, rebuilt in the page as its class. */
export type WorkerError = DmaBufError | DmabufElementError;

/** What a module worker tells the page, once parsed: errors are typed errors again. */
export type FromModuleWorker =
  | Exclude<FromModuleWorkerWire, { readonly worker: 'failed' | 'answer' }>
  | { readonly worker: 'failed'; readonly error: WorkerError }
  | { readonly worker: 'answer'; readonly call: number; readonly value: unknown; readonly error: WorkerError | null };

/** The longest module role or method name taken. */
const MAX_NAME = 128;
const isName = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME;
const isPort = (value: unknown): value is MessagePort => typeof MessagePort === 'function' && value instanceof MessagePort;
const isCanvas = (value: unknown): value is OffscreenCanvas => typeof OffscreenCanvas === 'function' && value instanceof OffscreenCanvas;

/**
 * The page's message to a module worker in `data`, or `undefined` when it is not one (the
 * socket's, the frame link's) or is malformed. Never throws.
 */
export function toWorkerMessage(data: unknown): ToModuleWorker | undefined {
  if (!isRecord(data) || typeof data.worker !== 'string') return undefined;
  try {
    return parseToWorker(data);
  } catch {
    // A getter that throws: not a message of ours.
    return undefined;
  }
}

function parseToWorker(data: Fields): ToModuleWorker | undefined {
  switch (data.worker) {
    case 'start': {
      const { role, name, settings, canvas, frames } = data;
      if (!isName(role) || !isName(name) || !(canvas === null || isCanvas(canvas)) || !(frames === null || isPort(frames))) return undefined;
      return { worker: 'start', role, name, settings, canvas, frames };
    }
    case 'link':
      return isPort(data.port) ? { worker: 'link', port: data.port } : undefined;
    case 'page-frames':
      return typeof data.on === 'boolean' ? { worker: 'page-frames', on: data.on } : undefined;
    case 'configure':
      return { worker: 'configure', settings: data.settings };
    case 'notice':
      return isName(data.name) ? { worker: 'notice', name: data.name, detail: data.detail } : undefined;
    case 'request': {
      const { call, method, argument } = data;
      return isInt(call, 1) && isName(method) ? { worker: 'request', call, method, argument } : undefined;
    }
    case 'bufinfo':
      return isInt(data.call, 1) ? { worker: 'bufinfo', call: data.call } : undefined;
    case 'stop':
      return { worker: 'stop' };
    default:
      return undefined;
  }
}

/**
 * A module worker's message to the page in `data`, its errors rebuilt as their classes, or
 * `undefined` when it is not one or is malformed. Never throws.
 */
export function fromWorkerMessage(data: unknown): FromModuleWorker | undefined {
  if (!isRecord(data) || typeof data.worker !== 'string') return undefined;
  try {
    return parseFromWorker(data);
  } catch {
    return undefined;
  }
}

function parseFromWorker(data: Fields): FromModuleWorker | undefined {
  switch (data.worker) {
    case 'ready': {
      const { device, exports } = data;
      return isText(device) && typeof exports === 'boolean' ? { worker: 'ready', device, exports } : undefined;
    }
    case 'frame-done': {
      const { frameMs, detail } = data;
      const heap = data.heap === null ? null : heapStats(data.heap);
      return isNumber(frameMs) && isText(detail) && heap !== undefined ? { worker: 'frame-done', frameMs, heap, detail } : undefined;
    }
    case 'frame-dropped':
      return { worker: 'frame-dropped' };
    case 'notice':
      return isName(data.name) ? { worker: 'notice', name: data.name, detail: data.detail } : undefined;
    case 'failed': {
      const error = fromWireError(data.error);
      return error ? { worker: 'failed', error } : undefined;
    }
    case 'answer': {
      const { call, value } = data;
      const error = data.error === null ? null : fromWireError(data.error);
      return isInt(call, 1) && error !== undefined ? { worker: 'answer', call, value, error } : undefined;
    }
    case 'bufinfo': {
      const entries = listOf(data.entries, bufInfoEntry);
      return isInt(data.call, 1) && entries ? { worker: 'bufinfo', call: data.call, entries } : undefined;
    }
    case 'stopped': {
      const entries = listOf(data.entries, bufInfoEntry);
      return entries ? { worker: 'stopped', entries } : undefined;
    }
    default:
      return undefined;
  }
}
