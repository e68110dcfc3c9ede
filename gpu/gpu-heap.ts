/**
 * The WebGPU exporter: a heap of real `GPUBuffer`s on one device, handing out dma-bufs
 * (like a Linux dma-heap). Same-device importers get the storage itself (zero-copy);
 * importers on other devices get a mirror that the heap keeps in step, moving only the
 * bytes a direction asks for through pooled staging buffers.
 */
import type { DmaBufAttachment } from '../src/attachment.js';
import { checkInteger, checkOptions, describe } from '../src/checks.js';
import { movesFromDevice, movesToDevice, type DmaDirection } from '../src/direction.js';
import { checkName, exportDmaBuf, type DmaBuf } from '../src/dma-buf.js';
import { DmaBufError } from '../src/error.js';
import type { DmaBufOps } from '../src/ops.js';
import type { SgTable } from '../src/sg-table.js';
import { beginWindow, endWindow, releaseSpans, windowView, type CpuWindow } from './cpu-window.js';
import { checkDevice, deviceFailure, watchDevice } from './device-loss.js';
import { alignUp, createSegments, destroySegments, segmentBytes, type Segment } from './segments.js';
import { IdleMirrors } from './idle-mirrors.js';
import { StagingPool } from './staging-pool.js';
import { transfer, type Copy } from './transfer.js';

/** Options of a {@link GpuHeap}. */
export interface GpuHeapOptions {
  /** Storage bytes the heap may hold at once; beyond it `allocate` throws `ENOMEM`. Default 1 GiB. */
  readonly budgetBytes?: number;
  /** Idle staging bytes kept for reuse, and apart from them idle mirror bytes; beyond it they are destroyed. Default 256 MiB. */
  readonly stagingCapBytes?: number;
  /** Largest piece a cross-device transfer stages at once. Default 8 MiB. */
  readonly chunkBytes?: number;
  /** The exporter's name in debug listings. Default `'gpu-heap'`. */
  readonly name?: string;
  /**
   * Largest storage segment, rounded down to a multiple of 256. Default and upper bound:
   * what each device can bind whole (`maxStorageBufferBindingSize`, `maxBufferSize`).
   */
  readonly maxSegmentBytes?: number;
}

/** Options of {@link GpuHeap.allocate}. */
export interface GpuAllocateOptions {
  /** The buffer's name in debug listings, at most 32 UTF-8 bytes. */
  readonly name?: string;
  /** `GPUBufferUsage` flags importers need beyond `STORAGE | COPY_SRC | COPY_DST` (for example `VERTEX`), on the storage and on mirrors. */
  readonly usage?: GPUBufferUsageFlags;
}

/** Counts of a heap, for leak checks and for seeing what moved. */
export interface GpuHeapStats {
  /** This heap's dma-bufs not yet released. */
  readonly liveBuffers: number;
  /** Bytes of their storage buffers on the heap's device. */
  readonly storageBytes: number;
  /** Bytes of their mirrors on other devices. */
  readonly mirrorBytes: number;
  /**
   * Bytes of mirrors kept after their attachment detached, for the next attachment of a
   * buffer of the same size on that device (up to four per size and device, within
   * `stagingCapBytes`).
   */
  readonly idleMirrorBytes: number;
  /** Mirror `GPUBuffer`s created since the heap was made; a reused idle mirror is not counted again. */
  readonly mirrorBuffersCreated: number;
  /** Bytes of staging buffers alive now, idle in the pool or in use. */
  readonly stagingBytes: number;
  /** Bytes moved by copies since the heap was made (a zero-copy map moves none). */
  readonly bytesCopied: number;
  /** Staging `GPUBuffer`s created since the heap was made. */
  readonly stagingBuffersCreated: number;
}

/** The exporter's private data of one dma-buf; reached by importers only through the contract. */
export interface GpuStorage {
  readonly heap: GpuHeap;
  readonly segments: readonly Segment[];
}

/** A dma-buf whose storage a {@link GpuHeap} holds. */
export type GpuDmaBuf = DmaBuf<GpuStorage>;

interface Storage extends GpuStorage {
  readonly usage: GPUBufferUsageFlags;
  /** What WebGPU reported about the creation of the storage (`out-of-memory` may come late). */
  readonly allocation: Promise<GPUError | null>;
  /** What `allocation` resolved to, once it has. */
  allocated: GPUError | null | undefined;
  readonly mirrors: Map<DmaBufAttachment<GpuStorage>, readonly Segment[]>;
  readonly windows: CpuWindow[];
}

// GPUBufferUsage's values are fixed by the WebGPU spec; spelled out so that importing the
// package where WebGPU is absent (Node, a server render) does not throw.
const BASE_USAGE = 0x0080 | 0x0004 | 0x0008; // STORAGE | COPY_SRC | COPY_DST
const MAPPABLE = 0x0001 | 0x0002; // MAP_READ | MAP_WRITE
const ALL_USAGE = 0x3ff;
const MiB = 1024 * 1024;

function numberOption(options: Readonly<Record<string, unknown>>, key: string, fallback: number, min: number): number {
  const value = options[key] === undefined ? fallback : options[key];
  checkInteger('new GpuHeap', key, value, min);
  return value;
}

/**
 * A heap of dma-bufs on one `GPUDevice`: the stock exporter. Storage is zero-filled
 * `GPUBuffer`s with `STORAGE | COPY_SRC | COPY_DST` usage, cut into segments that can each
 * be bound whole. The heap does not own the device; the caller destroys it after the
 * heap's buffers are released.
 */
export class GpuHeap {
  readonly device: GPUDevice;
  readonly budgetBytes: number;
  readonly chunkBytes: number;
  readonly name: string;
  readonly maxSegmentBytes: number;
  readonly #pool: StagingPool;
  readonly #idleMirrors: IdleMirrors;
  readonly #ops: DmaBufOps<GpuStorage>;
  readonly #watched = new WeakSet<GPUDevice>();
  #liveBuffers = 0;
  #storageBytes = 0;
  #mirrorBytes = 0;
  #mirrorBuffersCreated = 0;
  #bytesCopied = 0;

  /**
   * @throws {DmaBufError} `EINVAL` when `device` is not a `GPUDevice` or an option is not a
   *   positive integer (or the name not a string).
   */
  constructor(device: GPUDevice, options?: GpuHeapOptions) {
    const candidate: unknown = device;
    if (!(candidate instanceof GPUDevice)) throw new DmaBufError('EINVAL', `new GpuHeap: device must be a GPUDevice, got ${describe(candidate)}`);
    const bag = checkOptions('new GpuHeap', options);
    this.device = device;
    this.budgetBytes = numberOption(bag, 'budgetBytes', 1024 * MiB, 1);
    this.chunkBytes = alignUp(numberOption(bag, 'chunkBytes', 8 * MiB, 4), 4);
    this.maxSegmentBytes = numberOption(bag, 'maxSegmentBytes', Number.MAX_SAFE_INTEGER, 256);
    const stagingCapBytes = numberOption(bag, 'stagingCapBytes', 256 * MiB, 0);
    this.#pool = new StagingPool(stagingCapBytes);
    this.#idleMirrors = new IdleMirrors(stagingCapBytes);
    const name = bag.name ?? 'gpu-heap';
    if (typeof name !== 'string') throw new DmaBufError('EINVAL', `new GpuHeap: name must be a string, got ${describe(name)}`);
    this.name = name;
    this.#ops = this.#makeOps();
    this.#watch(device);
  }

  /** Follows a device's loss: its operations fail with `ENODEV` and its idle staging and mirrors are freed. */
  #watch(device: GPUDevice): void {
    if (this.#watched.has(device)) return;
    this.#watched.add(device);
    watchDevice(device, () => {
      this.#pool.purge(device);
      this.#idleMirrors.purge(device);
    });
  }

  /**
   * A new zero-filled dma-buf of `size` bytes, like allocating from a dma-heap. Synchronous;
   * the caller owns the one reference it holds and puts it when done. An out-of-memory that
   * WebGPU reports only later makes the first map or CPU access fail with `ENOMEM`.
   * @throws {DmaBufError} `EINVAL` for a size that is not a positive safe integer, unknown or
   *   mappable usage flags, or a bad name; `ENOMEM` beyond the heap's budget (nothing is
   *   created); `ENODEV` when the heap's device is lost.
   */
  allocate(size: number, options?: GpuAllocateOptions): GpuDmaBuf {
    const call = 'allocate';
    checkInteger(call, 'size', size, 1);
    const { name, usage = 0 } = checkOptions(call, options);
    checkName(call, name);
    checkInteger(call, 'usage', usage, 0);
    if ((usage & ~ALL_USAGE) !== 0 || (usage & MAPPABLE) !== 0) {
      throw new DmaBufError('EINVAL', `${call}: usage ${describe(usage)} has mappable or unknown GPUBufferUsage flags; MAP_READ and MAP_WRITE cannot go with STORAGE`);
    }
    checkDevice(call, this.device, 'heap');
    const bytes = alignUp(size, 4);
    if (this.#storageBytes + bytes > this.budgetBytes) {
      throw new DmaBufError('ENOMEM', `${call}: ${size} bytes would take the heap past its budget (${this.#storageBytes} of ${this.budgetBytes} bytes in use)`);
    }
    const fullUsage = BASE_USAGE | usage;
    // WebGPU reports a failed creation later, through error scopes: keep the answer for the first map.
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let segments: Segment[] | undefined;
    let thrown: unknown;
    try {
      segments = createSegments(this.device, size, fullUsage, `dmabuf ${name ?? ''}`.trim(), this.maxSegmentBytes);
    } catch (error) {
      thrown = error;
    }
    const invalid = this.device.popErrorScope();
    const outOfMemory = this.device.popErrorScope();
    const allocation = Promise.all([outOfMemory, invalid]).then(([oom, other]) => oom ?? other, () => null);
    if (!segments) throw new DmaBufError('ENOMEM', `${call}: creating ${size} bytes of storage failed: ${String(thrown)}`, { cause: thrown });
    const storage: Storage = { heap: this, segments, usage: fullUsage, allocation, allocated: undefined, mirrors: new Map(), windows: [] };
    void allocation.then((error) => (storage.allocated = error));
    const buf = exportDmaBuf<GpuStorage>({ priv: storage, ops: this.#ops, size, ...(name === undefined ? {} : { name }), exporter: this.name });
    this.#liveBuffers += 1;
    this.#storageBytes += segmentBytes(segments);
    return buf;
  }

  /** The heap's counts now. */
  stats(): GpuHeapStats {
    return {
      liveBuffers: this.#liveBuffers,
      storageBytes: this.#storageBytes,
      mirrorBytes: this.#mirrorBytes,
      idleMirrorBytes: this.#idleMirrors.bytes,
      mirrorBuffersCreated: this.#mirrorBuffersCreated,
      stagingBytes: this.#pool.liveBytes,
      bytesCopied: this.#bytesCopied,
      stagingBuffersCreated: this.#pool.created,
    };
  }

  #makeOps(): DmaBufOps<GpuStorage> {
    const storageOf = (buf: DmaBuf<GpuStorage>) => buf.priv as Storage;
    return {
      mapDmaBuf: (attachment, dir) => this.#map(storageOf(attachment.dmabuf), attachment, dir),
      unmapDmaBuf: (attachment, _sgt, dir) => this.#unmap(storageOf(attachment.dmabuf), attachment, dir),
      attach: (_buf, attachment) => { this.#watch(attachment.device); },
      detach: (buf, attachment) => { this.#dropMirror(storageOf(buf), attachment); },
      release: (buf) => { this.#release(storageOf(buf)); },
      beginCpuAccess: (buf, start, len, dir) => this.#beginCpuAccess(buf, start, len, dir),
      endCpuAccess: (buf, start, len, dir) => { this.#endCpuAccess(buf, start, len, dir); },
      kmap: (buf, page) => this.#window(buf, page),
      kmapAtomic: (buf, page) => this.#window(buf, page),
    };
  }

  async #ready(call: string, storage: Storage): Promise<void> {
    checkDevice(call, this.device, 'heap');
    // Once WebGPU has answered, the answer is kept: no await on the hot path.
    const error = storage.allocated === undefined ? await storage.allocation : storage.allocated;
    if (error) {
      const code = error instanceof GPUOutOfMemoryError ? 'ENOMEM' : 'EIO';
      throw new DmaBufError(code, `${call}: WebGPU could not create the buffer's storage: ${error.message}`);
    }
  }

  async #map(storage: Storage, attachment: DmaBufAttachment<GpuStorage>, dir: DmaDirection): Promise<SgTable> {
    await this.#ready('map', storage);
    const { device } = attachment;
    if (device === this.device) return tableOf(storage.segments);
    checkDevice('map', device, 'importer');
    let mirror = storage.mirrors.get(attachment);
    if (!mirror) {
      mirror = this.#newMirror(storage, attachment, dir);
      storage.mirrors.set(attachment, mirror);
      this.#mirrorBytes += segmentBytes(mirror);
    }
    if (movesToDevice(dir)) {
      await this.#transfer('map', { device: this.device, segments: storage.segments }, { device, segments: mirror }, attachment.dmabuf.size);
    }
    return tableOf(mirror);
  }

  /**
   * A mirror for `attachment`: an idle one of the same shape when there is one, else new.
   * An idle mirror that held another buffer's bytes is cleared unless the map overwrites it
   * whole, so no importer ever sees bytes of a buffer it was not given.
   */
  #newMirror(storage: Storage, attachment: DmaBufAttachment<GpuStorage>, dir: DmaDirection): readonly Segment[] {
    const { device, dmabuf } = attachment;
    const idle = this.#idleMirrors.take(device, dmabuf.size, storage.usage, dmabuf);
    if (!idle) {
      this.#mirrorBuffersCreated += 1;
      return createSegments(device, dmabuf.size, storage.usage, `dmabuf mirror of ${dmabuf.name ?? dmabuf.id}`, this.maxSegmentBytes);
    }
    if (idle.dirty && !movesToDevice(dir)) {
      const encoder = device.createCommandEncoder({ label: 'dmabuf mirror clear' });
      for (const segment of idle.segments) encoder.clearBuffer(segment.buffer);
      device.queue.submit([encoder.finish()]);
    }
    return idle.segments;
  }

  async #unmap(storage: Storage, attachment: DmaBufAttachment<GpuStorage>, dir: DmaDirection): Promise<void> {
    const mirror = storage.mirrors.get(attachment);
    if (attachment.device === this.device || !mirror || !movesFromDevice(dir)) return;
    checkDevice('unmap', this.device, 'heap');
    checkDevice('unmap', attachment.device, 'importer');
    await this.#transfer('unmap', { device: attachment.device, segments: mirror }, { device: this.device, segments: storage.segments }, attachment.dmabuf.size);
  }

  async #transfer(call: string, from: Copy, to: Copy, size: number): Promise<void> {
    try {
      await transfer(from, to, 0, alignUp(size, 4), this.#pool, this.chunkBytes);
    } catch (error) {
      throw deviceFailure(call, error);
    }
    this.#bytesCopied += size;
  }

  #dropMirror(storage: Storage, attachment: DmaBufAttachment<GpuStorage>): void {
    const mirror = storage.mirrors.get(attachment);
    if (!mirror) return;
    storage.mirrors.delete(attachment);
    this.#mirrorBytes -= segmentBytes(mirror);
    this.#idleMirrors.keep(attachment.device, attachment.dmabuf.size, storage.usage, attachment.dmabuf, mirror);
  }

  #release(storage: Storage): void {
    for (const attachment of [...storage.mirrors.keys()]) this.#dropMirror(storage, attachment);
    for (const window of storage.windows.splice(0)) releaseSpans(this.#pool, window);
    this.#storageBytes -= segmentBytes(storage.segments);
    this.#liveBuffers -= 1;
    destroySegments(storage.segments);
  }

  async #beginCpuAccess(buf: DmaBuf<GpuStorage>, start: number, len: number, dir: DmaDirection): Promise<void> {
    const storage = buf.priv as Storage;
    await this.#ready('beginCpuAccess', storage);
    let result;
    try {
      result = await beginWindow(this.#windowContext(buf), start, len, dir);
    } catch (error) {
      throw deviceFailure('beginCpuAccess', error);
    }
    if (buf.released) {
      // Released while staging: the window has no buffer to belong to.
      releaseSpans(this.#pool, result.window);
      return;
    }
    storage.windows.push(result.window);
    this.#bytesCopied += result.copied;
  }

  #endCpuAccess(buf: DmaBuf<GpuStorage>, start: number, len: number, dir: DmaDirection): void {
    const { windows } = buf.priv as Storage;
    const index = windows.findLastIndex((w) => w.start === start && w.len === len && w.dir === dir);
    const [window] = index >= 0 ? windows.splice(index, 1) : [];
    if (window) this.#bytesCopied += endWindow(this.#windowContext(buf), window);
  }

  #window(buf: DmaBuf<GpuStorage>, page: number): Uint8Array {
    const { windows } = buf.priv as Storage;
    // The newest window holding the page wins; plain loops, as this runs once per page.
    for (let i = windows.length - 1; i >= 0; i--) {
      const window = windows[i];
      const view = window && windowView(window, page, buf.size);
      if (view) return view;
    }
    throw new DmaBufError('ERANGE', `kmap: page ${page} is not staged by an active beginCpuAccess`);
  }

  #windowContext(buf: DmaBuf<GpuStorage>) {
    return { device: this.device, segments: (buf.priv as Storage).segments, size: buf.size, pool: this.#pool, owner: buf };
  }
}

/** A fresh table over segments: each map returns its own table object. */
function tableOf(segments: readonly Segment[]): SgTable {
  return { segments: segments.map(({ buffer, length }) => ({ buffer, offset: 0, length })) };
}
