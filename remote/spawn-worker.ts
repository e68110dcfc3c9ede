/**
 * `fork` + `exec` for realms: a module worker that begins with its parent's fds, except the
 * close-on-exec ones, at the same numbers, joined to its parent by an {@link FdSocket}.
 * The socket class is the caller's (`'webgpu-dmabuf'` passes the one that maps on WebGPU).
 */
import { checkOptions, describe } from '../src/checks.js';
import { DmaBufError } from '../src/error.js';
import { checkFdTable, FdTable, installInherited } from '../src/fd-table.js';
import { connectionOf, type FdSocket, type MessageEndpoint, type FdSocketOptions } from './fd-socket.js';

/** Options of `spawnWorker`: those of `new Worker` (`type` is `'module'` unless given), and the socket's. */
export interface SpawnWorkerOptions extends WorkerOptions {
  /** Options of the parent's end of the socket. */
  readonly socket?: FdSocketOptions;
}

/** What `spawnWorker` returns; the caller owns both (terminate the worker, close the socket). */
export interface SpawnedWorker<S extends FdSocket = FdSocket> {
  /** The worker, started. */
  readonly worker: Worker;
  /** The parent's end of the socket to it. */
  readonly socket: S;
}

/** What `inheritedFdTable` resolves to in a worker; the worker owns both. */
export interface InheritedFdTable<S extends FdSocket = FdSocket> {
  /** The worker's fd table: the parent's non-close-on-exec fds, at their numbers. */
  readonly table: FdTable;
  /** The worker's end of the socket to its parent. */
  readonly socket: S;
}

/**
 * What `spawnWorker` starts: the URL of a module worker's script, a `Worker` the caller has
 * just made (the form bundlers recognise: `new Worker(new URL('./worker.ts', import.meta.url),
 * { type: 'module' })`), or a function that makes one.
 */
export type WorkerSource = string | URL | Worker | (() => Worker);

/**
 * Whether `value` is a `Worker` itself: its `onmessage` getter answers only for a real one (a
 * Proxy or `Object.create` of one passes `instanceof` but throws there).
 */
function isWorker(value: unknown): value is Worker {
  if (typeof Worker === 'undefined' || !(value instanceof Worker)) return false;
  try {
    Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage')?.get?.call(value);
    return true;
  } catch {
    return false;
  }
}

/** Makes the socket class of the caller's choice. */
export type SocketMaker<S extends FdSocket> = (endpoint: MessageEndpoint, options?: FdSocketOptions) => S;

/**
 * `spawnWorker` with the socket made by `connect`: see the public `spawnWorker`.
 * @throws {DmaBufError} `EINVAL` for a source that is neither a string, a `URL`, a `Worker`
 *   itself nor a function, a table that is not an `FdTable` itself (a Proxy or `Object.create`
 *   of one included), bad options, `new Worker`'s options beside a `Worker` or a function, or
 *   a function that returns no `Worker`; what `new Worker` or the function throws. Nothing is
 *   started then (a `Worker` given stays the caller's).
 */
export function spawnWorkerWith<S extends FdSocket>(connect: SocketMaker<S>, source: WorkerSource, table: FdTable, options?: SpawnWorkerOptions): SpawnedWorker<S> {
  const call = 'spawnWorker';
  const made = isWorker(source) || typeof source === 'function';
  if (!made && typeof source !== 'string' && !(source instanceof URL)) {
    throw new DmaBufError('EINVAL', call, `the worker must be a URL (a string or a URL), a Worker itself or a function that makes one, got ${describe(source)}`);
  }
  checkFdTable(call, table, 'table');
  const { socket: socketOptions, ...workerOptions } = checkOptions(call, options) as SpawnWorkerOptions;
  if (made && Object.keys(workerOptions).length > 0) {
    throw new DmaBufError('EINVAL', call, `${Object.keys(workerOptions).join(', ')}: new Worker's options apply to a URL only; give them to new Worker yourself`);
  }
  // fork: the fds as they are now, each with a reference of its own until the child has them.
  const snapshot = table.spawn();
  let worker: Worker;
  try {
    if (isWorker(source)) worker = source;
    else if (typeof source === 'function') worker = madeWorker(call, source);
    else worker = new Worker(source, { type: 'module', ...workerOptions });
  } catch (error) {
    snapshot.closeAll();
    throw error;
  }
  let socket: S;
  try {
    socket = connect(worker, socketOptions);
  } catch (error) {
    snapshot.closeAll();
    worker.terminate();
    throw error;
  }
  const connection = connectionOf(socket);
  connection.inheritFrom(snapshot);
  // A worker that fails to load (a URL the build did not bundle) or throws before it connects
  // never says hello: without this, what was sent to it would wait for it for ever.
  worker.addEventListener('error', () => { connection.peerFailedToStart(); }, { once: true });
  return { worker, socket };
}

/**
 * The worker `make` returns.
 * @throws {DmaBufError} `EINVAL` when it returns something else than a `Worker` itself.
 */
function madeWorker(call: string, make: () => Worker): Worker {
  const worker: unknown = make();
  if (!isWorker(worker)) throw new DmaBufError('EINVAL', call, `the function given made no Worker but ${describe(worker)}`);
  return worker;
}

/**
 * `inheritedFdTable` on `endpoint` with the socket made by `connect`: see the public one.
 * @throws {DmaBufError} `ENODEV` when the parent's realm is gone before the fds came.
 */
export async function inheritedFdTableWith<S extends FdSocket>(connect: SocketMaker<S>, endpoint: MessageEndpoint, options?: FdSocketOptions): Promise<InheritedFdTable<S>> {
  const socket = connect(endpoint, options);
  const fds = await connectionOf(socket).inherited();
  const table = new FdTable();
  for (const { fd, buf } of fds) {
    installInherited(table, fd, buf);
    buf.put();
  }
  return { table, socket };
}
