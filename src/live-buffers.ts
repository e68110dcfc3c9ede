import type { BufInfoSource } from './bufinfo-entry.js';

/**
 * Every dma-buf of this realm that is not yet released, in export order: the source of
 * the debug listing. Only the contract adds and removes; nothing outside `src/` sees the set.
 */
export const liveBuffers = new Set<BufInfoSource>();
