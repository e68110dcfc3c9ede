/**
 * Mapped segments, the kernel's `struct scatterlist` and `struct sg_table`. An exporter's
 * `mapDmaBuf` returns an {@link SgList}; the contract checks it and hands the importer an
 * {@link SgTable} made from it. Plain objects only: nothing here calls WebGPU, so the contract
 * stays usable where WebGPU is absent.
 */
import { checkBrand, checkInteger, describe, RECEIVER, type Brand } from './checks.js';
import { DmaBufError } from './error.js';

/**
 * One contiguous piece of a mapped buffer, valid on the attachment's device: the dma-buf's
 * bytes `[start, start + length)` are `length` bytes of `buffer` from `offset` on. The
 * kernel's `struct scatterlist` entry. The buffer holds at least `offset + length` bytes
 * rounded up to a multiple of 4, so that the segment binds whole as a storage buffer.
 */
export interface SgSegment {
  /** The `GPUBuffer` holding the segment, on the attachment's device; the exporter's, never the importer's to destroy. */
  readonly buffer: GPUBuffer;
  /** Where the segment lies in `buffer`, in bytes. */
  readonly offset: number;
  /** Where the segment begins in the dma-buf, in bytes: the sum of the lengths before it. */
  readonly start: number;
  /** Bytes of the dma-buf it holds. */
  readonly length: number;
}

/**
 * What an exporter's `mapDmaBuf` returns: the buffer's bytes as segments in order, whose
 * lengths add up to the buffer's size, and how many bytes the map moved onto the importer's
 * device (absent or 0 for zero-copy), for {@link DmaBufAttachmentStats}.
 */
export interface SgList {
  /** The buffer's bytes as segments, in order. */
  readonly segments: readonly SgSegment[];
  /** Bytes the map moved onto the importer's device; absent or 0 when it moved none. */
  readonly bytesMoved?: number;
}

/**
 * What a map returns: the buffer's bytes as segments in order, valid on the attachment's
 * device; `segments[i].start` is where each begins in the dma-buf and the lengths add up to
 * the buffer's size. The kernel's `struct sg_table`. Frozen. The exporter owns the
 * `GPUBuffer`s: the importer uses them until it unmaps the table and never destroys them;
 * every map of one attachment returns the same `GPUBuffer`s until it detaches, so bind
 * groups made from one table serve every later map of that attachment.
 */
export interface SgTable {
  /** The buffer's bytes as segments, in order (frozen). */
  readonly segments: readonly SgSegment[];
  /** The device the segments' buffers are on: the attachment's (`sg_table`'s `dev`). */
  readonly device: GPUDevice;
  /**
   * The one `GPUBuffer` of a table of one segment, for libraries that take a single buffer
   * (its bytes begin at `segments[0].offset`, 0 with the stock exporter). Ask for one segment
   * with `contiguous` at allocation.
   * @throws {DmaBufError} `EINVAL` naming the segment count when there is more than one, or
   *   when read on a look-alike of a table.
   */
  readonly buffer: GPUBuffer;
  /**
   * Bind-group entries for the whole table in one call: one storage-buffer entry per
   * segment, in order, with bindings `firstBinding`, `firstBinding + 1`, …; each binds its
   * segment whole (`size` is its length rounded up to 4, as storage bindings require). The
   * caller owns the returned array (a new one per call); the buffers stay the exporter's.
   * A shader declares one `array<T>` binding per segment; with `segmentAlign` at allocation
   * no element straddles two of them.
   * @throws {DmaBufError} `EINVAL` unless `firstBinding` is a non-negative integer, or when
   *   called on a look-alike (a Proxy or `Object.create` of a table).
   */
  entries(firstBinding?: number): GPUBindGroupEntry[];
}

/** The bytes a storage binding of `length` bytes covers: WebGPU wants a multiple of 4. */
const bindingSize = (length: number): number => Math.ceil(length / 4) * 4;

// Set by Table's static block: whether a value is a table itself (see Brand).
let isTable: (value: unknown) => boolean = () => false;

class Table implements SgTable {
  readonly segments: readonly SgSegment[];
  readonly device: GPUDevice;
  // The brand: a table that a map made, not a Proxy or Object.create of one.
  readonly #made = true;

  static {
    isTable = (value) => typeof value === 'object' && value !== null && #made in value;
  }

  constructor(segments: readonly SgSegment[], device: GPUDevice) {
    this.segments = Object.freeze(segments.map(({ buffer, offset, start, length }) => Object.freeze({ buffer, offset, start, length })));
    this.device = device;
    Object.freeze(this);
  }

  get buffer(): GPUBuffer {
    checkSgTable('buffer', this, RECEIVER);
    const [only, ...more] = this.segments;
    if (!only || more.length > 0) {
      throw new DmaBufError('EINVAL', 'buffer', `the table has ${this.segments.length} segments, not one; bind them with entries(), or allocate the buffer with contiguous: true`);
    }
    return only.buffer;
  }

  entries(firstBinding = 0): GPUBindGroupEntry[] {
    checkSgTable('entries', this, RECEIVER);
    checkInteger('entries', 'firstBinding', firstBinding, 0);
    return this.segments.map(({ buffer, offset, length }, i) => ({ binding: firstBinding + i, resource: { buffer, offset, size: bindingSize(length) } }));
  }
}

const SG_TABLE: Brand<SgTable> = { noun: 'an SgTable', variable: 'sgt', prototype: Table.prototype, has: (value): value is SgTable => isTable(value) };

/**
 * Throws `EINVAL` naming `call` unless `value` is a table a map returned, not a look-alike (a
 * Proxy or `Object.create` of one); `what` names it in the message (`RECEIVER` for `this`).
 * @throws {DmaBufError} `EINVAL`
 */
export function checkSgTable(call: string, value: unknown, what?: string): asserts value is SgTable {
  checkBrand(call, value, SG_TABLE, what);
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Checks what an exporter's `mapDmaBuf` returned for a buffer of `size` bytes and makes the
 * importer's {@link SgTable} of it on `device`, with the bytes the map moved.
 * @throws {DmaBufError} `EIO` naming the fault when the list is not segments in order (each
 *   `start` the sum of the lengths before it, offsets and lengths non-negative integers,
 *   lengths adding up to `size`) or `bytesMoved` is not a non-negative integer.
 */
export function tableOfList(call: string, list: unknown, size: number, device: GPUDevice): { table: SgTable; bytesMoved: number } {
  const fault = (what: string) => new DmaBufError('EIO', call, `the exporter's mapDmaBuf returned ${what}`);
  const { segments, bytesMoved = 0 } = (typeof list === 'object' && list !== null ? list : {}) as Partial<Record<keyof SgList, unknown>>;
  if (!Array.isArray(segments)) throw fault('no segments array');
  let at = 0;
  for (const [i, segment] of (segments as unknown[]).entries()) {
    const { buffer, offset, start, length } = (typeof segment === 'object' && segment !== null ? segment : {}) as Partial<Record<keyof SgSegment, unknown>>;
    if (typeof buffer !== 'object' || buffer === null || !isCount(offset) || !isCount(length) || length === 0) throw fault(`segment ${i} without a buffer, an offset and a positive length`);
    if (start !== at) throw fault(`segment ${i} starting at ${describe(start)}, not at ${at} where the one before it ends`);
    at += length;
  }
  if (at !== size) throw fault(`segments covering ${at} bytes, not the buffer's ${size}`);
  if (!isCount(bytesMoved)) throw fault(`bytesMoved ${describe(bytesMoved)}, not a non-negative integer`);
  return { table: new Table(segments as SgSegment[], device), bytesMoved };
}
