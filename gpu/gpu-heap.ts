/**
 * The WebGPU exporter: a heap of real `GPUBuffer`s on one device, handing out dma-bufs
 * (like a Linux dma-heap). Same-device importers get the storage itself (zero-copy);
 * importers on other devices get a mirror that the heap keeps in step (`mirror.ts`), moving
 * only the bytes a direction asks for through pooled staging buffers; CPU access stages
 * pages shared by every range over them (`cpu-pages.ts`). Every operation that copies out
 * of the storage or writes into it takes its turn in the buffer's reservation
 * (`src/dma-resv.ts`), so operations take effect in call order.
 */
import type { DmaBufAttachment } from '../src/attachment.js';
import { checkInteger, checkOptions, describe } from '../src/checks.js';
import { movesFromDevice, movesToDevice, type DmaDirection } from '../src/direction.js';
import { checkName, exportDmaBuf, type DmaBuf } from '../src/dma-buf.js';
import { DmaBufError } from '../src/error.js';
import type { DmaBufOps } from '../src/ops.js';
import type { SgTable } from '../src/sg-table.js';
import { CpuPages } from './cpu-pages.js';
import { checkDevice, deviceFailure, onDeviceLost, queueDone } from './device-loss.js';
import { Mirrors, type Mirror, type MirrorSource } from './mirror.js';
import { alignUp, createSegments, destroySegments, segmentBytes, type Segment } from './segments.js';
import { StagingPool } from './staging-pool.js';
import { transfer, type Copy, type TransferTurns } from './transfer.js';

/** Options of a {@link GpuHeap}. */
export interface GpuHeapOptions {
  /** Storage bytes the heap may hold at once; beyond it `allocate` throws `ENOMEM`. Default 1 GiB. */
  readonly budgetBytes?: number;
  /** Idle staging bytes kept for reuse; beyond it they are destroyed. Default 256 MiB. */
  readonly stagingCapBytes?: number;
  /** Idle mirror bytes kept for the next attachment of the same shape; beyond it they are destroyed. Default 256 MiB. */
  readonly idleMirrorCapBytes?: number;
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
   * `idleMirrorCapBytes`).
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
  readonly mirrors: Map<DmaBufAttachment<GpuStorage>, Mirror>;
  /** The buffer's CPU-access pages, made at its first `beginCpuAccess`. */
  cpu: CpuPages | undefined;
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
 * be bound whole. The heap does not own the device; the caller destroys the heap with
 * {@link destroy} once its buffers are released, and the device after that.
 */
export class GpuHeap {
  readonly device: GPUDevice;
  readonly budgetBytes: number;
  readonly chunkBytes: number;
  readonly name: string;
  readonly maxSegmentBytes: number;
  readonly #pool: StagingPool;
  readonly #mirrors: Mirrors;
  readonly #ops: DmaBufOps<GpuStorage>;
  // What stops following each device's loss; emptied by destroy() so the heap can be collected.
  readonly #followed = new WeakSet<GPUDevice>();
  readonly #unfollow: (() => void)[] = [];
  #destroyed = false;
  #liveBuffers = 0;
  #storageBytes = 0;
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
    this.#pool = new StagingPool(numberOption(bag, 'stagingCapBytes', 256 * MiB, 0));
    this.#mirrors = new Mirrors(numberOption(bag, 'idleMirrorCapBytes', 256 * MiB, 0), this.maxSegmentBytes);
    const name = bag.name ?? 'gpu-heap';
    if (typeof name !== 'string') throw new DmaBufError('EINVAL', `new GpuHeap: name must be a string, got ${describe(name)}`);
    this.name = name;
    this.#ops = this.#makeOps();
    this.#follow(device);
  }

  /** Follows a device's loss: its operations fail with `ENODEV` and its idle staging and mirrors are freed. */
  #follow(device: GPUDevice): void {
    if (this.#destroyed || this.#followed.has(device)) return;
    this.#followed.add(device);
    this.#unfollow.push(
      onDeviceLost(device, () => {
        this.#pool.purge(device);
        this.#mirrors.purge(device);
      }),
    );
  }

  /**
   * A new zero-filled dma-buf of `size` bytes, like allocating from a dma-heap. Synchronous;
   * the caller owns the one reference it holds and puts it when done. An out-of-memory that
   * WebGPU reports only later makes the first map or CPU access fail with `ENOMEM`.
   * @throws {DmaBufError} `EINVAL` for a size that is not a positive safe integer, unknown or
   *   mappable usage flags, a bad name, or a destroyed heap; `ENOMEM` beyond the heap's
   *   budget (nothing is created); `ENODEV` when the heap's device is lost.
   */
  allocate(size: number, options?: GpuAllocateOptions): GpuDmaBuf {
    const call = 'allocate';
    if (this.#destroyed) throw new DmaBufError('EINVAL', `${call}: the heap '${this.name}' is destroyed`);
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
    const storage: Storage = { heap: this, segments, usage: fullUsage, allocation, allocated: undefined, mirrors: new Map(), cpu: undefined };
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
      mirrorBytes: this.#mirrors.bytes,
      idleMirrorBytes: this.#mirrors.idleBytes,
      mirrorBuffersCreated: this.#mirrors.created,
      stagingBytes: this.#pool.liveBytes,
      bytesCopied: this.#bytesCopied,
      stagingBuffersCreated: this.#pool.created,
    };
  }

  /** Whether {@link destroy} has been called. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * Frees the heap's idle staging and idle mirrors and stops following its devices' loss, so
   * that nothing keeps the heap alive: call it when its module stops, after putting every
   * buffer. Staging still in use by an operation that is failing (its buffer released) is
   * destroyed when that operation gives it back. Calling it again does nothing; `allocate`
   * afterwards throws `EINVAL`. The device is the caller's: it is not destroyed.
   * @throws {DmaBufError} `EBUSY` while the heap has live buffers (nothing is freed then).
   */
  destroy(): void {
    if (this.#destroyed) return;
    if (this.#liveBuffers > 0) {
      throw new DmaBufError('EBUSY', `destroy: the heap '${this.name}' still has ${this.#liveBuffers} live buffer(s); put them first`);
    }
    this.#destroyed = true;
    this.#pool.close();
    this.#mirrors.close();
    for (const unfollow of this.#unfollow.splice(0)) unfollow();
  }

  #makeOps(): DmaBufOps<GpuStorage> {
    const storageOf = (buf: DmaBuf<GpuStorage>) => buf.priv as Storage;
    return {
      mapDmaBuf: (attachment, dir) => this.#map(storageOf(attachment.dmabuf), attachment, dir),
      unmapDmaBuf: (attachment, _sgt, dir) => this.#unmap(storageOf(attachment.dmabuf), attachment, dir),
      attach: (_buf, attachment) => { this.#follow(attachment.device); },
      detach: (buf, attachment) => { this.#retireMirror(storageOf(buf), attachment); },
      release: (buf) => { this.#release(storageOf(buf)); },
      beginCpuAccess: (buf, start, len, dir) => this.#beginCpuAccess(buf, start, len, dir),
      endCpuAccess: (buf, start, len, dir) => { this.#bytesCopied += storageOf(buf).cpu?.end(start, len, dir) ?? 0; },
      kmap: (buf, page) => this.#window(storageOf(buf), page),
      kmapAtomic: (buf, page) => this.#window(storageOf(buf), page),
      vmap: (buf) => {
        const pages = storageOf(buf).cpu;
        if (!pages) throw new DmaBufError('ERANGE', 'vmap: the buffer has no CPU access under way');
        return pages.wholeView();
      },
    };
  }

  /** `undefined` once WebGPU has said the storage was created (the hot path: no await); else waits for its answer. @throws ENOMEM/EIO when it was not. */
  #allocated(call: string, storage: Storage): Promise<void> | undefined {
    if (storage.allocated === null) return undefined;
    return storage.allocation.then((error) => {
      if (!error) return;
      const code = error instanceof GPUOutOfMemoryError ? 'ENOMEM' : 'EIO';
      throw new DmaBufError(code, `${call}: WebGPU could not create the buffer's storage: ${error.message}`);
    });
  }

  /** Throws unless work may still be queued for `buf`: `EINVAL` once released, `ENODEV` once the heap's (or the importer's) device is lost. */
  #guard(call: string, buf: GpuDmaBuf, importer?: GPUDevice): void {
    buf.resv.check(call);
    checkDevice(call, this.device, 'heap');
    if (importer) checkDevice(call, importer, 'importer');
  }

  async #map(storage: Storage, attachment: DmaBufAttachment<GpuStorage>, dir: DmaDirection): Promise<SgTable> {
    const buf = attachment.dmabuf;
    const { device } = attachment;
    if (device === this.device) {
      // Zero-copy: the importer's own GPU work touches the storage. It goes after the writes
      // called before it (and, when it writes, after the reads called before it too).
      const wait = buf.resv.waitFor(movesFromDevice(dir) ? 'write' : 'read');
      if (wait) await wait;
      const allocated = this.#allocated('map', storage);
      if (allocated) await allocated;
      this.#guard('map', buf);
      return tableOf(storage.segments);
    }
    this.#guard('map', buf, device);
    const mirror = this.#mirrors.take(storage.mirrors, attachment, this.#mirrorSource(buf, storage), dir);
    const turn = movesToDevice(dir) ? buf.resv.enter('read') : undefined;
    mirror.transfers += 1;
    try {
      // With nothing ahead of it, the copy out of the storage is submitted within this call.
      if (turn?.ready) await turn.ready;
      const allocated = this.#allocated('map', storage);
      if (allocated) await allocated;
      if (turn) {
        await this.#transfer('map', { device: this.device, segments: storage.segments }, mirror, buf.size, {
          guard: () => { this.#guard('map', buf, device); },
          sourceDone: () => { turn.done(queueDone(this.device)); },
        });
      }
      this.#guard('map', buf, device);
      mirror.tables += 1;
      return tableOf(mirror.segments);
    } finally {
      turn?.done();
      mirror.transfers -= 1;
    }
  }

  async #unmap(storage: Storage, attachment: DmaBufAttachment<GpuStorage>, dir: DmaDirection): Promise<void> {
    const buf = attachment.dmabuf;
    const mirror = storage.mirrors.get(attachment);
    if (attachment.device === this.device || !mirror) return;
    mirror.tables -= 1;
    if (!movesFromDevice(dir)) return;
    const guard = () => { this.#guard('unmap', buf, attachment.device); };
    guard();
    // The copy out of the mirror is submitted now, behind the importer's own work; the write
    // into the storage waits for its turn.
    const turn = buf.resv.enter('write');
    mirror.transfers += 1;
    try {
      // The guard runs before every write into the storage: a device lost on the way is ENODEV.
      await this.#transfer('unmap', mirror, { device: this.device, segments: storage.segments }, buf.size, { guard, beforeWrite: () => turn.ready });
      turn.done(queueDone(this.device));
    } finally {
      turn.done();
      mirror.transfers -= 1;
    }
  }

  async #transfer(call: string, from: Copy, to: Copy, size: number, turns: TransferTurns): Promise<void> {
    try {
      await transfer(from, to, 0, alignUp(size, 4), this.#pool, this.chunkBytes, turns);
    } catch (error) {
      throw deviceFailure(call, error);
    }
    this.#bytesCopied += size;
  }

  #mirrorSource(buf: GpuDmaBuf, storage: Storage): MirrorSource {
    return { owner: buf, size: buf.size, usage: storage.usage, name: buf.name ?? String(buf.id) };
  }

  #retireMirror(storage: Storage, attachment: DmaBufAttachment<GpuStorage>): void {
    const mirror = storage.mirrors.get(attachment);
    if (!mirror) return;
    storage.mirrors.delete(attachment);
    this.#mirrors.retire(mirror, this.#mirrorSource(attachment.dmabuf, storage));
  }

  #release(storage: Storage): void {
    // The reservation is already cancelled: nothing under way submits again.
    for (const attachment of [...storage.mirrors.keys()]) this.#retireMirror(storage, attachment);
    storage.cpu?.release();
    this.#storageBytes -= segmentBytes(storage.segments);
    this.#liveBuffers -= 1;
    destroySegments(storage.segments);
  }

  async #beginCpuAccess(buf: GpuDmaBuf, start: number, len: number, dir: DmaDirection): Promise<void> {
    const storage = buf.priv as Storage;
    storage.cpu ??= new CpuPages({
      device: this.device,
      segments: storage.segments,
      size: buf.size,
      pool: this.#pool,
      buf,
      guard: (call) => { this.#guard(call, buf); },
      allocated: (call) => this.#allocated(call, storage),
    });
    try {
      this.#bytesCopied += await storage.cpu.begin(start, len, dir);
    } catch (error) {
      throw deviceFailure('beginCpuAccess', error);
    }
  }

  #window(storage: Storage, page: number): Uint8Array {
    const view = storage.cpu?.view(page);
    if (!view) throw new DmaBufError('ERANGE', `kmap: page ${page} is not staged by an active beginCpuAccess`);
    return view;
  }
}

/** A fresh table over segments: each map returns its own table object. */
function tableOf(segments: readonly Segment[]): SgTable {
  return { segments: segments.map(({ buffer, length }) => ({ buffer, offset: 0, length })) };
}
