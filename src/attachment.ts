import type { BufInfoAttachment } from './bufinfo-entry.js';
import { describe } from './checks.js';
import { deviceLabel } from './device-label.js';
import { checkDirection, type DmaDirection } from './direction.js';
import type { DmaBuf } from './dma-buf.js';
import { DmaBufError } from './error.js';
import { awaitExporter } from './exporter-call.js';
import type { DmaBufOps } from './ops.js';
import type { SgSegment, SgTable } from './sg-table.js';

/**
 * A device's attachment to a dma-buf: the kernel's `struct dma_buf_attachment`. Made by
 * `DmaBuf.attach`, ended by `DmaBuf.detach`; the importer owns it in between.
 *
 * Map and unmap do not hold the buffer's lock (as in Linux 3.4): several attachments may
 * map at once, and one attachment may hold several mappings.
 */
export interface DmaBufAttachment<P = unknown> {
  readonly dmabuf: DmaBuf<P>;
  readonly device: GPUDevice;
  /**
   * Makes the buffer available on this attachment's device and returns its segments there;
   * the kernel's `dma_buf_map_attachment`. Pair it with {@link unmap} in the same direction.
   * @throws {DmaBufError} `EINVAL` for an unknown direction, a detached attachment or a
   *   released buffer; what the exporter's `mapDmaBuf` throws (`ENOMEM`, `ENODEV`, …).
   */
  map(dir: DmaDirection): Promise<SgTable>;
  /**
   * Ends a mapping; the kernel's `dma_buf_unmap_attachment`.
   * @throws {DmaBufError} `EINVAL` when `sgt` is not an outstanding table of this attachment's
   *   `map`, or `dir` is not the direction it was mapped in.
   */
  unmap(sgt: SgTable, dir: DmaDirection): Promise<void>;
}

/** What an attachment needs from its buffer, handed over by `DmaBuf.attach`. */
export interface AttachmentHost<P> {
  readonly ops: DmaBufOps<P>;
  /** Throws `EINVAL` naming `call` when the buffer is released. */
  checkLive(call: string): void;
}

/** The contract's implementation of {@link DmaBufAttachment}. */
export class Attachment<P> implements DmaBufAttachment<P> {
  readonly dmabuf: DmaBuf<P>;
  readonly device: GPUDevice;
  readonly #host: AttachmentHost<P>;
  readonly #mappings = new Map<SgTable, DmaDirection>();
  #inFlight = 0;
  #detached = false;

  constructor(dmabuf: DmaBuf<P>, device: GPUDevice, host: AttachmentHost<P>) {
    this.dmabuf = dmabuf;
    this.device = device;
    this.#host = host;
  }

  /** Whether maps are outstanding or a map or unmap is under way: detach must wait. */
  get busy(): boolean {
    return this.#mappings.size > 0 || this.#inFlight > 0;
  }

  /** Called by detach and release: every later call on this attachment throws `EINVAL`. */
  markDetached(): void {
    this.#detached = true;
    this.#mappings.clear();
  }

  async map(dir: DmaDirection): Promise<SgTable> {
    this.#checkLive('map');
    checkDirection('map', dir);
    this.#inFlight += 1;
    try {
      const sgt = await awaitExporter('map', 'mapDmaBuf', () => this.#host.ops.mapDmaBuf(this, dir));
      this.#checkTable(sgt);
      this.#checkLive('map');
      this.#mappings.set(sgt, dir);
      return sgt;
    } finally {
      this.#inFlight -= 1;
    }
  }

  async unmap(sgt: SgTable, dir: DmaDirection): Promise<void> {
    this.#checkLive('unmap');
    checkDirection('unmap', dir);
    const mapped = this.#mappings.get(sgt);
    if (mapped === undefined) {
      throw new DmaBufError('EINVAL', `unmap: ${describe(sgt)} is not a table this attachment's map returned, or it is already unmapped`);
    }
    if (mapped !== dir) throw new DmaBufError('EINVAL', `unmap: the table was mapped '${mapped}', not '${dir}'`);
    this.#mappings.delete(sgt);
    this.#inFlight += 1;
    try {
      await awaitExporter('unmap', 'unmapDmaBuf', () => this.#host.ops.unmapDmaBuf(this, sgt, dir));
    } finally {
      this.#inFlight -= 1;
    }
  }

  /** This attachment as plain data for the debug listing. */
  bufInfo(): BufInfoAttachment {
    return { device: deviceLabel(this.device), mappings: [...this.#mappings.values()] };
  }

  #checkLive(call: string): void {
    this.#host.checkLive(call);
    if (this.#detached) throw new DmaBufError('EINVAL', `${call}: the attachment is detached`);
  }

  #checkTable(sgt: SgTable): void {
    const segments: unknown = (sgt as Partial<SgTable> | null | undefined)?.segments;
    const total = Array.isArray(segments)
      ? (segments as readonly Partial<SgSegment>[]).reduce((sum, segment) => sum + (segment.length ?? Number.NaN), 0)
      : Number.NaN;
    if (total !== this.dmabuf.size || this.#mappings.has(sgt)) {
      throw new DmaBufError('EIO', `map: the exporter's mapDmaBuf returned a table covering ${total} bytes, not the buffer's ${this.dmabuf.size}, or one already mapped`);
    }
  }
}
