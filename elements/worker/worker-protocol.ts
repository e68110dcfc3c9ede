import type { BufInfoEntry, GpuHeapStats } from 'webgpu-dmabuf';
import type { FrameInfo } from '../frame/frame-info.js';
import type { FrameEffect } from '../kernels/frame-effect.js';

/** Which module a module worker hosts: the filter's `FilterModule` or the view's `ViewRenderer`. */
export type WorkerRole = 'filter' | 'view';

/** What the page tells a module worker (plain messages beside the frame link's and the socket's). */
export type ToModuleWorker =
  /** `frames`: a view takes its frames from this port (its source's worker) instead of the page. */
  | { readonly worker: 'start'; readonly role: WorkerRole; readonly name: string; readonly effect: FrameEffect; readonly canvas: OffscreenCanvas | null; readonly frames: MessagePort | null }
  /** A filter sends its frames on this port too, to another module's worker. */
  | { readonly worker: 'link'; readonly port: MessagePort }
  | { readonly worker: 'effect'; readonly effect: FrameEffect }
  | { readonly worker: 'capture'; readonly call: number }
  | { readonly worker: 'bufinfo'; readonly call: number }
  | { readonly worker: 'stop' };

/** What a module worker tells the page; a frame's `capturedAt` is on the shared clock (`toSharedClock`). */
export type FromModuleWorker =
  | { readonly worker: 'ready'; readonly device: string }
  | { readonly worker: 'frame-done'; readonly frameMs: number; readonly heap: GpuHeapStats | undefined; readonly detail: string }
  | { readonly worker: 'frame-dropped' }
  | { readonly worker: 'shown'; readonly frame: FrameInfo; readonly latencyMs: number }
  | { readonly worker: 'failed'; readonly message: string }
  | { readonly worker: 'capture'; readonly call: number; readonly frame: FrameInfo | null; readonly pixels: Uint8Array | null; readonly error: string | null }
  | { readonly worker: 'bufinfo'; readonly call: number; readonly entries: readonly BufInfoEntry[] }
  | { readonly worker: 'stopped'; readonly entries: readonly BufInfoEntry[] };

/** Whether `data` is a module-worker message (not the frame link's nor the socket's). */
function isWorkerMessage(data: unknown): boolean {
  return typeof data === 'object' && data !== null && typeof (data as { worker?: unknown }).worker === 'string';
}

/** The page's message to a module worker in `data`, or `undefined` for anything else. */
export function toWorkerMessage(data: unknown): ToModuleWorker | undefined {
  return isWorkerMessage(data) ? (data as ToModuleWorker) : undefined;
}

/** A module worker's message to the page in `data`, or `undefined` for anything else. */
export function fromWorkerMessage(data: unknown): FromModuleWorker | undefined {
  return isWorkerMessage(data) ? (data as FromModuleWorker) : undefined;
}
