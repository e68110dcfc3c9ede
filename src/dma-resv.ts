/**
 * DOC: reservation
 *
 * Every dma-buf has one reservation, the kernel's `struct dma_resv`: the order in which the
 * exporter's own operations on the buffer's storage take effect. Modules do not take turns:
 * an importer may call `unmap` and, before it resolves, another module may call `map` or
 * `beginCpuAccess` on the same buffer. The reservation makes the outcome that of call order.
 *
 * The rules, for an exporter (the stock one, `GpuHeap`, follows them for every operation):
 * 1. An operation enters the reservation synchronously, when it is called, as a `'read'`
 *    (it copies bytes out of the storage: a map that moves bytes to another device, a CPU
 *    access that reads) or a `'write'` (it puts bytes into the storage: an unmap or an
 *    `endCpuAccess` that writes back). Entry order is call order.
 * 2. A read goes ahead once every write entered before it has done its part; a write once
 *    every read and write entered before it has. Reads do not wait for each other.
 * 3. An access signals `done()` once its commands are queued on the exporter's device (or it
 *    gave up): from then on the device's queue keeps the order. Its fence signals once it is
 *    done and so is everything it waited for, so one that gives up early lets no later
 *    access past an earlier one. So an access's fence is what
 *    the kernel calls a fence of the buffer's reservation, and waiting is what
 *    `dma_resv_usage_rw` asks of a reader (the writers) and of a writer (everyone).
 * 4. When the buffer is released, the reservation is cancelled: an access that has not
 *    finished fails with `EINVAL` the next time it checks, and submits nothing after that.
 *
 * The reservation knows nothing of WebGPU; it only orders promises. Nothing here blocks a
 * caller: an access that may go ahead at once gets no promise to wait for, so the hot paths
 * (a zero-copy map, a begin that reads nothing) stay synchronous.
 */
import { DmaBufError } from './error.js';

/** What an access does to the storage: the kernel's `DMA_RESV_USAGE_READ` / `DMA_RESV_USAGE_WRITE`. */
export type ResvUsage = 'read' | 'write';

/** One access's place in the reservation: the kernel's fence added with `dma_resv_add_fence`. */
export interface ResvTurn {
  /** Resolves when the access may go ahead; `undefined` when it may at once. Never rejects. */
  readonly ready: Promise<void> | undefined;
  /** Signals that the access's commands are queued, or that it gave up. Safe to call twice. */
  done(): void;
}

class Fence implements ResvTurn {
  readonly ready: Promise<void> | undefined;
  /**
   * Resolves once the access called `done()` and everything it waited for is done too: an
   * access that gives up early must not let later ones past what it was waiting for.
   */
  readonly signalled: Promise<void>;
  #pending = true;
  #signal!: () => void;
  readonly #onDone: (fence: Fence) => void;

  constructor(ready: Promise<void> | undefined, onDone: (fence: Fence) => void) {
    this.#onDone = onDone;
    this.ready = ready;
    const own = new Promise<void>((resolve) => {
      this.#signal = resolve;
    });
    this.signalled = ready ? Promise.all([ready, own]).then(() => undefined) : own;
  }

  done(): void {
    if (!this.#pending) return;
    this.#pending = false;
    this.#signal();
    // With nothing to wait for, the reservation is idle again at once (the hot path).
    if (this.ready) void this.signalled.then(() => { this.#onDone(this); });
    else this.#onDone(this);
  }
}

/**
 * The reservation of one dma-buf: see the DOC block at the top of this file. Made by the
 * contract with each buffer (`buf.resv`) and cancelled when it is released; exporters enter
 * it for the work they queue on the buffer's storage.
 */
export class DmaResv {
  // The newest write still pending, and the reads entered after it that are still pending.
  #write: Fence | undefined;
  readonly #reads = new Set<Fence>();
  #cancelled: DmaBufError | undefined;

  /**
   * Whether no access is pending. An exporter that finds it idle and queues its work before
   * it next yields (within the call) needs no turn: nothing can come between.
   */
  get idle(): boolean {
    return this.#write === undefined && this.#reads.size === 0;
  }

  /** Whether the buffer was released: every access still under way fails. */
  get cancelled(): boolean {
    return this.#cancelled !== undefined;
  }

  /**
   * Enters an access, in call order. The caller awaits `ready` (when there is one), checks
   * with {@link check}, queues its work, and calls `done()` in every case, errors included.
   */
  enter(usage: ResvUsage): ResvTurn {
    const fence = new Fence(this.wait(usage), this.#forget);
    if (usage === 'write') {
      this.#reads.clear();
      this.#write = fence;
    } else {
      this.#reads.add(fence);
    }
    return fence;
  }

  /**
   * What an access of `usage` entered now would wait for, without entering one: for work the
   * exporter does not queue itself (a zero-copy importer's own GPU work). `undefined` when
   * nothing is pending.
   */
  wait(usage: ResvUsage): Promise<void> | undefined {
    const write = this.#write;
    if (usage === 'read' || this.#reads.size === 0) return write?.signalled;
    const fences = [...this.#reads].map((f) => f.signalled);
    if (write) fences.push(write.signalled);
    return Promise.all(fences).then(() => undefined);
  }

  /**
   * Throws the reason the reservation was cancelled (the buffer was released), naming `call`.
   * @throws {DmaBufError} `EINVAL` once cancelled.
   */
  check(call: string): void {
    if (this.#cancelled) throw new DmaBufError('EINVAL', `${call}: the buffer was released while the operation was under way`, { cause: this.#cancelled });
  }

  /** Cancels every access under way and to come (rule 4); called once, at release. */
  cancel(reason: DmaBufError): void {
    this.#cancelled ??= reason;
  }

  readonly #forget = (fence: Fence): void => {
    if (this.#write === fence) this.#write = undefined;
    else this.#reads.delete(fence);
  };
}
