/**
 * A software timeline, the kernel's `sw_sync` timeline of its selftests: a counter that only
 * moves forward, and fences that signal when it reaches their number.
 */
import { checkBrand, checkInteger, describe, RECEIVER, type Brand } from './checks.js';
import { allocFenceContext, DmaFence, fenceAt } from './dma-fence.js';
import { DmaBufError } from './error.js';

// Set by DmaFenceTimeline's static block: whether a value is a timeline itself (see Brand).
let isTimeline: (value: unknown) => boolean = () => false;

/**
 * A timeline of fences on one context (the kernel's `sw_sync_timeline`): `fence(n)` signals
 * once `advance` has taken the value to `n` or beyond. The timeline owns nothing; fences
 * not yet reached simply stay pending. Its methods throw `EINVAL` when called on a look-alike
 * (a Proxy or `Object.create` of a timeline).
 */
export class DmaFenceTimeline {
  /** Its name, for debug listings. */
  readonly name: string;
  /** The context every fence of the timeline is on. */
  readonly context: number;
  #value = 0;
  // Pending fences, in the order they will signal (by seqno, then creation).
  #pending: DmaFence[] = [];

  static {
    isTimeline = (value) => typeof value === 'object' && value !== null && #value in value;
  }

  /** @throws {DmaBufError} `EINVAL` when `name` is not a string. */
  constructor(name: string) {
    if (typeof name !== 'string') throw new DmaBufError('EINVAL', 'new DmaFenceTimeline', `name must be a string, got ${describe(name)}`);
    this.name = name;
    this.context = allocFenceContext();
  }

  /** How far the timeline has got; starts at 0. */
  get value(): number {
    checkTimeline('value', this);
    return this.#value;
  }

  /**
   * A fence that signals once the timeline reaches `seqno` (the kernel's
   * `sw_sync_create_fence`); already signalled when it has.
   * @throws {DmaBufError} `EINVAL` unless `seqno` is a positive integer.
   */
  fence(seqno: number): DmaFence {
    checkTimeline('fence', this);
    checkInteger('fence', 'seqno', seqno, 1);
    const fence = fenceAt(DmaFence, this.context, seqno);
    if (seqno <= this.#value) {
      fence.signal();
      return fence;
    }
    const at = this.#pending.findIndex((f) => f.seqno > seqno);
    if (at < 0) this.#pending.push(fence);
    else this.#pending.splice(at, 0, fence);
    return fence;
  }

  /**
   * Moves the value on by `by` and signals, in seqno order, every fence it reaches (the
   * kernel's `sw_sync_timeline_inc`).
   * @throws {DmaBufError} `EINVAL` unless `by` is a positive integer (and the value stays a safe integer).
   */
  advance(by = 1): void {
    checkTimeline('advance', this);
    checkInteger('advance', 'by', by, 1);
    checkInteger('advance', 'the new value', this.#value + by, 1);
    this.#value += by;
    const reached = this.#pending.findIndex((f) => f.seqno > this.#value);
    const due = reached < 0 ? this.#pending.splice(0) : this.#pending.splice(0, reached);
    for (const fence of due) fence.signal();
  }
}

const TIMELINE: Brand<DmaFenceTimeline> = {
  noun: 'a DmaFenceTimeline',
  variable: 'timeline',
  prototype: DmaFenceTimeline.prototype,
  has: (value): value is DmaFenceTimeline => isTimeline(value),
};

/** Throws `EINVAL` naming `call` unless the timeline a method was called on is one itself, not a look-alike. */
function checkTimeline(call: string, self: unknown): void {
  checkBrand(call, self, TIMELINE, RECEIVER);
}
