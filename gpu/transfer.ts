import { DmaBufError } from '../src/error.js';
import { segmentPieces, type Segment } from './segments.js';
import type { StagingPool } from './staging-pool.js';
import { upload } from './upload-path.js';

/** One device's copy of a dma-buf's bytes: the exporter's storage or an importer's mirror. */
export interface Copy {
  readonly device: GPUDevice;
  readonly segments: readonly Segment[];
}

/** How a transfer takes its place among the buffer's other operations. */
export interface TransferTurns {
  /** Called before anything is submitted or written; throws to stop the transfer (the buffer was released, a device was lost). */
  readonly guard: () => void;
  /** Awaited once, before the first write into the destination: the write's turn in the buffer's reservation. */
  readonly beforeWrite?: () => Promise<void> | undefined;
  /** Called once every copy out of the source is submitted: the read's part is done. */
  readonly sourceDone?: () => void;
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
 * `mapAsync`, and an upload to the destination device by the path its measurement chose for
 * the chunk's size (`upload-path.ts`). Works in chunks of at most
 * `chunkSize` bytes, with the next chunk's GPU copy and map in flight while the CPU hands the
 * current one over, so at most two staging buffers are in use.
 *
 * The first copy out of the source is submitted before the first `await`, so it sees every
 * command queued on the source device before the call. `turns.guard` runs before every
 * submission and write: once it throws, nothing more is submitted. The writes are queued on
 * the destination device when the promise resolves. Rejects with what `guard` threw, or with
 * the `mapAsync` error when a device is lost (or destroyed) on the way; staging buffers are
 * given back (or discarded, after a device error) either way.
 */
export async function transfer(from: Copy, to: Copy, start: number, len: number, pool: StagingPool, chunkSize: number, turns: TransferTurns): Promise<void> {
  const end = start + len;
  const issue = (at: number): Chunk => {
    turns.guard();
    const chunkLen = Math.min(chunkSize, end - at);
    const staging = pool.acquire(from.device, 'read', chunkLen);
    const encoder = from.device.createCommandEncoder({ label: 'dmabuf transfer' });
    for (const piece of segmentPieces(from.segments, at, chunkLen)) {
      encoder.copyBufferToBuffer(piece.buffer, piece.offset, staging, piece.at - at, piece.length);
    }
    from.device.queue.submit([encoder.finish()]);
    if (at + chunkLen >= end) turns.sourceDone?.();
    const mapped = staging.mapAsync(GPUMapMode.READ, 0, chunkLen);
    // A chunk whose turn never comes (an earlier one failed) must not reject unobserved.
    mapped.catch(() => undefined);
    return { start: at, len: chunkLen, staging, mapped };
  };

  let current: Chunk | undefined;
  let next: Chunk | undefined;
  let waitTurn = turns.beforeWrite;
  try {
    next = issue(start);
    while (next) {
      current = next;
      const after: number = current.start + current.len;
      next = after < end ? issue(after) : undefined;
      await current.mapped;
      if (waitTurn) {
        const turn = waitTurn();
        waitTurn = undefined;
        if (turn) await turn;
      }
      turns.guard();
      const bytes = new Uint8Array(current.staging.getMappedRange(0, current.len));
      const { start: chunkStart } = current;
      upload(to.device, [...segmentPieces(to.segments, chunkStart, current.len)].map((piece) => ({ buffer: piece.buffer, offset: piece.offset, data: bytes.subarray(piece.at - chunkStart), length: piece.length })));
      pool.release(current.staging);
      current = undefined;
    }
  } catch (error) {
    // Our own refusal leaves the staging sound; a failed map or device does not.
    for (const chunk of [current, next]) {
      if (!chunk) continue;
      if (error instanceof DmaBufError) pool.release(chunk.staging);
      else pool.discard(chunk.staging);
    }
    throw error;
  }
}
