import { segmentPieces, type Segment } from './segments.js';
import type { StagingPool } from './staging-pool.js';

/** One device's copy of a dma-buf's bytes: the exporter's storage or an importer's mirror. */
export interface Copy {
  readonly device: GPUDevice;
  readonly segments: readonly Segment[];
}

interface Chunk {
  readonly start: number;
  readonly len: number;
  readonly staging: GPUBuffer;
  readonly mapped: Promise<void>;
}

/**
 * Moves `[start, start + len)` (multiples of 4) from one device's copy to another's through
 * the CPU: a GPU copy into a pooled `MAP_READ` staging buffer on the source device,
 * `mapAsync`, and `queue.writeBuffer` on the destination device. Works in chunks of at most
 * `chunkSize` bytes, with the next chunk's GPU copy and map in flight while the CPU hands the
 * current one over, so at most two staging buffers are in use.
 *
 * The writes are queued on the destination device when the promise resolves, so any later
 * GPU work or copy there sees them. Rejects with the `mapAsync` error when a device is lost
 * (or destroyed) on the way; staging buffers are given back or discarded either way.
 */
export async function transfer(from: Copy, to: Copy, start: number, len: number, pool: StagingPool, chunkSize: number): Promise<void> {
  const issue = (at: number): Chunk => {
    const chunkLen = Math.min(chunkSize, start + len - at);
    const staging = pool.acquire(from.device, 'read', chunkLen);
    const encoder = from.device.createCommandEncoder({ label: 'dmabuf transfer' });
    for (const piece of segmentPieces(from.segments, at, chunkLen)) {
      encoder.copyBufferToBuffer(piece.buffer, piece.offset, staging, piece.at - at, piece.length);
    }
    from.device.queue.submit([encoder.finish()]);
    const mapped = staging.mapAsync(GPUMapMode.READ, 0, chunkLen);
    // A chunk whose turn never comes (an earlier one failed) must not reject unobserved.
    mapped.catch(() => undefined);
    return { start: at, len: chunkLen, staging, mapped };
  };

  let current: Chunk | undefined;
  let next: Chunk | undefined = issue(start);
  try {
    while (next) {
      current = next;
      const after: number = current.start + current.len;
      next = after < start + len ? issue(after) : undefined;
      await current.mapped;
      const bytes = current.staging.getMappedRange(0, current.len);
      for (const piece of segmentPieces(to.segments, current.start, current.len)) {
        to.device.queue.writeBuffer(piece.buffer, piece.offset, bytes, piece.at - current.start, piece.length);
      }
      pool.release(current.staging);
      current = undefined;
    }
  } catch (error) {
    for (const chunk of [current, next]) if (chunk) pool.discard(chunk.staging);
    throw error;
  }
}
