/**
 * The worker API as `'webgpu-dmabuf'` exports it: the contract's socket, `spawnWorker` and
 * `inheritedFdTable`, with remote buffers mapping on WebGPU by default
 * (`remote-mirrors.ts`).
 */
import { checkOptions } from '../src/checks.js';
import { DmaBufError } from '../src/error.js';
import type { FdTable } from '../src/fd-table.js';
import { FdSocket as ContractSocket, type MessageEndpoint, type FdSocketOptions } from '../remote/fd-socket.js';
import { inheritedFdTableWith, spawnWorkerWith, type InheritedFdTable, type SpawnedWorker, type SpawnWorkerOptions, type WorkerSource } from '../remote/spawn-worker.js';
import { gpuRemoteDeviceAccess } from './remote-mirrors.js';

/**
 * One end of a connection between two realms over a `MessagePort`, a `Worker` or a worker's
 * global scope: the kernel's UNIX socket passing fds with `SCM_RIGHTS`. As the contract's
 * socket (`send`, `receive`, `close`, `transport`), with remote buffers that map on the
 * importing realm's own `GPUDevice` (`options.deviceAccess` replaces that).
 */
export class FdSocket extends ContractSocket {
  /**
   * Starts this end on `endpoint`; the other realm makes the other end.
   * @throws {DmaBufError} `EINVAL` for something without `postMessage` and message events,
   *   or bad options (one that is not an object included); nothing listens on `endpoint` then.
   */
  constructor(endpoint: MessageEndpoint, options?: FdSocketOptions) {
    // Checked before the spread, which would turn a number or an array into an empty bag.
    super(endpoint, { deviceAccess: gpuRemoteDeviceAccess, ...(checkOptions('new FdSocket', options) as FdSocketOptions) });
  }
}

const connect = (endpoint: MessageEndpoint, options?: FdSocketOptions) => new FdSocket(endpoint, options);

/**
 * Starts a module worker whose realm begins with the fds of `table` that are not
 * close-on-exec, at the same numbers, and returns it with a connected socket: `fork` +
 * `exec`. `worker` is the worker's script URL, or a `Worker` the caller has just made (give
 * it in the same task as `new Worker`, before a load error can be reported; bundlers bundle
 * `new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })`), or a function
 * that makes one. The fds are taken as they are at the call; the worker gets them when it
 * calls {@link inheritedFdTable}. `options` are `new Worker`'s for a URL (`type: 'module'`
 * unless given), plus `socket` for the socket's. The caller owns the worker and the socket;
 * terminating the worker closes its fds (the parent drops the references it held for it). A
 * worker that fails to load (a URL the build did not bundle: with Vite, pass a `Worker` made
 * as above, or import the URL as `'./worker.ts?worker&url'`) or throws before it connects is
 * gone at once: the fds it was to inherit are given back, and the socket's sends and
 * receives fail with `ENODEV`.
 * @throws {DmaBufError} `EINVAL` for a source that is neither a URL, a `Worker` itself (a
 *   Proxy of one is not) nor a function that returns one, a table that is not an `FdTable`
 *   itself (a Proxy or `Object.create` of one included), bad options, or `new Worker`'s
 *   options beside a `Worker`; what `new Worker` throws. Nothing is started then.
 */
export function spawnWorker(worker: WorkerSource, table: FdTable, options?: SpawnWorkerOptions): SpawnedWorker<FdSocket> {
  return spawnWorkerWith(connect, worker, table, options);
}

let inherited: Promise<InheritedFdTable<FdSocket>> | undefined;

/**
 * In a worker that {@link spawnWorker} started: its fd table (its parent's fds that were not
 * close-on-exec, at their numbers, each with the worker's own reference) and its end of the
 * socket to its parent. The same answer on every call. In a worker started otherwise, whose
 * parent made a plain `FdSocket` on it, the table is empty. The worker owns both.
 * @throws {DmaBufError} `EINVAL` outside a worker; `ENODEV` when the parent's realm is gone
 *   before the fds came.
 */
export function inheritedFdTable(options?: FdSocketOptions): Promise<InheritedFdTable<FdSocket>> {
  if (!inherited) {
    const scope = globalThis as unknown as Partial<MessageEndpoint> & { WorkerGlobalScope?: unknown; document?: unknown };
    if (typeof scope.WorkerGlobalScope !== 'function' || scope.document !== undefined || typeof scope.postMessage !== 'function') {
      return Promise.reject(new DmaBufError('EINVAL', 'inheritedFdTable', 'not in a worker; a worker started by spawnWorker calls it'));
    }
    inherited = inheritedFdTableWith(connect, scope as MessageEndpoint, options);
  }
  return inherited;
}
