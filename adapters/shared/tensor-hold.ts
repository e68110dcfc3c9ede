/** A library's tensor over the very buffer an adapter mapped, and what its life holds back. */
import { DmaFence } from 'webgpu-dmabuf';
import { endMapping } from './end-mapping.js';
import type { WholeMapping } from './map-whole.js';

/**
 * Holds `mapping` for a tensor made over its buffer. Where the map moved no bytes (the
 * exporter's own buffer, zero-copy), a `'read'` fence stands in the buffer's reservation from
 * now on, so writers called while the tensor lives wait for it, not only for the unmap.
 * The returned `release` ends the mapping (`endMapping`, with `until` `done` when given) and
 * lifts that fence once `done` signals, without `done`'s error (a lost device is no reason
 * for writers to fail); without `done`, at once. Call it exactly once.
 */
export function holdForTensor(mapping: WholeMapping): (done?: DmaFence) => void {
  const { own, attachment, sgt } = mapping;
  const alive = attachment.stats().bytesToDevice === 0 ? new DmaFence() : undefined;
  if (alive) own.resv.addFence(alive, 'read');
  return (done) => {
    endMapping(own, attachment, sgt, done);
    if (!alive) return;
    if (done) {
      done.addCallback(() => {
        alive.signal();
      });
    } else {
      alive.signal();
    }
  };
}
