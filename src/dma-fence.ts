/**
 * DOC: fences
 *
 * A fence is one point of completion, the kernel's `struct dma_fence`: it starts pending and
 * is signalled exactly once, with or without an error. Who waits for it adds a callback or
 * awaits `wait()`. Every fence lives on a context (a timeline) and has a sequence number on
 * it; of two fences on one context, the higher number signals later. That is what lets a
 * reservation or a merge keep only the latest fence of each context.
 *
 * Kinds of fence here: a software fence (`new DmaFence()`, on a context of its own, signalled
 * by whoever made it), a point on a software timeline (`DmaFenceTimeline.fence(seqno)`), a
 * merge of fences (`mergeFences`), the stub that is always signalled (`DmaFence.stub()`), and
 * in `gpu/` a fence for the work queued on a `GPUDevice` (`gpuFence`).
 */
import { brandError, checkBrand, describe, RECEIVER, type Brand } from './checks.js';
import { DmaBufError, type DmaBufErrorCode } from './error.js';

/** What a fence calls when it signals: the kernel's `dma_fence_func_t`. */
export type DmaFenceCallback = (fence: DmaFence) => void;

const ERROR_CODES: ReadonlySet<unknown> = new Set<DmaBufErrorCode>(['EINVAL', 'EBADF', 'EBUSY', 'ERANGE', 'ENOMEM', 'ENODEV', 'EIO']);

// Context 0 is the stub's; every other fence context is allocated here, once.
let nextContext = 1;

/** A new fence context, the kernel's `dma_fence_context_alloc(1)`. */
export function allocFenceContext(): number {
  return nextContext++;
}

// How a subclass or a timeline puts a fence on a given context: set just before `new`.
let placement: { context: number; seqno: number } | undefined;

/** Makes a fence of class `Kind` on `context` with `seqno` (for timelines and merges). */
export function fenceAt<T extends DmaFence>(Kind: new () => T, context: number, seqno: number): T {
  placement = { context, seqno };
  try {
    return new Kind();
  } finally {
    placement = undefined;
  }
}

// Set by DmaFence's static block: whether a value is a fence itself (see Brand).
let isFence: (value: unknown) => boolean = () => false;

/**
 * One point of completion: the kernel's `struct dma_fence`. `new DmaFence()` is a software
 * fence on a context of its own (sequence number 1), which its maker signals. See the DOC
 * block at the top of this file. Its methods throw `EINVAL` when called on a look-alike (a
 * Proxy or `Object.create` of a fence), before they do anything.
 */
export class DmaFence {
  /** The fence's timeline: one number per context (the kernel's `fence->context`). */
  readonly context: number;
  /** Its place on the timeline (the kernel's `fence->seqno`). */
  readonly seqno: number;
  #signaled = false;
  #error: DmaBufError | undefined;
  #callbacks: DmaFenceCallback[] = [];

  static {
    isFence = (value) => typeof value === 'object' && value !== null && #signaled in value;
  }

  constructor() {
    this.context = placement?.context ?? allocFenceContext();
    this.seqno = placement?.seqno ?? 1;
  }

  /** An already signalled fence: the kernel's `dma_fence_get_stub()`. Context 0, sequence number 0. */
  static stub(): DmaFence {
    const fence = fenceAt(DmaFence, 0, 0);
    fence.signal();
    return fence;
  }

  /** Whether it has signalled (the kernel's `dma_fence_is_signaled`). */
  get signaled(): boolean {
    checkFence('signaled', this, RECEIVER);
    return this.#signaled;
  }

  /** The error it signalled (or will signal) with, else `undefined` (the kernel's `fence->error`). */
  get error(): DmaBufError | undefined {
    checkFence('error', this, RECEIVER);
    return this.#error;
  }

  /**
   * Signals the fence and runs its callbacks in the order they were added: the kernel's
   * `dma_fence_signal`. A callback that throws does not stop the others; its error is
   * reported to the realm as uncaught.
   * @throws {DmaBufError} `EINVAL` when it has already signalled.
   */
  signal(): void {
    checkFence('signal', this, RECEIVER);
    if (this.#signaled) throw new DmaBufError('EINVAL', 'signal', `the fence (context ${this.context}, seqno ${this.seqno}) has already signalled`);
    this.#signaled = true;
    const callbacks = this.#callbacks;
    this.#callbacks = [];
    for (const callback of callbacks) {
      try {
        callback(this);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /**
   * Makes the fence signal with an error: the kernel's `dma_fence_set_error`. Call it before
   * {@link signal}.
   * @throws {DmaBufError} `EINVAL` for an unknown code, or once the fence has signalled.
   */
  setError(code: DmaBufErrorCode): void {
    checkFence('setError', this, RECEIVER);
    if (!ERROR_CODES.has(code)) throw new DmaBufError('EINVAL', 'setError', `unknown error code ${describe(code)}`);
    if (this.#signaled) throw new DmaBufError('EINVAL', 'setError', `the fence (context ${this.context}, seqno ${this.seqno}) has already signalled`);
    this.#error = new DmaBufError(code, 'signal', `the fence (context ${this.context}, seqno ${this.seqno}) signalled with an error`);
  }

  /**
   * Adds a callback run when the fence signals: the kernel's `dma_fence_add_callback`.
   * Returns `false` and adds nothing when it has already signalled (the kernel's `-ENOENT`).
   * @throws {DmaBufError} `EINVAL` when `callback` is not a function.
   */
  addCallback(callback: DmaFenceCallback): boolean {
    checkFence('addCallback', this, RECEIVER);
    if (typeof callback !== 'function') throw new DmaBufError('EINVAL', 'addCallback', `callback must be a function, got ${describe(callback)}`);
    if (this.#signaled) return false;
    this.#callbacks.push(callback);
    return true;
  }

  /**
   * Removes a callback still pending: the kernel's `dma_fence_remove_callback`. Returns
   * whether it was pending (and is now removed); one call removes one addition.
   */
  removeCallback(callback: DmaFenceCallback): boolean {
    checkFence('removeCallback', this, RECEIVER);
    const index = this.#callbacks.indexOf(callback);
    if (index < 0) return false;
    this.#callbacks.splice(index, 1);
    return true;
  }

  /**
   * Waits for the fence: resolves `true` once it has signalled (with or without an error),
   * `false` when `timeoutMs` passes first; `wait(0)` answers at once, no timeout waits for
   * ever. The kernel's `dma_fence_wait_timeout`.
   * @throws {DmaBufError} `EINVAL` for a timeout that is not a non-negative number.
   */
  wait(timeoutMs?: number): Promise<boolean> {
    const lookAlike = brandError('wait', this, FENCE, RECEIVER);
    if (lookAlike) return Promise.reject(lookAlike);
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
      return Promise.reject(new DmaBufError('EINVAL', 'wait', `timeoutMs must be a non-negative number, got ${describe(timeoutMs)}`));
    }
    if (this.#signaled || timeoutMs === 0) return Promise.resolve(this.#signaled);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done: DmaFenceCallback = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(true);
      };
      this.#callbacks.push(done);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          this.removeCallback(done);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  /** The fences this one is made of: a merged fence's parts, else itself (the kernel's `dma_fence_unwrap`). */
  unwrap(): DmaFence[] {
    checkFence('unwrap', this, RECEIVER);
    return [this];
  }

  /**
   * Whether this fence signals after `other` on the same context (the kernel's `dma_fence_is_later`).
   * @throws {DmaBufError} `EINVAL` when `other` is not a fence itself.
   */
  isLater(other: DmaFence): boolean {
    checkFence('isLater', this, RECEIVER);
    checkFence('isLater', other);
    return this.context === other.context && this.seqno > other.seqno;
  }
}

const FENCE: Brand<DmaFence> = { noun: 'a DmaFence', variable: 'fence', prototype: DmaFence.prototype, has: (value): value is DmaFence => isFence(value) };

/**
 * Throws `EINVAL` naming `call` unless `value` is a {@link DmaFence} itself, not a look-alike
 * (a Proxy or `Object.create` of one, which a reservation could not read); `what` names it in
 * the message (`RECEIVER` for `this`; without it, "expected a DmaFence").
 * @throws {DmaBufError} `EINVAL`
 */
export function checkFence(call: string, value: unknown, what?: string): asserts value is DmaFence {
  checkBrand(call, value, FENCE, what);
}
