/**
 * The `'shared-memory'` transport's staging: each end of a connection owns one
 * `SharedArrayBuffer` for the bytes it sends (a read's answer, a write's data), made once
 * and reused for the connection's life. It is cut into a few slots; the sender copies a
 * chunk into a free slot and posts a small `chunk` message naming it; the receiver uses the
 * chunk where it lies (a map's `writeBuffer` reads it straight from the slot) or copies it
 * out, when the message comes, and frees the slot, waking a sender that waits for it with
 * `Atomics.waitAsync`. So a payload of any size streams through a fixed amount of
 * shared memory, and no `ArrayBuffer` is allocated and transferred per message.
 */

/** Slots per ring. */
export const RING_SLOTS = 4;
/** Bytes per slot: the largest chunk. */
export const SLOT_BYTES = 1024 * 1024;
/** The ring's size: one Int32 state per slot, then the slots. */
export const RING_BYTES = RING_SLOTS * 4 + RING_SLOTS * SLOT_BYTES;

const FREE = 0;
const FULL = 1;

// ES2024's Atomics.waitAsync, typed here: the project's lib stops at ES2023.
type WaitAsync = (array: Int32Array, index: number, value: number) => { readonly async: false; readonly value: string } | { readonly async: true; readonly value: Promise<string> };
const waitAsync = (Atomics as unknown as { readonly waitAsync?: WaitAsync }).waitAsync;

/** Whether this realm can share memory with another (posting a `SharedArrayBuffer` needs cross-origin isolation in a browser). */
export function canShareMemory(): boolean {
  const scope = globalThis as { crossOriginIsolated?: boolean };
  return typeof SharedArrayBuffer === 'function' && typeof waitAsync === 'function' && scope.crossOriginIsolated !== false;
}

/** A new ring, owned by the end that sends through it. */
export function newRing(): SharedArrayBuffer {
  return new SharedArrayBuffer(RING_BYTES);
}

/**
 * Bytes copied into the ring's slots from where they lie, piece by piece: how many there are,
 * and how to copy `[at, at + into.length)` of them into `into` (a slot). What it throws stops
 * the write.
 */
export interface ByteSource {
  readonly length: number;
  copyTo(at: number, into: Uint8Array): void;
}

/** The sending side of a ring. */
export class RingWriter {
  readonly #states: Int32Array;
  readonly #data: Uint8Array;
  #next = 0;

  constructor(ring: SharedArrayBuffer) {
    this.#states = new Int32Array(ring, 0, RING_SLOTS);
    this.#data = new Uint8Array(ring, RING_SLOTS * 4);
  }

  /**
   * Streams `bytes` through the ring: for each chunk, waits for its slot to be free, fills
   * it, and calls `post(slot, len)`, which must post the chunk's message at once. Rejects
   * with `gone`'s reason once `gone` rejects (the peer died: no slot will be freed), or with
   * what a source's `copyTo` threw (the slot it was filling stays free).
   */
  async write(bytes: Uint8Array | ByteSource, post: (slot: number, len: number) => void, gone: Promise<never>): Promise<void> {
    for (let at = 0; at < bytes.length; at += SLOT_BYTES) {
      const slot = this.#next;
      this.#next = (slot + 1) % RING_SLOTS;
      while (Atomics.load(this.#states, slot) !== FREE) {
        // canShareMemory() said there is one: no ring is made without it.
        const waiting = waitAsync?.(this.#states, slot, FULL);
        if (!waiting) throw new Error('RingWriter: Atomics.waitAsync is missing');
        if (waiting.async) await Promise.race([waiting.value, gone]);
      }
      const len = Math.min(bytes.length - at, SLOT_BYTES);
      const into = this.#data.subarray(slot * SLOT_BYTES, slot * SLOT_BYTES + len);
      if (bytes instanceof Uint8Array) into.set(bytes.subarray(at, at + len));
      else bytes.copyTo(at, into);
      Atomics.store(this.#states, slot, FULL);
      post(slot, len);
    }
  }
}

/** The receiving side of a ring: the peer's. */
export class RingReader {
  readonly #states: Int32Array;
  readonly #data: Uint8Array;

  constructor(ring: SharedArrayBuffer) {
    this.#states = new Int32Array(ring, 0, RING_SLOTS);
    this.#data = new Uint8Array(ring, RING_SLOTS * 4);
  }

  /**
   * Hands chunk `slot` (`len` bytes) to `use` as a view of the shared memory, valid only
   * during the call, then frees the slot, waking the sender. `false`, and `use` is not
   * called, when the slot holds no chunk or `len` is out of range: a message that lies
   * changes nothing.
   */
  take(slot: number, len: number, use: (chunk: Uint8Array) => void): boolean {
    if (slot >= RING_SLOTS || len > SLOT_BYTES || Atomics.load(this.#states, slot) !== FULL) return false;
    try {
      use(this.#data.subarray(slot * SLOT_BYTES, slot * SLOT_BYTES + len));
    } finally {
      Atomics.store(this.#states, slot, FREE);
      Atomics.notify(this.#states, slot);
    }
    return true;
  }
}
