import { DmaBufError } from './error.js';

/**
 * The kernel allows an importer at most two atomic kmaps at once in one process context;
 * here the context is the JavaScript realm (a page or a worker), across all buffers.
 */
export const MAX_ATOMIC_KMAPS = 2;

let held = 0;

/**
 * Takes one of the realm's atomic kmap slots.
 * @throws {DmaBufError} `EBUSY` when both are held.
 */
export function takeAtomicKmapSlot(call: string, page: number): void {
  if (held >= MAX_ATOMIC_KMAPS) {
    throw new DmaBufError('EBUSY', call, `page ${page}: this realm already holds ${held} atomic kmaps (the limit is ${MAX_ATOMIC_KMAPS}); kunmapAtomic one first`);
  }
  held += 1;
}

/** Gives back a slot taken with {@link takeAtomicKmapSlot}. */
export function returnAtomicKmapSlot(): void {
  held = Math.max(0, held - 1);
}

/** How many atomic kmaps this realm holds now. */
export function atomicKmapsHeld(): number {
  return held;
}
