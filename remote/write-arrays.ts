/**
 * The arrays the peer's ring writes are put together in: one array is kept from the last
 * write once it was served (its bytes copied into the buffer, so nothing reads it any more)
 * and given to the next write that fits, so a steady stream of writes does not allocate, and
 * fault in, a new array each time. The largest kept is {@link SPARE_MAX} bytes.
 */

/** The largest array kept for the peer's next write (a 1080p RGBA frame is 8 MiB). */
export const SPARE_MAX = 16 * 1024 * 1024;

/** One connection's arrays for the peer's ring writes. */
export class WriteArrays {
  #spare: Uint8Array | undefined;

  /**
   * An array of `total` bytes for the next write: a view of the kept one when it is large
   * enough (it is kept no more), else a new one; `undefined` when none of that size can be
   * made (more than this realm can hold).
   */
  take(total: number): Uint8Array | undefined {
    const spare = this.#spare;
    if (spare && spare.length >= total) {
      this.#spare = undefined;
      return spare.subarray(0, total);
    }
    try {
      return new Uint8Array(total);
    } catch {
      return undefined;
    }
  }

  /**
   * Keeps the whole array under `bytes` for a later write, unless it is over
   * {@link SPARE_MAX} or no larger than the one kept: call it once nothing reads it any more.
   */
  keep(bytes: Uint8Array): void {
    const whole = new Uint8Array(bytes.buffer, 0, bytes.buffer.byteLength);
    if (whole.length > SPARE_MAX) return;
    if (this.#spare && this.#spare.length >= whole.length) return;
    this.#spare = whole;
  }
}
