import { booleanOption, checkBrand, checkOptions, describe, RECEIVER, type Brand } from './checks.js';
import { checkDmaBuf, type DmaBuf } from './dma-buf.js';
import { DmaBufError } from './error.js';

/** Options of {@link FdTable.install} and {@link FdTable.send}. */
export interface FdOptions {
  /**
   * Close-on-exec (the kernel's `O_CLOEXEC`, given at creation because setting it later is
   * racy): a table made by {@link FdTable.spawn} does not inherit the fd. Default `true`.
   */
  readonly cloexec?: boolean;
}

// Set by FdTable's static block: whether a value is a table itself (see Brand).
let isTable: (value: unknown) => boolean = () => false;

// Set by FdTable's static block: the one way to open an fd at a given number.
let installAtHook: (table: FdTable, fd: number, buf: DmaBuf) => void = () => undefined;

/**
 * Opens `buf` at exactly `fd` in `table`, not close-on-exec, with the table's own reference:
 * what an exec'd process finds at the numbers its parent left open. For `inheritedFdTable`,
 * which starts a worker's table as `spawn` starts a child table; not part of the public API.
 * @throws {DmaBufError} `EINVAL` when `fd` is already open there.
 */
export function installInherited(table: FdTable, fd: number, buf: DmaBuf): void {
  installAtHook(table, fd, buf);
}

interface FdEntry {
  readonly buf: DmaBuf;
  readonly cloexec: boolean;
}

/**
 * One module's file-descriptor table (a process's, in the kernel): a component, a worker
 * or any independent module keeps one. An fd number means something only inside its own
 * table; there is no global registry through which a module without the fd could reach
 * the buffer. Each open fd holds its own reference to its buffer.
 */
export class FdTable {
  readonly #entries = new Map<number, FdEntry>();

  static {
    isTable = (value) => typeof value === 'object' && value !== null && #entries in value;
    installAtHook = (table, fd, buf) => {
      if (table.#entries.has(fd)) throw new DmaBufError('EINVAL', 'inherit', `fd ${fd} is already open`);
      table.#entries.set(fd, { buf: buf.get(), cloexec: false });
    };
  }

  /**
   * Gives `buf` the lowest free fd, starting at 0: the kernel's `dma_buf_fd`. Unlike the
   * kernel, the table takes its own reference: the caller keeps its own and puts it when done.
   * @throws {DmaBufError} `EINVAL` for something that is not a live dma-buf (a look-alike
   *   included: a Proxy or `Object.create` of one), or bad options.
   */
  install(buf: DmaBuf, options?: FdOptions): number {
    checkFdTable('install', this, RECEIVER);
    const cloexec = booleanOption('install', checkOptions('install', options), 'cloexec', true);
    checkDmaBuf('install', buf);
    if (buf.released) throw new DmaBufError('EINVAL', 'install', `the buffer (id ${buf.id}) is already released`);
    buf.get();
    const fd = this.#lowestFree();
    this.#entries.set(fd, { buf, cloexec });
    return fd;
  }

  /**
   * The buffer behind `fd`, with one more reference that the caller owns and puts: the
   * kernel's `dma_buf_get`.
   * @throws {DmaBufError} `EBADF` when `fd` is not open in this table.
   */
  get(fd: number): DmaBuf {
    checkFdTable('get', this, RECEIVER);
    return this.#entry('get', fd).buf.get();
  }

  /**
   * Closes `fd`, dropping the table's reference (the buffer is released if it was the last).
   * @throws {DmaBufError} `EBADF` when `fd` is not open in this table.
   */
  close(fd: number): void {
    checkFdTable('close', this, RECEIVER);
    const { buf } = this.#entry('close', fd);
    this.#entries.delete(fd);
    buf.put();
  }

  /**
   * Passes the buffer behind `fd` to another table, like `SCM_RIGHTS` over a socket: `to`
   * takes its own reference under its lowest free fd, which is returned. This table's fd
   * stays open.
   * @throws {DmaBufError} `EBADF` when `fd` is not open here; `EINVAL` when `to` is not an
   *   `FdTable` itself (a Proxy or `Object.create` of one is refused before anything is
   *   taken) or the options are bad.
   */
  send(fd: number, to: FdTable, options?: FdOptions): number {
    checkFdTable('send', this, RECEIVER);
    const { buf } = this.#entry('send', fd);
    checkFdTable('send', to, 'the target');
    return to.install(buf, options);
  }

  /**
   * A child table, as after fork and exec: it inherits, under the same numbers, exactly the
   * fds installed without `cloexec`, each with its own reference. The caller owns the child
   * and closes it with {@link closeAll} when done.
   */
  spawn(): FdTable {
    checkFdTable('spawn', this, RECEIVER);
    const child = new FdTable();
    for (const [fd, entry] of this.#entries) {
      if (entry.cloexec) continue;
      child.#entries.set(fd, { buf: entry.buf.get(), cloexec: false });
    }
    return child;
  }

  /** Closes every open fd, as when a process exits; a component calls it when it goes away. */
  closeAll(): void {
    checkFdTable('closeAll', this, RECEIVER);
    for (const fd of [...this.#entries.keys()]) this.close(fd);
  }

  /** The open fds, in increasing order. */
  openFds(): number[] {
    checkFdTable('openFds', this, RECEIVER);
    return [...this.#entries.keys()].sort((a, b) => a - b);
  }

  /**
   * Whether `fd` is close-on-exec.
   * @throws {DmaBufError} `EBADF` when `fd` is not open in this table.
   */
  isCloexec(fd: number): boolean {
    checkFdTable('isCloexec', this, RECEIVER);
    return this.#entry('isCloexec', fd).cloexec;
  }

  #entry(call: string, fd: unknown): FdEntry {
    const entry = typeof fd === 'number' ? this.#entries.get(fd) : undefined;
    if (!entry) throw new DmaBufError('EBADF', call, `fd ${describe(fd)} is not open in this table`);
    return entry;
  }

  #lowestFree(): number {
    let fd = 0;
    while (this.#entries.has(fd)) fd += 1;
    return fd;
  }
}

const TABLE: Brand<FdTable> = { noun: 'an FdTable', variable: 'table', prototype: FdTable.prototype, has: (value): value is FdTable => isTable(value) };

/**
 * Throws `EINVAL` naming `call` unless `value` is an {@link FdTable} itself, not a look-alike
 * (a Proxy or `Object.create` of one, whose methods would fail halfway); `what` names it in
 * the message (`'the target'`, `RECEIVER` for `this`).
 * @throws {DmaBufError} `EINVAL`
 */
export function checkFdTable(call: string, value: unknown, what?: string): asserts value is FdTable {
  checkBrand(call, value, TABLE, what);
}
