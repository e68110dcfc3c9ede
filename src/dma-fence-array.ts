/**
 * Merged fences: the kernel's `dma_fence_array` and `dma_fence_unwrap_merge`, behind the
 * sync file's `SYNC_IOC_MERGE`.
 */
import { RECEIVER } from './checks.js';
import { allocFenceContext, checkFence, DmaFence, fenceAt } from './dma-fence.js';

/** A fence that signals once all its parts have, with the first error among them. */
class DmaFenceArray extends DmaFence {
  #parts: readonly DmaFence[] = [];

  /** Follows `parts` (at least two, none signalled, at most one per context). */
  follow(parts: readonly DmaFence[]): void {
    this.#parts = parts;
    let left = parts.length;
    for (const part of parts) {
      part.addCallback(() => {
        if (part.error && !this.error) this.setError(part.error.code);
        left -= 1;
        if (left === 0) this.signal();
      });
    }
  }

  override unwrap(): DmaFence[] {
    checkFence('unwrap', this, RECEIVER);
    return [...this.#parts];
  }
}

/**
 * One fence for all of `fences`: the kernel's `sync_file_merge` / `dma_fence_unwrap_merge`.
 * Merged fences are unwrapped first; fences already signalled are dropped; of each context
 * only the latest seqno is kept, and the parts are in context order. Nothing left gives a
 * signalled stub, one fence left is that fence itself; otherwise a new fence on a context of its own signals once all have, with
 * the first error among them.
 * @throws {DmaBufError} `EINVAL` when any argument is not a `DmaFence` itself (a Proxy or
 *   `Object.create` of one included), before anything is merged.
 */
export function mergeFences(...fences: DmaFence[]): DmaFence {
  fences.forEach((fence) => { checkFence('mergeFences', fence); });
  const latest = new Map<number, DmaFence>();
  for (const part of fences.flatMap((f) => f.unwrap())) {
    if (part.signaled) continue;
    const known = latest.get(part.context);
    if (!known || part.isLater(known)) latest.set(part.context, part);
  }
  // In context order, as the kernel's merge sorts them (dma_fence_dedup_array).
  const parts = [...latest.values()].sort((a, b) => a.context - b.context);
  const [only] = parts;
  if (!only) return DmaFence.stub();
  if (parts.length === 1) return only;
  const merged = fenceAt(DmaFenceArray, allocFenceContext(), 1);
  merged.follow(parts);
  return merged;
}
