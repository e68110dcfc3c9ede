import type { DmaBufAttachment } from './attachment.js';
import type { DmaBuf } from './dma-buf.js';
import type { DmaDirection } from './direction.js';
import type { SgTable } from './sg-table.js';

/**
 * What an exporter implements: the kernel's `struct dma_buf_ops`. The contract
 * ({@link DmaBuf}, {@link DmaBufAttachment}) validates every call before it reaches these, so
 * an op only ever sees a live buffer, a known direction and pages inside the buffer.
 *
 * Errors: an op that throws a `DmaBufError` has it passed to the caller unchanged; anything
 * else it throws reaches the caller as `EIO` with the original as `cause`.
 */
export interface DmaBufOps<P = unknown> {
  /** Optional. Called by `attach`; throwing refuses the attachment, which is then not recorded. */
  attach?(buf: DmaBuf<P>, attachment: DmaBufAttachment<P>): void;
  /** Optional. Called exactly once by `detach`, after the last mapping of the attachment is gone. */
  detach?(buf: DmaBuf<P>, attachment: DmaBufAttachment<P>): void;
  /** Makes the buffer available on the attachment's device, moving what `dir` asks for. The kernel's `map_dma_buf`. */
  mapDmaBuf(attachment: DmaBufAttachment<P>, dir: DmaDirection): Promise<SgTable>;
  /** Ends a mapping that `mapDmaBuf` returned, moving back what `dir` asks for. The kernel's `unmap_dma_buf`. */
  unmapDmaBuf(attachment: DmaBufAttachment<P>, sgt: SgTable, dir: DmaDirection): void | Promise<void>;
  /** Frees the exporter's storage; runs exactly once, after the last reference is put. */
  release(buf: DmaBuf<P>): void;
  /** Optional. Prepares `[start, start + len)` for CPU access in `dir`; everything that can fail happens here. */
  beginCpuAccess?(buf: DmaBuf<P>, start: number, len: number, dir: DmaDirection): Promise<void>;
  /** Optional. Ends CPU access begun with the same range and direction; flushes written bytes. Must not fail. */
  endCpuAccess?(buf: DmaBuf<P>, start: number, len: number, dir: DmaDirection): void;
  /** A window of one page (`PAGE_SIZE` bytes, shorter for the last page). Must not fail or block. */
  kmapAtomic(buf: DmaBuf<P>, page: number): Uint8Array;
  /** Optional. Ends a window that `kmapAtomic` returned. */
  kunmapAtomic?(buf: DmaBuf<P>, page: number, view: Uint8Array): void;
  /** A window of one page (`PAGE_SIZE` bytes, shorter for the last page). Must not fail. */
  kmap(buf: DmaBuf<P>, page: number): Uint8Array;
  /** Optional. Ends a window that `kmap` returned. */
  kunmap?(buf: DmaBuf<P>, page: number, view: Uint8Array): void;
  /**
   * Optional. One contiguous view of the whole buffer (`size` bytes) while CPU access covers
   * it: the kernel's `vmap` (Linux 3.5). Called once per outstanding mapping; may throw
   * (`ERANGE` when the bytes are not staged in one piece).
   */
  vmap?(buf: DmaBuf<P>): Uint8Array;
  /** Optional. Ends the view `vmap` returned, once the last `vunmap` pairs the last `vmap`. */
  vunmap?(buf: DmaBuf<P>, view: Uint8Array): void;
}

/** The ops `exportDmaBuf` requires, as in the kernel's `dma_buf_export` (3.4). */
export const REQUIRED_OPS = ['mapDmaBuf', 'unmapDmaBuf', 'release', 'kmap', 'kmapAtomic'] as const;

