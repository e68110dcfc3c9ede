import type { DmaBufAttachment } from './attachment.js';
import type { DmaBuf } from './dma-buf.js';
import type { DmaDirection } from './direction.js';
import type { DmaFence } from './dma-fence.js';
import type { SgList, SgTable } from './sg-table.js';

/**
 * What an exporter implements: the kernel's `struct dma_buf_ops`. The contract
 * ({@link DmaBuf}, {@link DmaBufAttachment}) validates every call before it reaches these, so
 * an op only ever sees a live buffer, a known direction and pages inside the buffer.
 *
 * Every op receives the exporter's private data (`priv` of `exportDmaBuf`) first: the buffer
 * itself does not show it, so an importer reaches the storage only through `map` and CPU
 * access, while the exporter reaches it in every op without keeping a table of its own.
 *
 * Errors: an op that throws a `DmaBufError` has it passed to the caller unchanged; anything
 * else it throws reaches the caller as `EIO` with the original as `cause`.
 */
export interface DmaBufOps<P = unknown> {
  /**
   * Optional. Called by `attach`; throwing refuses the attachment, which is then not recorded.
   * The place to check what the attachment asks for (its `device`, its `usage`) against what
   * the exporter can give.
   */
  attach?(priv: P, buf: DmaBuf<P>, attachment: DmaBufAttachment<P>): void;
  /** Optional. Called exactly once by `detach`, after the last mapping of the attachment is gone. */
  detach?(priv: P, buf: DmaBuf<P>, attachment: DmaBufAttachment<P>): void;
  /**
   * Makes the buffer available on the attachment's device, moving what `dir` asks for, and
   * says how many bytes that moved onto the device (`bytesMoved`). The kernel's
   * `map_dma_buf`. Every map of one attachment must give the same `GPUBuffer`s until it
   * detaches: importers make their bind groups once.
   */
  mapDmaBuf(priv: P, attachment: DmaBufAttachment<P>, dir: DmaDirection): Promise<SgList>;
  /**
   * Ends a mapping that `mapDmaBuf` returned (`sgt` is the table the importer got), moving
   * back what `dir` asks for; returns the bytes moved back to the storage (nothing: none).
   * The kernel's `unmap_dma_buf`.
   *
   * `until`, when given, is the importer's word that work on the mapping's buffers may still
   * be under way (or not yet submitted) until that fence signals. The exporter must then keep
   * those buffers as they are until it signals: no later transfer or write-back into them, no
   * reuse by another attachment, no destroying them (not even at release). Later operations
   * on the buffers wait for it as for a fence in the reservation: a `'read'` one, or a
   * `'write'` one when `dir` moves bytes from the device. When the unmap moves bytes back, it
   * moves what the buffers hold once the fence signals (an error in the fence fails the unmap
   * with that error, and moves nothing).
   */
  // An exporter that moved nothing may return nothing, as every unmap op did before there
  // were counts: void must stay in the union, which the lint rule only allows beside never.
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  unmapDmaBuf(priv: P, attachment: DmaBufAttachment<P>, sgt: SgTable, dir: DmaDirection, until?: DmaFence): void | number | Promise<void | number>;
  /** Frees the exporter's storage; runs exactly once, after the last reference is put. */
  release(priv: P, buf: DmaBuf<P>): void;
  /** Optional. Prepares `[start, start + len)` for CPU access in `dir`; everything that can fail happens here. */
  beginCpuAccess?(priv: P, buf: DmaBuf<P>, start: number, len: number, dir: DmaDirection): Promise<void>;
  /** Optional. Ends CPU access begun with the same range and direction; flushes written bytes. Must not fail. */
  endCpuAccess?(priv: P, buf: DmaBuf<P>, start: number, len: number, dir: DmaDirection): void;
  /** A window of one page (`PAGE_SIZE` bytes, shorter for the last page). Must not fail or block. */
  kmapAtomic(priv: P, buf: DmaBuf<P>, page: number): Uint8Array;
  /** Optional. Ends a window that `kmapAtomic` returned. */
  kunmapAtomic?(priv: P, buf: DmaBuf<P>, page: number, view: Uint8Array): void;
  /** A window of one page (`PAGE_SIZE` bytes, shorter for the last page). Must not fail. */
  kmap(priv: P, buf: DmaBuf<P>, page: number): Uint8Array;
  /** Optional. Ends a window that `kmap` returned. */
  kunmap?(priv: P, buf: DmaBuf<P>, page: number, view: Uint8Array): void;
  /**
   * Optional. One contiguous view of the whole buffer (`size` bytes) while CPU access covers
   * it: the kernel's `vmap` (Linux 3.5). Called once per outstanding mapping; may throw
   * (`ERANGE` when the bytes are not staged in one piece).
   */
  vmap?(priv: P, buf: DmaBuf<P>): Uint8Array;
  /** Optional. Ends the view `vmap` returned, once the last `vunmap` pairs the last `vmap`. */
  vunmap?(priv: P, buf: DmaBuf<P>, view: Uint8Array): void;
  /**
   * Optional. Copies bytes `[start, start + into.length)` of the storage into `into`, as a
   * read that takes its place in the buffer's call order when the op is called (the
   * reservation's rule 1): what `DmaBuf.read` uses. Without it, `read` is refused.
   */
  read?(priv: P, buf: DmaBuf<P>, start: number, into: Uint8Array): Promise<void>;
  /**
   * Optional. Writes `bytes` at `start` into the storage, as a write that takes its place in
   * the buffer's call order when the op is called: what `DmaBuf.write` uses. `bytes` is the
   * op's from then on. Without it, `write` is refused.
   */
  write?(priv: P, buf: DmaBuf<P>, start: number, bytes: Uint8Array<ArrayBuffer>): Promise<void>;
}

/** The ops `exportDmaBuf` requires, as in the kernel's `dma_buf_export` (3.4). */
export const REQUIRED_OPS = ['mapDmaBuf', 'unmapDmaBuf', 'release', 'kmap', 'kmapAtomic'] as const;
