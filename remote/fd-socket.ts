/**
 * Passing fds between realms (a page and its workers, or any two realms joined by a
 * `MessagePort`): the kernel's UNIX socket with `SCM_RIGHTS`. Only the fd crosses; the
 * receiving realm gets a dma-buf of its own that behaves like any other, whose operations
 * run in the exporter's realm (see `remote/connection.ts` for references and death).
 */
import { booleanOption, checkBrand, checkOptions, describe, RECEIVER, type Brand } from '../src/checks.js';
import type { DmaBuf } from '../src/dma-buf.js';
import { DmaBufError } from '../src/error.js';
import { checkFdTable, type FdTable } from '../src/fd-table.js';
import { Connection, type SocketSink } from './connection.js';
import { noDeviceAccess, type RemoteDeviceAccess } from './device-access.js';
import { isEndpoint, type MessageEndpoint } from './endpoint.js';
import { defaultLiveness, type RealmLiveness } from './liveness.js';
import { realmOf } from './realm-state.js';
import { canShareMemory } from './shared-ring.js';

export type { MessageEndpoint } from './endpoint.js';
/**
 * The same type as {@link MessageEndpoint}.
 * @deprecated Use {@link MessageEndpoint}, the name every other part of the library uses.
 */
export type FdSocketEndpoint = MessageEndpoint;

/**
 * How the bytes of remote buffers travel between two realms: `'message'` (a transferred
 * `ArrayBuffer` with each message) or `'shared-memory'` (a `SharedArrayBuffer` ring per
 * direction, reused; needs cross-origin isolation in a browser).
 */
export type FdSocketTransport = 'message' | 'shared-memory';

/** Options of an {@link FdSocket}. */
export interface FdSocketOptions {
  /**
   * This realm's liveness: how its peers learn of its death and it of theirs. Default: a Web
   * Lock held for the realm's life (one per page or worker). Each distinct object is one
   * realm to the library, so tests in one process can stand for several realms.
   */
  readonly liveness?: RealmLiveness;
  /**
   * How proxies of remote buffers map on a device. The socket that `'webgpu-dmabuf'`
   * exports maps on WebGPU by default; without any, `attach` on a remote buffer is `ENODEV`.
   */
  readonly deviceAccess?: RemoteDeviceAccess;
  /**
   * How the bytes of remote buffers travel. `'shared-memory'` (the default where this realm
   * can share memory: a cross-origin isolated page or worker, or Node): a `SharedArrayBuffer`
   * ring per direction, reused, with `Atomics.waitAsync` wake-ups; it runs when both ends
   * offer it. `'message'`: a transferred `ArrayBuffer` per message. See {@link FdSocket.transport}.
   */
  readonly transport?: FdSocketTransport;
}

/** Options of {@link FdSocket.receive}. */
export interface FdReceiveOptions {
  /** Close-on-exec for the received fd, as `FdTable.install`'s. Default `true`. */
  readonly cloexec?: boolean;
}

interface Waiter {
  readonly table: FdTable;
  readonly cloexec: boolean;
  readonly resolve: (fd: number) => void;
  readonly reject: (error: DmaBufError) => void;
}

const connections = new WeakMap<FdSocket, Connection>();

/** The connection under `socket`: for `spawnWorker` and `inheritedFdTable` only. */
export function connectionOf(socket: FdSocket): Connection {
  const connection = connections.get(socket);
  if (!connection) throw new DmaBufError('EINVAL', 'connectionOf', `${describe(socket, SOCKET)} is not an FdSocket`);
  return connection;
}

// Set by FdSocket's static block: whether a value is a socket itself (see Brand).
let isSocket: (value: unknown) => boolean = () => false;

/**
 * One end of a connection between two realms, over a `MessagePort`, a `Worker` or a
 * worker's own global scope: the kernel's UNIX socket, over which `sendmsg` with
 * `SCM_RIGHTS` passes fds. Make one at each end (one socket per endpoint). Fds sent to this
 * end wait in order until {@link receive} takes them, as in a socket's queue; each holds its
 * own reference meanwhile. Closing the socket ends nothing already received: the buffers
 * that crossed keep working until their last reference anywhere is gone. Its methods throw
 * `EINVAL` when called on a look-alike (a Proxy or `Object.create` of a socket), before they
 * do anything.
 */
export class FdSocket {
  readonly #queue: DmaBuf[] = [];
  readonly #waiting: Waiter[] = [];
  #closed = false;
  #ended: 'EBADF' | 'ENODEV' | undefined;

  static {
    isSocket = (value) => typeof value === 'object' && value !== null && #queue in value;
  }

  /**
   * Starts this end on `endpoint`, which the socket listens on from now on (a `MessagePort`
   * is started). The other realm makes the other end on its side.
   * @throws {DmaBufError} `EINVAL` for something without `postMessage` and message events, or
   *   bad options.
   */
  constructor(endpoint: MessageEndpoint, options?: FdSocketOptions) {
    const call = 'new FdSocket';
    if (!isEndpoint(endpoint)) throw new DmaBufError('EINVAL', call, `expected a MessagePort, a Worker or a worker's global scope, got ${describe(endpoint)}`);
    const bag = checkOptions(call, options) as FdSocketOptions;
    const { liveness = defaultLiveness(), deviceAccess = noDeviceAccess } = bag;
    const transport: unknown = bag.transport;
    if (transport !== undefined && transport !== 'message' && transport !== 'shared-memory') {
      throw new DmaBufError('EINVAL', call, `transport must be 'message' or 'shared-memory', got ${describe(transport)}`);
    }
    if (transport === 'shared-memory' && !canShareMemory()) {
      throw new DmaBufError('EINVAL', call, `the 'shared-memory' transport needs SharedArrayBuffer and Atomics.waitAsync (a cross-origin isolated page or worker)`);
    }
    if (typeof liveness !== 'object' || typeof (liveness as Partial<RealmLiveness>).ready !== 'function' || typeof (liveness as Partial<RealmLiveness>).watch !== 'function') {
      throw new DmaBufError('EINVAL', call, `liveness must have ready() and watch(), got ${describe(liveness)}`);
    }
    if (typeof deviceAccess !== 'object' || typeof (deviceAccess as Partial<RemoteDeviceAccess>).forBuffer !== 'function') {
      throw new DmaBufError('EINVAL', call, `deviceAccess must have forBuffer(), got ${describe(deviceAccess)}`);
    }
    const sink: SocketSink = {
      accepting: () => !this.#closed,
      deliver: (buf) => { this.#deliver(buf); },
      ended: (code) => { this.#end(code); },
    };
    const offerShared = transport === undefined ? canShareMemory() : transport === 'shared-memory';
    connections.set(this, new Connection(endpoint, { realm: realmOf(liveness), access: deviceAccess, sink, offerShared }));
  }

  /**
   * How the bytes of remote buffers travel over this socket: `'shared-memory'` once both
   * ends have offered it (known after the two realms' first exchange, which the first
   * `send` or `receive` waits for), `'message'` otherwise.
   */
  get transport(): FdSocketTransport {
    checkSocket('transport', this);
    return connectionOf(this).transport;
  }

  /**
   * The payload bytes of byte RPCs that this end's realm has copied with the CPU over the
   * socket's connection, counting up from 0: as the importer of the buffers it received
   * (into the ring's slots, out of them, into its proxies' pages, into a transferred array)
   * and as the exporter of those it sent (between their pages and an array, into and out of
   * the ring). Each copy of each byte counts once; what the devices do (`writeBuffer`, GPU
   * copies) does not count. The connection outlives the socket: the count goes on after
   * {@link close} while buffers that crossed are still used. See docs/workers.md for the
   * copies each operation makes.
   */
  get cpuBytesCopied(): number {
    checkSocket('cpuBytesCopied', this);
    return connectionOf(this).cpuBytesCopied;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    checkSocket('closed', this);
    return this.#closed;
  }

  /**
   * Sends the buffer behind `fd` of `table` to the other end: `sendmsg` with `SCM_RIGHTS`.
   * Resolves once the other realm holds its own reference (the fd is in its socket's queue);
   * `table`'s fd stays open. Sending the same buffer again is one more reference there, not a
   * second buffer.
   * @throws {DmaBufError} `EINVAL` when `table` is not an `FdTable` itself (a Proxy or
   *   `Object.create` of one included: nothing is taken then); `EBADF` when `fd` is not
   *   open in `table`, this socket is closed, or the other end's is; `ENODEV` when the other
   *   realm is gone.
   */
  async send(table: FdTable, fd: number): Promise<void> {
    const call = 'send';
    checkSocket(call, this);
    checkFdTable(call, table, 'table');
    const buf = table.get(fd);
    let sent: Promise<void>;
    try {
      if (this.#closed) throw new DmaBufError('EBADF', call, `the socket is closed`);
      sent = connectionOf(this).send(buf);
    } finally {
      // The grant holds its own reference from here.
      buf.put();
    }
    await sent;
  }

  /**
   * The next fd sent to this end, installed in `table` at its lowest free number: `recvmsg`
   * with `SCM_RIGHTS`. Waits until one comes. The table owns the fd (close it when done).
   * @throws {DmaBufError} `EINVAL` when `table` is not an `FdTable` itself (a Proxy or
   *   `Object.create` of one included, refused before the receive waits for an fd) or the
   *   options are bad; `EBADF` when this socket is closed (also while waiting), or the other
   *   end's is and nothing is left in the queue; `ENODEV` when the other realm is gone and
   *   nothing is left.
   */
  async receive(table: FdTable, options?: FdReceiveOptions): Promise<number> {
    const call = 'receive';
    checkSocket(call, this);
    // Before it waits: a look-alike taken as a waiter would swallow the next fd sent.
    checkFdTable(call, table, 'table');
    const cloexec = booleanOption(call, checkOptions(call, options), 'cloexec', true);
    if (this.#closed) throw new DmaBufError('EBADF', call, `the socket is closed`);
    const next = this.#queue.shift();
    if (next) return install(table, next, cloexec);
    if (this.#ended) throw endedError(call, this.#ended);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ table, cloexec, resolve, reject });
    });
  }

  /**
   * Closes this end: receives waiting reject with `EBADF`, fds sent here and not yet
   * received are dropped (their references put), and the other end's later sends fail with
   * `EBADF`. Fds already received, and the buffers that crossed, are unaffected.
   * @throws {DmaBufError} `EBADF` when it is already closed.
   */
  close(): void {
    checkSocket('close', this);
    if (this.#closed) throw new DmaBufError('EBADF', 'close', 'the socket is already closed');
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(new DmaBufError('EBADF', 'receive', 'the socket was closed'));
    for (const buf of this.#queue.splice(0)) buf.put();
    connectionOf(this).closeSocket();
  }

  #deliver(buf: DmaBuf): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter.resolve(install(waiter.table, buf, waiter.cloexec));
    else this.#queue.push(buf);
  }

  #end(code: 'EBADF' | 'ENODEV'): void {
    this.#ended ??= code;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(endedError('receive', code));
  }
}

const SOCKET: Brand<FdSocket> = { noun: 'an FdSocket', variable: 'socket', prototype: FdSocket.prototype, has: (value): value is FdSocket => isSocket(value) };

/** Throws `EINVAL` naming `call` unless the socket a method was called on is one itself, not a look-alike. */
function checkSocket(call: string, self: unknown): void {
  checkBrand(call, self, SOCKET, RECEIVER);
}

function endedError(call: string, code: 'EBADF' | 'ENODEV'): DmaBufError {
  return code === 'ENODEV'
    ? new DmaBufError('ENODEV', call, `the other end's realm is gone and nothing is left to receive`)
    : new DmaBufError('EBADF', call, `the other end of the socket is closed and nothing is left to receive`);
}

/** Installs a received buffer, moving the socket's reference to the table. */
function install(table: FdTable, buf: DmaBuf, cloexec: boolean): number {
  const fd = table.install(buf, { cloexec });
  buf.put();
  return fd;
}
