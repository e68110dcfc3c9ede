import type { DmaFence } from '../src/dma-fence.js';

/**
 * The fences an importer named with `unmap(sgt, dir, { until })` on one set of buffers (a
 * mirror, or the storage itself on the exporter's device): until each has signalled, with or
 * without an error, the buffers are kept as they are. No later transfer writes them, no other
 * attachment reuses them, and releasing the buffer does not destroy them.
 */
export class Holds {
  #fences: DmaFence[] = [];

  /** Holds the buffers until `fence` signals (nothing when it has already). */
  add(fence: DmaFence): void {
    if (!fence.signaled) this.#fences.push(fence);
  }

  /**
   * `undefined` when nothing holds the buffers (the hot path: no await); else a promise that
   * resolves once every fence holding them has signalled.
   */
  released(): Promise<void> | undefined {
    // Every map of a mirror asks: nothing to filter when nothing holds it.
    if (this.#fences.length === 0) return undefined;
    this.#fences = this.#fences.filter((fence) => !fence.signaled);
    if (this.#fences.length === 0) return undefined;
    return Promise.all(this.#fences.map((fence) => fence.wait())).then(() => undefined);
  }

  /** Runs `then` once nothing holds the buffers: now, or when the last fence signals. */
  whenReleased(then: () => void): void {
    const released = this.released();
    if (released) void released.then(then);
    else then();
  }
}
