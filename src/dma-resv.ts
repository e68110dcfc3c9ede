/**
 * DOC: reservation
 *
 * Every dma-buf has one reservation, the kernel's `struct dma_resv`: the fences of the work
 * in flight on the buffer, each with a usage class, and through them the order in which
 * operations on the buffer's storage take effect. Modules do not take turns: an importer may
 * call `unmap` and, before it resolves, another module may call `map` or `beginCpuAccess`
 * on the same buffer. The reservation makes the outcome that of call order.
 *
 * Usage classes, from the strongest: `'kernel'` (memory management), `'write'` (work that
 * writes the buffer), `'read'` (work that reads it), `'bookkeep'` (nothing waits for it
 * implicitly). Asking for the fences of a class gives those of the classes before it too.
 * A fence added replaces an earlier one of the same context in the same or a weaker class,
 * and signalled fences are dropped (the kernel's `dma_resv_add_fence`).
 *
 * The rules for an exporter (the stock one, `GpuHeap`, follows them for every operation):
 * 1. An operation enters the reservation synchronously, when it is called, as a `'read'`
 *    (it copies bytes out of the storage: a map that moves bytes to another device, a CPU
 *    access that reads) or a `'write'` (it puts bytes into the storage: an unmap or an
 *    `endCpuAccess` that writes back). Entry adds its fence: call order is entry order.
 * 2. It goes ahead once the fences the kernel would make it wait for have signalled
 *    (`dma_resv_usage_rw`): a read waits for `'kernel'` and `'write'` fences, a write for
 *    `'read'` and below. Reads do not wait for each other. Fences an application imported
 *    count the same; one that signals with an error fails the operation with that error.
 * 3. Later operations of the exporter wait for it only until its commands are queued on the
 *    exporter's device (or it gave up) and everything it waited for has done so too: from
 *    then on the device's queue keeps the order. So an operation that gives up early lets no
 *    later one past an earlier one. Its fence itself signals when that work is done on the
 *    device, as a kernel fence does: that is what an application waiting for it sees.
 * 4. When the buffer is released, the reservation is cancelled: an operation that has not
 *    finished fails with `EINVAL` the next time it checks, and submits nothing after that.
 *
 * The reservation knows nothing of WebGPU; it only orders fences. Nothing here blocks a
 * caller: an access that may go ahead at once gets no promise to wait for, so the hot paths
 * (a zero-copy map, a begin that reads nothing) stay synchronous.
 */
import type { BufInfoFence } from './bufinfo-entry.js';
import { checkBrand, describe, RECEIVER, type Brand } from './checks.js';
import { allocFenceContext, checkFence, DmaFence, fenceAt } from './dma-fence.js';
import { DmaBufError } from './error.js';

/** A fence's usage class, the kernel's `enum dma_resv_usage`, strongest first. */
export type DmaResvUsage = 'kernel' | 'write' | 'read' | 'bookkeep';

/** What an exporter's operation does to the storage: copies out of it, or writes into it. */
export type ResvUsage = 'read' | 'write';

const RANK: Readonly<Record<DmaResvUsage, number>> = { kernel: 0, write: 1, read: 2, bookkeep: 3 };

/** Whether a fence still holds operations back: an exporter's own until it is queued, any other until it signals. */
function blocks(fence: DmaFence): boolean {
  return fence instanceof OperationFence ? !fence.queued : !fence.signaled;
}

/**
 * Throws `EINVAL` naming `call` unless `value` is a usage class.
 * @throws {DmaBufError} `EINVAL`
 */
export function checkUsage(call: string, value: unknown): asserts value is DmaResvUsage {
  if (typeof value !== 'string' || !(value in RANK)) {
    throw new DmaBufError('EINVAL', call, `unknown usage ${describe(value)} (expected 'kernel', 'write', 'read' or 'bookkeep')`);
  }
}

/**
 * Hears of every fence added to a reservation, synchronously, as it is added: a connection
 * to another realm keeps the reservations of the buffers it shares in step there.
 * `operation` says whether the fence is an exporter's own operation's ({@link DmaResv.enter})
 * or one added with `addFence`. A watcher must not throw: it runs inside the call that added
 * the fence.
 */
export type ResvWatcher = (fence: DmaFence, usage: DmaResvUsage, operation: boolean) => void;

// Set by DmaResv's static block: the watchers of one reservation, kept in the reservation.
let watchersOf: (resv: DmaResv) => Set<ResvWatcher> = () => new Set();

/**
 * Calls `watcher` for every fence added to `resv` from now on (see {@link ResvWatcher}).
 * Returns the function that stops it. For the remote layer: not a public API.
 */
export function watchResv(resv: DmaResv, watcher: ResvWatcher): () => void {
  const set = watchersOf(resv);
  set.add(watcher);
  return () => {
    set.delete(watcher);
  };
}

/**
 * Resolves once every promise has settled; then rejects with the first error among them, if
 * any. Not `Promise.all`: an operation behind a fence that failed must still wait for the
 * operations called before it to be queued, or a write-back that always happens
 * (`endCpuAccess`) would overtake a read called before it.
 */
async function afterAll(waits: readonly Promise<void>[]): Promise<void> {
  const settled = await Promise.allSettled(waits);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/** One operation's place in the reservation: its fence, added with `dma_resv_add_fence`. */
export interface ResvTurn {
  /**
   * Resolves when the operation may go ahead; `undefined` when it may at once. Rejects with
   * the error of a fence it waited for that signalled with one.
   */
  readonly ready: Promise<void> | undefined;
  /**
   * Says that the operation's commands are queued on the exporter's device (later
   * operations may go ahead from now: the queue keeps the order), or that it gave up. Its
   * fence signals once `completion` settles (the work done on the device), or at once
   * without one. Safe to call twice; only the first call counts.
   */
  done(completion?: Promise<unknown>): void;
}

/** Resolves once every fence has signalled; rejects with the first error among them. */
function whenAll(fences: readonly DmaFence[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = fences.length;
    const one = () => {
      left -= 1;
      if (left > 0) return;
      const failed = fences.find((f) => f.error);
      if (failed?.error) reject(failed.error);
      else resolve();
    };
    for (const fence of fences) if (!fence.addCallback(one)) one();
  });
}

/**
 * The fence of an exporter's own operation: it signals itself, through its turn, and no one
 * else may. Other operations wait only until it is queued (rule 3); applications that wait
 * for it see it signal when its work is done.
 */
class OperationFence extends DmaFence implements ResvTurn {
  ready: Promise<void> | undefined;
  /** Whether its work is queued (or it gave up): what later operations of the exporter wait for. */
  queued = false;
  readonly whenQueued: Promise<void>;
  #markQueued: () => void = () => undefined;
  #finishing = false;
  #pending = true;

  constructor() {
    super();
    this.whenQueued = new Promise((resolve) => {
      this.#markQueued = resolve;
    });
  }

  done(completion?: Promise<unknown>): void {
    checkFence('done', this, RECEIVER);
    if (!this.#pending) return;
    this.#pending = false;
    const queue = () => {
      this.queued = true;
      this.#markQueued();
      if (completion) void completion.then(this.#finish, this.#finish);
      else this.#finish();
    };
    // With nothing to wait for, it is queued at once (the hot path); else once that has settled too.
    if (this.ready) void this.ready.then(queue, queue);
    else queue();
  }

  readonly #finish = (): void => {
    this.#finishing = true;
    super.signal();
  };

  override signal(): void {
    checkFence('signal', this, RECEIVER);
    if (!this.#finishing) throw new DmaBufError('EINVAL', 'signal', "this fence is the runtime's own; it signals when its operation's work is done");
    super.signal();
  }

  override setError(): void {
    throw new DmaBufError('EINVAL', 'setError', "this fence is the runtime's own");
  }
}

// Set by DmaResv's static block: whether a value is a reservation itself (see Brand).
let isResv: (value: unknown) => boolean = () => false;

/**
 * The reservation of one dma-buf: see the DOC block at the top of this file. Made by the
 * contract with each buffer (`buf.resv`) and cancelled when it is released; exporters enter
 * it for the work they queue on the storage, applications add and wait for fences. Its
 * methods throw `EINVAL` when called on a look-alike (a Proxy or `Object.create` of a
 * reservation), before they do anything.
 */
export class DmaResv {
  readonly #entries: { readonly fence: DmaFence; readonly usage: DmaResvUsage }[] = [];
  // Writes are ordered among themselves (each waits for everything before it): one context.
  readonly #writeContext = allocFenceContext();
  #writes = 0;
  #cancelled: DmaBufError | undefined;
  // Rejects when the reservation is cancelled; made only once something waits.
  #cancellation: Promise<void> | undefined;
  #onCancel: (() => void) | undefined;
  // Watching is the remote connections' business, not the API's: reached through watchResv.
  readonly #watchers = new Set<ResvWatcher>();

  static {
    isResv = (value) => typeof value === 'object' && value !== null && #entries in value;
    watchersOf = (resv) => resv.#watchers;
  }

  /** Whether the buffer was released: every access still under way fails. */
  get cancelled(): boolean {
    checkResv('cancelled', this);
    return this.#cancelled !== undefined;
  }

  /**
   * Whether nothing would hold a write back (no unsignalled fence of `'read'` or a stronger
   * class). An exporter that finds it idle and queues its work within the call needs no turn.
   */
  get idle(): boolean {
    checkResv('idle', this);
    // A plain loop: this runs on every endCpuAccess and CPU begin.
    for (const entry of this.#entries) if (RANK[entry.usage] <= RANK.read && blocks(entry.fence)) return false;
    return true;
  }

  /**
   * Adds a fence in a usage class: the kernel's `dma_resv_add_fence`. It replaces a fence of
   * the same context that it is as late as, in the same or a weaker class; signalled fences
   * are dropped.
   * @throws {DmaBufError} `EINVAL` for a non-fence (a look-alike of one included: a Proxy or
   *   `Object.create` of a fence), an unknown usage, or a released buffer; nothing is added then.
   */
  addFence(fence: DmaFence, usage: DmaResvUsage): void {
    checkResv('addFence', this);
    checkFence('addFence', fence);
    checkUsage('addFence', usage);
    this.check('addFence');
    this.#add(fence, usage);
    this.#tell(fence, usage, false);
  }

  /**
   * The fences of class `usage` and of the classes before it (the kernel's
   * `dma_resv_get_fences`), signalled or not. The caller may wait for them; the
   * reservation keeps them.
   * @throws {DmaBufError} `EINVAL` for an unknown usage.
   */
  getFences(usage: DmaResvUsage): DmaFence[] {
    checkResv('getFences', this);
    checkUsage('getFences', usage);
    return this.#entries.filter((e) => RANK[e.usage] <= RANK[usage]).map((e) => e.fence);
  }

  /**
   * Whether every fence of class `usage` and before has signalled (the kernel's `dma_resv_test_signaled`).
   * @throws {DmaBufError} `EINVAL` for an unknown usage.
   */
  testSignaled(usage: DmaResvUsage): boolean {
    checkResv('testSignaled', this);
    return this.getFences(usage).every((f) => f.signaled);
  }

  /**
   * Waits for the fences of class `usage` and before, as they are now: `true` once all have
   * signalled (with or without errors), `false` when `timeoutMs` passes first; `wait(usage, 0)`
   * answers at once. The kernel's `dma_resv_wait_timeout`.
   * @throws {DmaBufError} `EINVAL` for an unknown usage or a timeout that is not a non-negative number.
   */
  async wait(usage: DmaResvUsage, timeoutMs?: number): Promise<boolean> {
    checkResv('wait', this);
    const fences = this.getFences(usage);
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
      throw new DmaBufError('EINVAL', 'wait', `timeoutMs must be a non-negative number, got ${describe(timeoutMs)}`);
    }
    const results = await Promise.all(fences.map((f) => f.wait(timeoutMs)));
    return results.every(Boolean);
  }

  /** The fences not yet signalled, strongest class first, as plain data for the debug listing. */
  pendingFences(): BufInfoFence[] {
    checkResv('pendingFences', this);
    return this.#entries
      .filter((e) => !e.fence.signaled)
      .sort((a, b) => RANK[a.usage] - RANK[b.usage])
      .map(({ fence, usage }) => ({ context: fence.context, seqno: fence.seqno, usage }));
  }

  /**
   * Enters an operation of the exporter, in call order (rule 1), and adds its fence. The
   * caller awaits `ready` (when there is one), checks with {@link check}, queues its work,
   * and calls `done()` in every case, errors included.
   */
  enter(usage: ResvUsage): ResvTurn {
    checkResv('enter', this);
    const waiting = this.waitFor(usage);
    const fence = usage === 'write' ? fenceAt(OperationFence, this.#writeContext, ++this.#writes) : new OperationFence();
    if (waiting) {
      fence.ready = waiting;
      // Whoever gave up without awaiting it must not leave a rejection unhandled.
      fence.ready.catch(() => undefined);
    }
    this.#add(fence, usage);
    this.#tell(fence, usage, true);
    return fence;
  }

  /**
   * What an operation of `usage` would wait for now, without entering one: for work the
   * exporter does not queue itself (a zero-copy importer's own GPU work). `undefined` when
   * nothing is pending; rejects with the error of a fence that signalled with one.
   */
  waitFor(usage: ResvUsage): Promise<void> | undefined {
    checkResv('waitFor', this);
    const upTo = RANK[usage === 'write' ? 'read' : 'write'];
    // The hot path (a zero-copy map with nothing pending) allocates nothing.
    let fences: DmaFence[] | undefined;
    let queued: Promise<void>[] | undefined;
    for (const { fence, usage: class_ } of this.#entries) {
      if (RANK[class_] > upTo || !blocks(fence)) continue;
      if (fence instanceof OperationFence) (queued ??= []).push(fence.whenQueued);
      else (fences ??= []).push(fence);
    }
    if (!fences && !queued) return undefined;
    const all = [...(queued ?? []), ...(fences ? [whenAll(fences)] : [])];
    return this.#unlessCancelled(all.length === 1 && all[0] ? all[0] : afterAll(all));
  }

  /**
   * Throws the reason the reservation was cancelled (the buffer was released), naming `call`.
   * @throws {DmaBufError} `EINVAL` once cancelled.
   */
  check(call: string): void {
    checkResv('check', this);
    if (this.#cancelled) throw new DmaBufError('EINVAL', call, `the buffer was released while the operation was under way`, { cause: this.#cancelled });
  }

  /**
   * Cancels every access under way and to come (rule 4); called once, at release. Accesses
   * still waiting for fences (an application's may never signal) stop waiting and fail.
   */
  cancel(reason: DmaBufError): void {
    checkResv('cancel', this);
    if (this.#cancelled) return;
    this.#cancelled = reason;
    this.#onCancel?.();
  }

  /** `waiting`, or a rejection with `EINVAL` as soon as the reservation is cancelled. */
  #unlessCancelled(waiting: Promise<void>): Promise<void> {
    this.#cancellation ??= new Promise<void>((_, reject) => {
      this.#onCancel = () => {
        reject(new DmaBufError('EINVAL', 'wait', 'the buffer was released while the operation waited for fences in its reservation', { cause: this.#cancelled }));
      };
    });
    this.#cancellation.catch(() => undefined);
    return Promise.race([waiting, this.#cancellation]);
  }

  #tell(fence: DmaFence, usage: DmaResvUsage, operation: boolean): void {
    for (const watcher of this.#watchers) watcher(fence, usage, operation);
  }

  #add(fence: DmaFence, usage: DmaResvUsage): void {
    // Compacted in place: this runs for every operation of the exporter.
    let kept = 0;
    for (const old of this.#entries) {
      const replaced = old.fence.context === fence.context && RANK[old.usage] >= RANK[usage] && !old.fence.isLater(fence);
      if (!old.fence.signaled && !replaced) this.#entries[kept++] = old;
    }
    this.#entries.length = kept;
    this.#entries.push({ fence, usage });
  }
}

const RESV: Brand<DmaResv> = { noun: 'a DmaResv', variable: 'resv', prototype: DmaResv.prototype, has: (value): value is DmaResv => isResv(value) };

/** Throws `EINVAL` naming `call` unless the reservation a method was called on is one itself, not a look-alike. */
function checkResv(call: string, self: unknown): void {
  checkBrand(call, self, RESV, RECEIVER);
}
