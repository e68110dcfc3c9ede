/**
 * The dma-buf itself: the kernel's `struct dma_buf` with the calls of Linux 3.4's
 * `drivers/base/dma-buf.c`.
 *
 * Device access, as numbered steps (the kernel's "DOC: dma buf device access"):
 * 1. The exporter makes the buffer: `exportDmaBuf({ priv, ops, size })` (or a heap's
 *    `allocate`). It holds one reference, its creator's.
 * 2. The buffer travels between modules as an fd: `FdTable.install`, `FdTable.send`.
 * 3. An importer takes its own reference: `FdTable.get(fd)` (`dma_buf_get`).
 * 4. It attaches its device: `buf.attach(device, { usage })` (`dma_buf_attach`).
 * 5. It maps for access in a direction: `attachment.map(dir)` (`dma_buf_map_attachment`),
 *    uses the segments on its device, and unmaps in the same direction.
 * 6. It detaches (`dma_buf_detach`) and puts its reference (`dma_buf_put`). The exporter's
 *    `release` runs once, after the last reference is gone.
 *
 * CPU access (the kernel's "Kernel cpu access to a dma-buf buffer object"):
 * 1. `beginCpuAccess(start, len, dir)`: everything that can fail happens here.
 * 2. `kmap(page)` / `kmapAtomic(page)` of pages the range covers, each ended with
 *    `kunmap` / `kunmapAtomic`; these never fail for pages inside an active range. Or, when
 *    the ranges cover the whole buffer, `vmap()` for one view of all of it, ended with `vunmap`.
 * 3. `endCpuAccess(start, len, dir)` with the same range and direction: always succeeds.
 *
 * Locking convention: JavaScript runs one call at a time, so attach and detach (which are
 * synchronous) are serialized per buffer as in the kernel. Map, unmap and beginCpuAccess
 * are asynchronous and are not serialized: two importers may map at once. An attachment
 * with a map or unmap under way counts as mapped, so detach refuses it (`EBUSY`). What they
 * do to the storage takes effect in call order, through the buffer's reservation
 * (`buf.resv`, `src/dma-resv.ts`): an operation called after another sees its effects,
 * whether or not its caller awaited the first.
 */
import { checkAttachment, createAttachment, type AttachmentControl, type AttachmentHost, type DmaBufAttachment, type DmaBufAttachOptions } from './attachment.js';
import { returnAtomicKmapSlot, takeAtomicKmapSlot } from './atomic-kmap-slots.js';
import type { BufInfoEntry, BufInfoSource } from './bufinfo-entry.js';
import { checkUsage } from './buffer-usage.js';
import { booleanOption, checkBrand, checkInteger, checkOptions, checkRange, describe, RECEIVER, type Brand } from './checks.js';
import { CpuAccessState } from './cpu-access.js';
import { checkDirection, type DmaDirection } from './direction.js';
import { checkFence, type DmaFence } from './dma-fence.js';
import { mergeFences } from './dma-fence-array.js';
import { DmaResv } from './dma-resv.js';
import { DmaBufError } from './error.js';
import { awaitExporter, callExporter, exporterError } from './exporter-call.js';
import { liveBuffers } from './live-buffers.js';
import { REQUIRED_OPS, type DmaBufOps } from './ops.js';
import { pageCount } from './page.js';
import { checkLayout, type SegmentLayout } from './segment-layout.js';
import { checkTypedArrayType, type DmaBufTypedArray, type DmaBufTypedArrayType } from './typed-array.js';

/** The longest name, in UTF-8 bytes, as the kernel's `DMA_BUF_NAME_LEN`. */
export const DMA_BUF_NAME_MAX = 32;

/** What `exportDmaBuf` takes: the kernel's `dma_buf_export(priv, ops, size, flags)`. */
export interface DmaBufExportOptions<P> {
  /**
   * The exporter's private data for this buffer; required, as in the kernel. The buffer keeps
   * it to itself: only the exporter's ops receive it (their first argument).
   */
  readonly priv: P;
  /** The exporter's operations; the required ones must all be there. */
  readonly ops: DmaBufOps<P>;
  /** Size in bytes: a positive safe integer. */
  readonly size: number;
  /** A name for debug listings, at most 32 UTF-8 bytes. */
  readonly name?: string;
  /** The exporter's name for debug listings (the kernel's `exp_name`). */
  readonly exporter?: string;
  /**
   * How the exporter cuts the buffer into segments on every device (one piece, or
   * boundaries on multiples of `align`); default: wherever a device needs. It crosses realms
   * with an fd, so that an importing realm's mirrors keep it too.
   */
  readonly layout?: SegmentLayout;
}

/** What a sync file is for, the kernel's `DMA_BUF_SYNC_READ` / `_WRITE` / `_RW`. */
export type SyncFileFlags = 'read' | 'write' | 'rw';

/**
 * Throws `EINVAL` naming `call` unless `flags` is `'read'`, `'write'` or `'rw'`.
 * @throws {DmaBufError} `EINVAL`
 */
function checkSyncFlags(call: string, flags: unknown): asserts flags is SyncFileFlags {
  if (flags !== 'read' && flags !== 'write' && flags !== 'rw') {
    throw new DmaBufError('EINVAL', call, `flags must be 'read', 'write' or 'rw', got ${describe(flags)}`);
  }
}

let nextId = 1;

// Set by DmaBuf's static block: whether a value is a buffer itself (see Brand).
let isBuf: (value: unknown) => boolean = () => false;

/** Throws `EINVAL` unless `name` is `undefined` or a string of at most {@link DMA_BUF_NAME_MAX} UTF-8 bytes. */
export function checkName(call: string, name: unknown): asserts name is string | undefined {
  if (name === undefined) return;
  if (typeof name !== 'string') throw new DmaBufError('EINVAL', call, `name must be a string, got ${describe(name)}`);
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > DMA_BUF_NAME_MAX) throw new DmaBufError('EINVAL', call, `name is ${bytes} bytes; the limit is ${DMA_BUF_NAME_MAX}`);
}

/**
 * A buffer shared between modules. Made by {@link exportDmaBuf} (or a heap's `allocate`);
 * whoever holds a reference puts it when done. Every call on a released buffer throws
 * `EINVAL`, `put` included, and so does every call on a look-alike (a Proxy or
 * `Object.create` of a buffer), before it does anything.
 */
export class DmaBuf<P = unknown> implements BufInfoSource {
  /** Size in bytes, as asked for at export. */
  readonly size: number;
  /** The exporter's name, shown in debug listings. */
  readonly exporter: string;
  /** How the exporter cuts the buffer into segments on every device: `exportDmaBuf`'s `layout`, frozen. */
  readonly layout: SegmentLayout;
  /** A number unique to this buffer in this realm, shown in debug listings. */
  readonly id: number;
  /**
   * The buffer's reservation (the kernel's `dmabuf->resv`): exporters enter it for every
   * operation they queue on the storage, so that operations take effect in call order. It is
   * cancelled at release. See `src/dma-resv.ts`.
   */
  readonly resv = new DmaResv();
  // The exporter's: handed to its ops only, so no importer reaches the storage but through map.
  readonly #priv: P;
  readonly #ops: DmaBufOps<P>;
  // Each attachment with its control, which only this buffer holds.
  readonly #attachments = new Map<DmaBufAttachment<P>, AttachmentControl>();
  readonly #cpu = new CpuAccessState();
  readonly #host: AttachmentHost<P>;
  #refs = 1;
  #name: string | undefined;
  // The outstanding vmap and how many vmap calls it answers.
  #vmap: Uint8Array | undefined;
  #vmaps = 0;

  static {
    isBuf = (value) => typeof value === 'object' && value !== null && #refs in value;
  }

  /**
   * Prefer {@link exportDmaBuf}, which is the same call.
   * @throws {DmaBufError} `EINVAL` as `exportDmaBuf`.
   */
  constructor(options: DmaBufExportOptions<P>) {
    const call = 'exportDmaBuf';
    const { priv, ops, size, name, exporter, layout } = checkOptions(call, options);
    if (priv === undefined || priv === null) throw new DmaBufError('EINVAL', call, `priv is required, got ${describe(priv)}`);
    if (typeof ops !== 'object' || ops === null) throw new DmaBufError('EINVAL', call, `ops must be an object, got ${describe(ops)}`);
    for (const op of REQUIRED_OPS) {
      if (typeof (ops as Record<string, unknown>)[op] !== 'function') throw new DmaBufError('EINVAL', call, `the required op ${op} is missing`);
    }
    checkInteger(call, 'size', size, 1);
    checkName(call, name);
    if (exporter !== undefined && typeof exporter !== 'string') throw new DmaBufError('EINVAL', call, `exporter must be a string, got ${describe(exporter)}`);
    this.layout = checkLayout(call, layout);
    this.size = size;
    this.#priv = priv as P;
    this.exporter = exporter ?? '<unnamed exporter>';
    this.#ops = ops as DmaBufOps<P>;
    this.#name = name;
    this.id = nextId++;
    this.#host = {
      map: (attachment, dir) => this.#ops.mapDmaBuf(this.#priv, attachment, dir),
      unmap: (attachment, sgt, dir, until) => this.#ops.unmapDmaBuf(this.#priv, attachment, sgt, dir, until),
      checkLive: (c) => { this.#checkLive(c); },
    };
    liveBuffers.add(this);
  }

  /** The buffer's name for debug listings, `undefined` when unset. Setting it checks the 32-byte limit (`EINVAL`). */
  get name(): string | undefined {
    checkDmaBuf('name', this, RECEIVER);
    return this.#name;
  }

  /** Sets the name for debug listings (`undefined` clears it). @throws {DmaBufError} `EINVAL` beyond 32 UTF-8 bytes. */
  set name(name: string | undefined) {
    checkDmaBuf('name', this, RECEIVER);
    this.#checkLive('name');
    checkName('name', name);
    this.#name = name;
  }

  /** References held; 0 once released. */
  get refCount(): number {
    checkDmaBuf('refCount', this, RECEIVER);
    return this.#refs;
  }

  /** Whether the last reference is gone. */
  get released(): boolean {
    checkDmaBuf('released', this, RECEIVER);
    return this.#refs === 0;
  }

  /**
   * Takes one more reference and returns the buffer: the kernel's `get_dma_buf`. The
   * caller owns the reference and puts it when done.
   * @throws {DmaBufError} `EINVAL` on a released buffer.
   */
  get(): this {
    checkDmaBuf('get', this, RECEIVER);
    this.#checkLive('get');
    this.#refs += 1;
    return this;
  }

  /**
   * Drops one reference: the kernel's `dma_buf_put`. When the last goes, the exporter's
   * `release` runs, exactly once. Attachments still listed then are detached without the
   * exporter's `detach` op (its `release` frees what they held), and page windows still
   * outstanding give their atomic kmap slots back. Operations still under way (a map, an
   * unmap, a `beginCpuAccess`) fail with `EINVAL`: the reservation is cancelled first.
   * @throws {DmaBufError} `EINVAL` on a released buffer; `EIO` if the exporter's `release`
   *   throws (the buffer is released all the same).
   */
  put(): void {
    checkDmaBuf('put', this, RECEIVER);
    this.#checkLive('put');
    this.#refs -= 1;
    if (this.#refs > 0) return;
    liveBuffers.delete(this);
    this.resv.cancel(new DmaBufError('EINVAL', 'put', `the last reference to buffer ${this.id} is gone`));
    for (let n = this.#cpu.clear(); n > 0; n--) returnAtomicKmapSlot();
    this.#vmap = undefined;
    this.#vmaps = 0;
    try {
      callExporter('put', 'release', () => { this.#ops.release(this.#priv, this); });
    } finally {
      for (const control of this.#attachments.values()) control.markDetached();
      this.#attachments.clear();
    }
  }

  /**
   * Attaches an importer's device: the kernel's `dma_buf_attach`. `options.usage` is the
   * `GPUBufferUsage` flags the importer needs on the buffers its maps return; the exporter
   * adds what its runtime needs. The importer owns the attachment and ends it with
   * {@link detach}.
   * @throws {DmaBufError} `EINVAL` for a device that is not an object, bad options (usage
   *   not a non-negative integer of known flags, `contiguous` not a boolean) or a released buffer; whatever the
   *   exporter's `attach` op throws when it refuses (for `GpuHeap`: `EINVAL` for something
   *   that is not a `GPUDevice` or usage it cannot give, `ENOMEM` when the buffer's layout
   *   cannot be kept on that device); then nothing is recorded.
   */
  attach(device: GPUDevice, options?: DmaBufAttachOptions): DmaBufAttachment<P> {
    checkDmaBuf('attach', this, RECEIVER);
    const call = 'attach';
    this.#checkLive(call);
    // Whether it is a GPUDevice is the exporter's to say: the contract never touches WebGPU.
    const candidate: unknown = device;
    if (typeof candidate !== 'object' || candidate === null) throw new DmaBufError('EINVAL', call, `device must be a GPUDevice, got ${describe(device)}`);
    const bag = checkOptions(call, options);
    const { usage = 0 } = bag;
    checkUsage(call, usage);
    const contiguous = booleanOption(call, bag, 'contiguous', false);
    const { attachment, control } = createAttachment(this, device, { usage, contiguous }, this.#host);
    callExporter(call, 'attach', () => { this.#ops.attach?.(this.#priv, this, attachment); });
    this.#attachments.set(attachment, control);
    return attachment;
  }

  /**
   * Ends an attachment: the kernel's `dma_buf_detach`. Calls the exporter's `detach` op
   * exactly once.
   * @throws {DmaBufError} `EINVAL` for an attachment of another buffer or one already
   *   detached; `EBUSY` while the attachment has a mapping outstanding or a map under way.
   */
  detach(attachment: DmaBufAttachment<P>): void {
    checkDmaBuf('detach', this, RECEIVER);
    this.#checkLive('detach');
    checkAttachment('detach', attachment);
    const control = this.#attachments.get(attachment);
    if (!control) {
      throw new DmaBufError('EINVAL', 'detach', 'the attachment is not one of this buffer, or it is already detached');
    }
    if (control.busy()) throw new DmaBufError('EBUSY', 'detach', 'the attachment still has a mapping outstanding or under way; unmap it first');
    this.#attachments.delete(attachment);
    control.markDetached();
    callExporter('detach', 'detach', () => { this.#ops.detach?.(this.#priv, this, attachment); });
  }

  /**
   * Prepares `[start, start + len)` for CPU access in `dir`: the kernel's
   * `dma_buf_begin_cpu_access`. Pair it with {@link endCpuAccess} with the same arguments.
   * @throws {DmaBufError} `EINVAL` for a range outside the buffer, an empty or fractional
   *   one, an unknown direction or a released buffer; what the exporter's
   *   `beginCpuAccess` throws (`ENOMEM`, `ENODEV`, …), in which case nothing is recorded.
   */
  async beginCpuAccess(start: number, len: number, dir: DmaDirection): Promise<void> {
    checkDmaBuf('beginCpuAccess', this, RECEIVER);
    const call = 'beginCpuAccess';
    this.#checkLive(call);
    checkRange(call, start, len, this.size);
    checkDirection(call, dir);
    await awaitExporter(call, 'beginCpuAccess', () => this.#ops.beginCpuAccess?.(this.#priv, this, start, len, dir));
    this.#checkLive(call);
    this.#cpu.begin({ start, len, direction: dir });
  }

  /**
   * Ends CPU access begun with the same range and direction: the kernel's
   * `dma_buf_end_cpu_access`. Synchronous; the exporter's flush is queued in order before
   * any later map or CPU access. Afterwards pages only that range covered are out of reach
   * (`ERANGE`).
   * @throws {DmaBufError} `EINVAL` when no active begin has this range and direction, or
   *   the buffer is released (nothing ends then); `EIO` when the exporter's `endCpuAccess`
   *   op, or its `vunmap` op for a vmap the end leaves uncovered, fails: the range has ended
   *   and the exporter's `endCpuAccess` has run all the same.
   */
  endCpuAccess(start: number, len: number, dir: DmaDirection): void {
    checkDmaBuf('endCpuAccess', this, RECEIVER);
    const call = 'endCpuAccess';
    this.#checkLive(call);
    checkRange(call, start, len, this.size);
    checkDirection(call, dir);
    if (!this.#cpu.end(start, len, dir)) {
      throw new DmaBufError('EINVAL', call, `no active beginCpuAccess(${start}, ${len}, '${dir}') to end`);
    }
    // A vmap lives only while CPU access covers the whole buffer, as a kmap window lives in its range.
    let vunmapFailure: DmaBufError | undefined;
    if (this.#vmap && !this.#cpu.coversRange(0, this.size)) {
      try {
        this.#endVmap(call);
      } catch (error) {
        // callExporter turns whatever the op throws into a DmaBufError.
        vunmapFailure = error as DmaBufError;
      }
    }
    // The range has ended: the exporter's flush runs whatever its vunmap did, and its own
    // failure, which concerns the bytes, is the one thrown when both fail.
    callExporter(call, 'endCpuAccess', () => { this.#ops.endCpuAccess?.(this.#priv, this, start, len, dir); });
    if (vunmapFailure !== undefined) throw vunmapFailure;
  }

  /**
   * Reads `length` elements of `type` (a typed array constructor such as `Float32Array`) from
   * byte `start` on (default 0, a multiple of the element size); by default every whole
   * element to the end of the buffer. It takes its place in call order when it is called,
   * as a map or a CPU access does: it sees every write called before it and none called
   * after. Resolves to a new array the caller owns.
   * @throws {DmaBufError} `EINVAL` for an unknown type, a start or length that does not fit
   *   the buffer or the element size, a released buffer, or an exporter without the `read`
   *   op (nothing is read then); what the exporter's `read` throws (`ENODEV`, the error of a
   *   fence it waited for).
   */
  async read<T extends DmaBufTypedArray>(type: DmaBufTypedArrayType<T>, start = 0, length?: number): Promise<T> {
    const call = 'read';
    checkDmaBuf(call, this, RECEIVER);
    this.#checkLive(call);
    checkTypedArrayType(call, type);
    const size = type.BYTES_PER_ELEMENT;
    checkInteger(call, 'start', start, 0);
    if (start % size !== 0) throw new DmaBufError('EINVAL', call, `start ${start} is not a multiple of ${type.name}'s ${size}-byte elements`);
    const count = length ?? Math.floor((this.size - start) / size);
    checkInteger(call, 'length', count, 1);
    checkRange(call, start, count * size, this.size);
    if (!this.#ops.read) throw new DmaBufError('EINVAL', call, `the exporter '${this.exporter}' has no read op; use beginCpuAccess and kmap`);
    const out = new type(count);
    await awaitExporter(call, 'read', () => this.#ops.read?.(this.#priv, this, start, new Uint8Array(out.buffer)));
    return out;
  }

  /**
   * Writes the bytes `data` (a typed array or a `DataView`) holds when the call is made, at
   * byte `start` (default 0). It takes its place in call order when it is called: every
   * operation called after it sees these bytes, none called before it does. The caller may
   * change `data` as soon as the call returns.
   * @throws {DmaBufError} `EINVAL` for data that is not an `ArrayBufferView`, an empty one,
   *   one that does not fit from `start`, a released buffer, or an exporter without the
   *   `write` op (nothing is written then); what the exporter's `write` throws.
   */
  async write(data: ArrayBufferView, start = 0): Promise<void> {
    const call = 'write';
    checkDmaBuf(call, this, RECEIVER);
    this.#checkLive(call);
    if (!ArrayBuffer.isView(data)) throw new DmaBufError('EINVAL', call, `data must be a typed array or a DataView, got ${describe(data)}`);
    checkRange(call, start, data.byteLength, this.size);
    if (!this.#ops.write) throw new DmaBufError('EINVAL', call, `the exporter '${this.exporter}' has no write op; use beginCpuAccess and kmap`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    await awaitExporter(call, 'write', () => this.#ops.write?.(this.#priv, this, start, bytes));
  }

  /**
   * A window on one page of an active CPU-access range: the kernel's `dma_buf_kmap`.
   * `PAGE_SIZE` bytes (fewer for the last page); writable when the range was begun
   * `'to-device'` or `'bidirectional'`. End it with {@link kunmap}.
   * @throws {DmaBufError} `EINVAL` for a page beyond the buffer (checked first) or a
   *   released buffer; `ERANGE` for a page no active range covers.
   */
  kmap(page: number): Uint8Array {
    checkDmaBuf('kmap', this, RECEIVER);
    this.#checkPage('kmap', page);
    const view = this.#window('kmap', page);
    this.#cpu.addWindow(page, view, false);
    return view;
  }

  /**
   * Ends a window that {@link kmap} returned for `page`: the kernel's `dma_buf_kunmap`.
   * @throws {DmaBufError} `EINVAL` unless `page` and `view` are an outstanding kmap's.
   */
  kunmap(page: number, view: Uint8Array): void {
    checkDmaBuf('kunmap', this, RECEIVER);
    this.#checkLive('kunmap');
    if (!this.#cpu.removeWindow(page, view, false)) {
      throw new DmaBufError('EINVAL', 'kunmap', `page ${describe(page)} with that view is not an outstanding kmap of this buffer`);
    }
    // The hot path of page-by-page access: no wrapper when the exporter has no kunmap op.
    if (this.#ops.kunmap) callExporter('kunmap', 'kunmap', () => { this.#ops.kunmap?.(this.#priv, this, page, view); });
  }

  /**
   * As {@link kmap}, for non-blocking fast paths: the kernel's `dma_buf_kmap_atomic`. At
   * most two atomic windows may be held at once in one realm (page or worker), across all
   * buffers. End it with {@link kunmapAtomic}.
   * @throws {DmaBufError} as `kmap`; `EBUSY` when the realm already holds two.
   */
  kmapAtomic(page: number): Uint8Array {
    checkDmaBuf('kmapAtomic', this, RECEIVER);
    this.#checkPage('kmapAtomic', page);
    takeAtomicKmapSlot('kmapAtomic', page);
    let view: Uint8Array;
    try {
      view = this.#window('kmapAtomic', page);
    } catch (error) {
      returnAtomicKmapSlot();
      throw error;
    }
    this.#cpu.addWindow(page, view, true);
    return view;
  }

  /**
   * Ends a window that {@link kmapAtomic} returned for `page`, giving its slot back: the
   * kernel's `dma_buf_kunmap_atomic`.
   * @throws {DmaBufError} `EINVAL` unless `page` and `view` are an outstanding atomic kmap's.
   */
  kunmapAtomic(page: number, view: Uint8Array): void {
    checkDmaBuf('kunmapAtomic', this, RECEIVER);
    this.#checkLive('kunmapAtomic');
    if (!this.#cpu.removeWindow(page, view, true)) {
      throw new DmaBufError('EINVAL', 'kunmapAtomic', `page ${describe(page)} with that view is not an outstanding kmapAtomic of this buffer`);
    }
    returnAtomicKmapSlot();
    if (this.#ops.kunmapAtomic) callExporter('kunmapAtomic', 'kunmapAtomic', () => { this.#ops.kunmapAtomic?.(this.#priv, this, page, view); });
  }

  /**
   * One fence for what an access of kind `flags` must wait for (`'read'`: the writers;
   * `'write'` or `'rw'`: the readers and the writers), merged from the reservation as it is
   * now: the kernel's `DMA_BUF_IOCTL_EXPORT_SYNC_FILE`. A snapshot: fences added later are
   * not in it. A signalled stub when there is nothing to wait for. The caller owns it.
   * @throws {DmaBufError} `EINVAL` for unknown flags or a released buffer.
   */
  exportSyncFile(flags: SyncFileFlags): DmaFence {
    checkDmaBuf('exportSyncFile', this, RECEIVER);
    const call = 'exportSyncFile';
    this.#checkLive(call);
    checkSyncFlags(call, flags);
    return mergeFences(...this.resv.getFences(flags === 'read' ? 'write' : 'read'));
  }

  /**
   * Adds the parts of `fence` to the reservation, as `'write'` fences when `flags` include
   * write, else as `'read'`: the kernel's `DMA_BUF_IOCTL_IMPORT_SYNC_FILE`. From then on
   * every map and CPU access waits for them as the kernel's implicit rules say (a reader for
   * the writes, a writer for everything), and fails with the error one signals with.
   * @throws {DmaBufError} `EINVAL` for a non-fence, unknown flags or a released buffer.
   */
  importSyncFile(fence: DmaFence, flags: SyncFileFlags): void {
    checkDmaBuf('importSyncFile', this, RECEIVER);
    const call = 'importSyncFile';
    this.#checkLive(call);
    checkFence(call, fence);
    checkSyncFlags(call, flags);
    for (const part of fence.unwrap()) this.resv.addFence(part, flags === 'read' ? 'read' : 'write');
  }

  /**
   * One contiguous `Uint8Array` over the whole buffer, while active CPU-access ranges cover
   * all of it: the kernel's `dma_buf_vmap` (Linux 3.5). Writable when a range that writes
   * covers it. Nested calls return the same view and count; pair each with {@link vunmap}.
   * The view is detached when CPU access stops covering the whole buffer (`endCpuAccess`),
   * as a kmap window is. Reading or writing a whole buffer through it is one copy.
   * @throws {DmaBufError} `ERANGE` when the active ranges do not cover the buffer (or the
   *   exporter holds the bytes in more than one piece); `EINVAL` for a released buffer or an
   *   exporter without a `vmap` op; `EIO` when the exporter returns something else than a
   *   view of `size` bytes.
   */
  vmap(): Uint8Array {
    checkDmaBuf('vmap', this, RECEIVER);
    const call = 'vmap';
    this.#checkLive(call);
    if (!this.#cpu.coversRange(0, this.size)) {
      throw new DmaBufError('ERANGE', call, `no active beginCpuAccess covers the whole buffer (${this.size} bytes)`);
    }
    if (this.#vmap) {
      this.#vmaps += 1;
      return this.#vmap;
    }
    const ops = this.#ops;
    if (!ops.vmap) throw new DmaBufError('EINVAL', call, `the exporter '${this.exporter}' has no vmap op`);
    const view = callExporter(call, 'vmap', () => ops.vmap?.(this.#priv, this));
    if (!(view instanceof Uint8Array) || view.length !== this.size) {
      throw new DmaBufError('EIO', call, `the exporter's vmap op returned ${describe(view)}, not a Uint8Array of ${this.size} bytes`);
    }
    this.#vmap = view;
    this.#vmaps = 1;
    return view;
  }

  /**
   * Ends one {@link vmap}: the kernel's `dma_buf_vunmap`. The exporter's `vunmap` runs when
   * the last one is ended.
   * @throws {DmaBufError} `EINVAL` unless `view` is the outstanding vmap of this buffer.
   */
  vunmap(view: Uint8Array): void {
    checkDmaBuf('vunmap', this, RECEIVER);
    const call = 'vunmap';
    this.#checkLive(call);
    if (!this.#vmap || view !== this.#vmap) throw new DmaBufError('EINVAL', call, `${describe(view)} is not an outstanding vmap of this buffer`);
    this.#vmaps -= 1;
    if (this.#vmaps === 0) this.#endVmap(call);
  }

  #endVmap(call: string): void {
    const view = this.#vmap;
    this.#vmap = undefined;
    this.#vmaps = 0;
    if (view && this.#ops.vunmap) callExporter(call, 'vunmap', () => { this.#ops.vunmap?.(this.#priv, this, view); });
  }

  /** This buffer as plain data for the debug listing. */
  bufInfo(): BufInfoEntry {
    checkDmaBuf('bufInfo', this, RECEIVER);
    return {
      id: this.id,
      size: this.size,
      exporter: this.exporter,
      name: this.#name ?? '<none>',
      refCount: this.#refs,
      attachments: [...this.#attachments.values()].map((control) => control.bufInfo()),
      cpuAccess: this.#cpu.ranges(),
      ...this.#cpu.windowCounts(),
      fences: this.resv.pendingFences(),
    };
  }

  #checkLive(call: string): void {
    if (this.#refs === 0) throw new DmaBufError('EINVAL', call, `the buffer (id ${this.id}) is already released`);
  }

  #checkPage(call: string, page: number): void {
    this.#checkLive(call);
    checkInteger(call, 'page', page, 0);
    const pages = pageCount(this.size);
    if (page >= pages) throw new DmaBufError('EINVAL', call, `page ${page} is beyond the buffer's ${pages} pages`);
    if (!this.#cpu.covers(page)) throw new DmaBufError('ERANGE', call, `page ${page} is not covered by an active beginCpuAccess range`);
  }

  #window(call: 'kmap' | 'kmapAtomic', page: number): Uint8Array {
    let view: Uint8Array;
    try {
      view = call === 'kmap' ? this.#ops.kmap(this.#priv, this, page) : this.#ops.kmapAtomic(this.#priv, this, page);
    } catch (error) {
      throw exporterError(call, call, error);
    }
    if (!(view instanceof Uint8Array)) throw new DmaBufError('EIO', call, `the exporter's ${call} op returned ${describe(view)} for page ${page}, not a Uint8Array`);
    return view;
  }
}

/**
 * Makes a dma-buf from an exporter's storage: the kernel's `dma_buf_export`. The returned
 * buffer holds one reference, owned by the caller, who puts it when done.
 * @throws {DmaBufError} `EINVAL` when `priv` is missing, a required op (`mapDmaBuf`,
 *   `unmapDmaBuf`, `release`, `kmap`, `kmapAtomic`) is missing, `size` is not a positive
 *   safe integer, or `name` is not a string of at most 32 bytes.
 */
export function exportDmaBuf<P>(options: DmaBufExportOptions<P>): DmaBuf<P> {
  return new DmaBuf(options);
}

const BUF: Brand<DmaBuf> = { noun: 'a DmaBuf', variable: 'buf', prototype: DmaBuf.prototype, has: (value): value is DmaBuf => isBuf(value) };

/**
 * Throws `EINVAL` naming `call` unless `value` is a {@link DmaBuf} itself, not a look-alike (a
 * Proxy or `Object.create` of one, whose methods would fail halfway); `what` names it in the
 * message (`RECEIVER` for `this`; without it, "expected a DmaBuf").
 * @throws {DmaBufError} `EINVAL`
 */
export function checkDmaBuf(call: string, value: unknown, what?: string): asserts value is DmaBuf {
  checkBrand(call, value, BUF, what);
}
