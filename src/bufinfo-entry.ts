import type { DmaDirection } from './direction.js';
import type { DmaResvUsage } from './dma-resv.js';

/** One attachment of a buffer, as listed by `bufinfo`. */
export interface BufInfoAttachment {
  /** The importer's device, by label. */
  readonly device: string;
  /** The direction of each mapping outstanding on this attachment. */
  readonly mappings: readonly DmaDirection[];
}

/** One active CPU-access range, as listed by `bufinfo`. */
export interface BufInfoCpuAccess {
  /** The range's first byte. */
  readonly start: number;
  /** The range's length in bytes. */
  readonly len: number;
  /** The direction `beginCpuAccess` was called with. */
  readonly direction: DmaDirection;
}

/** One fence of a buffer's reservation not yet signalled, as listed by `bufinfo` (later kernels list them too). */
export interface BufInfoFence {
  /** The fence's timeline and its place on it. */
  readonly context: number;
  /** The fence's place on its timeline. */
  readonly seqno: number;
  /** The class it was added under (`kernel`, `write`, `read` or `bookkeep`). */
  readonly usage: DmaResvUsage;
}

/**
 * One live dma-buf in the debug listing, like a line of the kernel's debugfs
 * `dma_buf/bufinfo`. Plain data: nothing in it leads back to the buffer.
 */
export interface BufInfoEntry {
  /** A number unique to the buffer in this realm (the kernel shows the file's inode). */
  readonly id: number;
  /** The buffer's size in bytes. */
  readonly size: number;
  /** The exporter's name (the kernel's `exp_name`). */
  readonly exporter: string;
  /** The buffer's name, or `'<none>'` when unset (as the kernel prints it). */
  readonly name: string;
  /** References held, by fds and by callers of `get` (the kernel's file count). */
  readonly refCount: number;
  /** Its attachments not yet detached. */
  readonly attachments: readonly BufInfoAttachment[];
  /** Its active CPU-access ranges. */
  readonly cpuAccess: readonly BufInfoCpuAccess[];
  /** Page windows held through `kmap` and `kmapAtomic`. */
  readonly kmaps: number;
  /** Of those, the ones held through `kmapAtomic` (at most two per realm). */
  readonly atomicKmaps: number;
  /** The fences of its reservation still pending, strongest class first. */
  readonly fences: readonly BufInfoFence[];
}

/** What the live registry holds: anything that can describe itself as an entry. */
export interface BufInfoSource {
  /** This buffer's entry, as of now. */
  bufInfo(): BufInfoEntry;
}
