import type { BufInfoAttachment } from './bufinfo-entry.js';
import { checkBrand, checkOptions, describe, RECEIVER, type Brand } from './checks.js';
import { deviceLabel } from './device-label.js';
import { checkDirection, type DmaDirection } from './direction.js';
import type { DmaBuf } from './dma-buf.js';
import { checkFence, type DmaFence } from './dma-fence.js';
import { DmaBufError } from './error.js';
import { awaitExporter } from './exporter-call.js';
import type { DmaBufOps } from './ops.js';
import { checkSgTable, tableOfList, type SgList, type SgTable } from './sg-table.js';

/** Options of `DmaBuf.attach`. */
export interface DmaBufAttachOptions {
  /**
   * `GPUBufferUsage` flags the importer needs on the buffers its maps return (for example
   * `VERTEX` to draw from them), besides what the exporter's runtime adds for itself. Default 0.
   * The exporter refuses at `attach` (`EINVAL`) what it cannot give, never later.
   */
  readonly usage?: GPUBufferUsageFlags;
  /**
   * One `GPUBuffer` for the whole buffer on the importer's device, whatever the exporter's
   * segments are, for libraries that take a single buffer (`sgt.buffer`). Default `false`.
   * Where the storage is split, even on the exporter's own device, the importer then gets a
   * copy kept in step per direction, as on another device. The exporter refuses at `attach`
   * (`ENOMEM` for `GpuHeap`) a buffer larger than one binding can be on that device.
   */
  readonly contiguous?: boolean;
}

/** Options of {@link DmaBufAttachment.unmap}. */
export interface DmaBufUnmapOptions {
  /**
   * The fence after which the importer no longer uses the mapping's buffers: its own GPU work
   * on them may still be queued, or not yet submitted (a library that batches its commands),
   * until it signals. Until then the exporter keeps the buffers as they are (no later map's
   * transfer or write-back lands in them, no other attachment reuses them, releasing the
   * buffer does not destroy them), later writers wait for it, and an unmap that moves bytes
   * back moves what they hold once it signals. Without it, the importer's use of the
   * buffers must be submitted before it calls `unmap`.
   */
  readonly until?: DmaFence;
}

/** What one attachment has done, for seeing what an importer costs. */
export interface DmaBufAttachmentStats {
  /** Maps that succeeded. */
  readonly maps: number;
  /** Unmaps that succeeded. */
  readonly unmaps: number;
  /** Bytes its maps moved onto its device (0 for zero-copy maps on the exporter's device). */
  readonly bytesToDevice: number;
  /** Bytes its unmaps moved back into the exporter's storage. */
  readonly bytesFromDevice: number;
}

/**
 * A device's attachment to a dma-buf: the kernel's `struct dma_buf_attachment`. Made by
 * `DmaBuf.attach`, ended by `DmaBuf.detach`; the importer owns it in between.
 *
 * Map and unmap do not hold the buffer's lock (as in Linux 3.4): several attachments may
 * map at once, and one attachment may hold several mappings. Every map of one attachment
 * returns the same `GPUBuffer`s (the same segments) until it detaches, so the importer makes
 * its bind groups once. The attachment leads to no storage but through {@link map}. Its
 * methods throw `EINVAL` when called on a look-alike (a Proxy or `Object.create` of an
 * attachment), before they do anything.
 */
export interface DmaBufAttachment<P = unknown> {
  /** The buffer this attachment is of (the kernel's `attach->dmabuf`). */
  readonly dmabuf: DmaBuf<P>;
  /** The importer's device, on which the tables its maps return are valid (`attach->dev`). */
  readonly device: GPUDevice;
  /** The `GPUBufferUsage` flags asked for at attach (0 when none). */
  readonly usage: GPUBufferUsageFlags;
  /** Whether the attachment asked for one `GPUBuffer` on its device (`contiguous` at attach). */
  readonly contiguous: boolean;
  /**
   * Makes the buffer available on this attachment's device and returns its segments there;
   * the kernel's `dma_buf_map_attachment`. Pair it with {@link unmap} in the same direction.
   * Each call returns a new table (owned by the importer until it unmaps it) over the same
   * `GPUBuffer`s as every other map of this attachment.
   * @throws {DmaBufError} `EINVAL` for an unknown direction, a detached attachment or a
   *   released buffer; what the exporter's `mapDmaBuf` throws (`ENOMEM`, `ENODEV`, …); `EIO`
   *   when the exporter returns segments that do not cover the buffer in order.
   */
  map(dir: DmaDirection): Promise<SgTable>;
  /**
   * Ends a mapping; the kernel's `dma_buf_unmap_attachment`. The importer's GPU work on the
   * table's buffers must be submitted before the call, or covered by `options.until`; an
   * unmap that moves bytes back (`'from-device'`, `'bidirectional'`) takes what the buffers
   * hold then (with `until`: once it signals). The table is no longer the importer's as soon
   * as the call returns, even when the promise rejects later.
   * @throws {DmaBufError} `EINVAL` when `sgt` is not an outstanding table of this attachment's
   *   `map`, `dir` is not the direction it was mapped in, or `options.until` is not a
   *   `DmaFence` (nothing is unmapped then); what the exporter's `unmapDmaBuf` throws
   *   (`ENODEV`, and with `until` the error the fence signalled with).
   */
  unmap(sgt: SgTable, dir: DmaDirection, options?: DmaBufUnmapOptions): Promise<void>;
  /**
   * What this attachment has moved and how often it mapped, as a new plain object. Works
   * after detach too (the final counts).
   * @throws {DmaBufError} `EINVAL` only when called on a look-alike of an attachment.
   */
  stats(): DmaBufAttachmentStats;
}

/** What an attachment needs from its buffer: the exporter's map and unmap with its private data bound, and the liveness check. */
export interface AttachmentHost<P> {
  map(attachment: DmaBufAttachment<P>, dir: DmaDirection): Promise<SgList>;
  unmap(attachment: DmaBufAttachment<P>, sgt: SgTable, dir: DmaDirection, until: DmaFence | undefined): ReturnType<DmaBufOps<P>['unmapDmaBuf']>;
  /** Throws `EINVAL` naming `call` when the buffer is released. */
  checkLive(call: string): void;
}

/**
 * The buffer's side of an attachment: what detach, release and the debug listing need.
 * Only the buffer that made the attachment holds it, so no importer can detach an
 * attachment behind its buffer's back.
 */
export interface AttachmentControl {
  /** Whether maps are outstanding or a map or unmap is under way: detach must wait. */
  busy(): boolean;
  /** Every later call on the attachment throws `EINVAL`. */
  markDetached(): void;
  /** The attachment as plain data for the debug listing. */
  bufInfo(): BufInfoAttachment;
}

/** What an attachment asked for at attach, checked. */
export interface AttachmentAsks {
  readonly usage: GPUBufferUsageFlags;
  readonly contiguous: boolean;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

// Set by Attachment's static block: whether a value is an attachment itself (see Brand).
let isAttachment: (value: unknown) => boolean = () => false;

class Attachment<P> implements DmaBufAttachment<P> {
  readonly dmabuf: DmaBuf<P>;
  readonly device: GPUDevice;
  readonly usage: GPUBufferUsageFlags;
  readonly contiguous: boolean;
  readonly #host: AttachmentHost<P>;
  readonly #mappings = new Map<SgTable, DmaDirection>();
  #inFlight = 0;
  #detached = false;
  #maps = 0;
  #unmaps = 0;
  #bytesToDevice = 0;
  #bytesFromDevice = 0;

  static {
    isAttachment = (value) => typeof value === 'object' && value !== null && #host in value;
  }

  constructor(dmabuf: DmaBuf<P>, device: GPUDevice, asked: AttachmentAsks, host: AttachmentHost<P>, give: (control: AttachmentControl) => void) {
    this.dmabuf = dmabuf;
    this.device = device;
    this.usage = asked.usage;
    this.contiguous = asked.contiguous;
    this.#host = host;
    give({
      busy: () => this.#mappings.size > 0 || this.#inFlight > 0,
      markDetached: () => {
        this.#detached = true;
        this.#mappings.clear();
      },
      bufInfo: () => ({ device: deviceLabel(this.device), mappings: [...this.#mappings.values()] }),
    });
  }

  async map(dir: DmaDirection): Promise<SgTable> {
    checkAttachment('map', this, RECEIVER);
    this.#checkLive('map');
    checkDirection('map', dir);
    this.#inFlight += 1;
    try {
      const list = await awaitExporter('map', 'mapDmaBuf', () => this.#host.map(this, dir));
      const { table, bytesMoved } = tableOfList('map', list, this.dmabuf.size, this.device);
      this.#checkLive('map');
      this.#mappings.set(table, dir);
      this.#maps += 1;
      this.#bytesToDevice += bytesMoved;
      return table;
    } finally {
      this.#inFlight -= 1;
    }
  }

  async unmap(sgt: SgTable, dir: DmaDirection, options?: DmaBufUnmapOptions): Promise<void> {
    checkAttachment('unmap', this, RECEIVER);
    this.#checkLive('unmap');
    checkSgTable('unmap', sgt, 'the table');
    checkDirection('unmap', dir);
    const { until } = checkOptions('unmap', options);
    if (until !== undefined) checkFence('unmap', until, 'until');
    const mapped = this.#mappings.get(sgt);
    if (mapped === undefined) {
      throw new DmaBufError('EINVAL', 'unmap', `${describe(sgt)} is not a table this attachment's map returned, or it is already unmapped`);
    }
    if (mapped !== dir) throw new DmaBufError('EINVAL', 'unmap', `the table was mapped '${mapped}', not '${dir}'`);
    this.#mappings.delete(sgt);
    this.#inFlight += 1;
    try {
      const moved = await awaitExporter('unmap', 'unmapDmaBuf', () => this.#host.unmap(this, sgt, dir, until));
      if (moved !== undefined && !isCount(moved)) {
        throw new DmaBufError('EIO', 'unmap', `the exporter's unmapDmaBuf returned ${describe(moved)}, not a byte count`);
      }
      this.#unmaps += 1;
      this.#bytesFromDevice += moved ?? 0;
    } finally {
      this.#inFlight -= 1;
    }
  }

  stats(): DmaBufAttachmentStats {
    checkAttachment('stats', this, RECEIVER);
    return { maps: this.#maps, unmaps: this.#unmaps, bytesToDevice: this.#bytesToDevice, bytesFromDevice: this.#bytesFromDevice };
  }

  #checkLive(call: string): void {
    this.#host.checkLive(call);
    if (this.#detached) throw new DmaBufError('EINVAL', call, `the attachment is detached`);
  }
}

const ATTACHMENT: Brand<DmaBufAttachment> = {
  noun: 'a DmaBufAttachment',
  variable: 'attachment',
  prototype: Attachment.prototype,
  has: (value): value is DmaBufAttachment => isAttachment(value),
};

/**
 * Throws `EINVAL` naming `call` unless `value` is an attachment itself, as `DmaBuf.attach`
 * made it, not a look-alike (a Proxy or `Object.create` of one); `what` names it in the
 * message (`RECEIVER` for `this`; default `'the attachment'`).
 * @throws {DmaBufError} `EINVAL`
 */
export function checkAttachment(call: string, value: unknown, what = 'the attachment'): asserts value is DmaBufAttachment {
  checkBrand(call, value, ATTACHMENT, what);
}

/**
 * Makes an attachment of `dmabuf` for `device` (checked by the caller) and its control,
 * which only the caller (the buffer's `attach`) receives.
 */
export function createAttachment<P>(dmabuf: DmaBuf<P>, device: GPUDevice, asked: AttachmentAsks, host: AttachmentHost<P>): { attachment: DmaBufAttachment<P>; control: AttachmentControl } {
  const given: { control?: AttachmentControl } = {};
  const attachment = new Attachment(dmabuf, device, asked, host, (control) => (given.control = control));
  const { control } = given;
  if (!control) throw new Error('createAttachment: the attachment gave no control');
  return { attachment, control };
}
