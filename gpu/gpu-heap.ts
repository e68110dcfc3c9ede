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
import { checkUsage, MAPPABLE_USAGE, usageNames } from '../src/buffer-usage.js';
import { booleanOption, checkBrand, checkInteger, checkOptions, describe, RECEIVER, type Brand } from '../src/checks.js';
import { movesFromDevice, movesToDevice, type DmaDirection } from '../src/direction.js';
import { checkName, exportDmaBuf, type DmaBuf } from '../src/dma-buf.js';
import type { DmaFence } from '../src/dma-fence.js';
import { DmaBufError } from '../src/error.js';
import type { DmaBufOps } from '../src/ops.js';
import type { SgList } from '../src/sg-table.js';
import { CpuPages } from './cpu-pages.js';
import { checkDevice, deviceFailure, onDeviceLost, queueDone } from './device-loss.js';
import { Holds } from './holds.js';
import { Mirrors, type Mirror, type MirrorSource } from './mirror.js';
import { FREE_LAYOUT, layoutSegmentSize, type SegmentLayout } from './segment-layout.js';
import { alignDown, alignUp, createSegments, destroySegments, segmentBytes, segmentPieces, type Segment } from './segments.js';
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
  /**
   * `GPUBufferUsage` flags beyond `STORAGE | COPY_SRC | COPY_DST` (for example `VERTEX`) on
   * the storage and on every mirror. Importers on the heap's own device get the storage
   * itself, so they may ask at attach only for what it has; importers on other devices may
   * ask at attach for more, which their own mirror gets.
   */
  readonly usage?: GPUBufferUsageFlags;
  /**
   * One segment for the whole buffer, on the heap's device and on every importer's device,
   * so that it binds as one storage buffer; `allocate` throws `ENOMEM` (naming the device
   * limit) when it is larger than one binding can be there, and so does `attach` on an
   * importer's device with a smaller limit. The heap's `maxSegmentBytes` does not apply.
   */
  readonly contiguous?: boolean;
  /**
   * Segment boundaries fall on multiples of this many bytes (an element's size or stride), on
   * every device, so that no element straddles two segments. Each boundary is also a multiple
   * of 256, so segments are cut at multiples of the least common multiple of the two; a
   * positive integer, `EINVAL` when that multiple is larger than one segment can be and the
   * buffer needs more than one. Default 1 (no constraint).
   */
  readonly segmentAlign?: number;
}

/** Options of {@link GpuHeap.wrap}. */
export interface GpuWrapOptions {
  /** The buffer's name in debug listings, at most 32 UTF-8 bytes. */
  readonly name?: string;
  /**
   * Called once, after the last reference is put and no fence named at unmap (`until`) holds
   * the buffer any more: from then on the dma-buf uses it no longer, and its owner may destroy
   * or reuse it. The heap never destroys a wrapped buffer.
   */
  readonly release?: () => void;
}

/** Counts of a heap, for leak checks and for seeing what moved. */
export interface GpuHeapStats {
  /** This heap's dma-bufs not yet released. */
  readonly liveBuffers: number;
  /**
   * Bytes of their storage buffers on the heap's device, and of the storage of released
   * buffers that a fence named at unmap (`until`) still holds.
   */
  readonly storageBytes: number;
  /** Bytes of their mirrors on other devices, held ones of released buffers included. */
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

/**
 * The exporter's private data of one dma-buf (its `priv`): the heap's alone. The buffer does
 * not show it; the heap's ops receive it, and importers reach the storage only through `map`.
 */
export interface GpuStorage {
  /** The heap that allocated the buffer. */
  readonly heap: GpuHeap;
  /** The storage on the heap's device, in order. */
  readonly segments: readonly Segment[];
}

/** A dma-buf whose storage a {@link GpuHeap} holds. */
export type GpuDmaBuf = DmaBuf<GpuStorage>;

interface Storage extends GpuStorage {
  readonly usage: GPUBufferUsageFlags;
  /** Ends the storage once the buffer is released and nothing holds it: destroys it, or hands a wrapped buffer back to its owner. */
  readonly free: () => void;
  /** What the allocation promised about segments; mirrors keep it too. */
  readonly layout: SegmentLayout;
  /** What WebGPU reported about the creation of the storage (`out-of-memory` may come late). */
  readonly allocation: Promise<GPUError | null>;
  /** What `allocation` resolved to, once it has. */
  allocated: GPUError | null | undefined;
  readonly mirrors: Map<DmaBufAttachment<GpuStorage>, Mirror>;
  /** The fences that importers on the heap's own device named at unmap (`until`): the storage outlives them. */
  readonly holds: Holds;
  /** The buffer's CPU-access pages, made at its first `beginCpuAccess`. */
  cpu: CpuPages | undefined;
}

// GPUBufferUsage's values are fixed by the WebGPU spec; spelled out so that importing the
// package where WebGPU is absent (Node, a server render) does not throw.
/**
 * The `GPUBufferUsage` flags every buffer a {@link GpuHeap} allocates carries, on the heap's
 * device and as a mirror on any other: `STORAGE | COPY_SRC | COPY_DST`. Usage asked for at
 * allocation or attach comes on top. A buffer given to {@link GpuHeap.wrap} needs all of it.
 */
export const GPU_HEAP_USAGE: GPUBufferUsageFlags = 0x0080 | 0x0004 | 0x0008;
const MiB = 1024 * 1024;

function numberOption(options: Readonly<Record<string, unknown>>, key: string, fallback: number, min: number): number {
  const value = options[key] === undefined ? fallback : options[key];
  checkInteger('new GpuHeap', key, value, min);
  return value;
}

// Set by GpuHeap's static block: whether a value is a heap itself (see Brand).
let isHeap: (value: unknown) => boolean = () => false;

/**
 * A heap of dma-bufs on one `GPUDevice`: the stock exporter. Storage is zero-filled
 * `GPUBuffer`s with `STORAGE | COPY_SRC | COPY_DST` usage, cut into segments that can each
 * be bound whole. The heap does not own the device; the caller destroys the heap with
 * {@link destroy} once its buffers are released, and the device after that. Its methods
 * throw `EINVAL` when called on a look-alike (a Proxy or `Object.create` of a heap), before
 * they do anything.
 */
export class GpuHeap {
  /** The device the storage lives on; the caller's, never destroyed by the heap. */
  readonly device: GPUDevice;
  /** Bytes of storage the heap allocates at most (`ENOMEM` beyond). */
  readonly budgetBytes: number;
  /** Bytes a cross-device transfer moves per step, with the next step's copy in flight. */
  readonly chunkBytes: number;
  /** The exporter's name in debug listings. */
  readonly name: string;
  /** Bytes of one storage segment at most, within the device's binding and buffer limits. */
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

  static {
    isHeap = (value) => typeof value === 'object' && value !== null && #pool in value;
  }

  /**
   * @throws {DmaBufError} `EINVAL` when `device` is not a `GPUDevice` or an option is not a
   *   positive integer (or the name not a string).
   */
  constructor(device: GPUDevice, options?: GpuHeapOptions) {
    const candidate: unknown = device;
    if (!(candidate instanceof GPUDevice)) throw new DmaBufError('EINVAL', 'new GpuHeap', `device must be a GPUDevice, got ${describe(candidate)}`);
    const bag = checkOptions('new GpuHeap', options);
    this.device = device;
    this.budgetBytes = numberOption(bag, 'budgetBytes', 1024 * MiB, 1);
    this.chunkBytes = alignUp(numberOption(bag, 'chunkBytes', 8 * MiB, 4), 4);
    this.maxSegmentBytes = numberOption(bag, 'maxSegmentBytes', Number.MAX_SAFE_INTEGER, 256);
    this.#pool = new StagingPool(numberOption(bag, 'stagingCapBytes', 256 * MiB, 0));
    this.#mirrors = new Mirrors(numberOption(bag, 'idleMirrorCapBytes', 256 * MiB, 0), this.maxSegmentBytes);
    const name = bag.name ?? 'gpu-heap';
    if (typeof name !== 'string') throw new DmaBufError('EINVAL', 'new GpuHeap', `name must be a string, got ${describe(name)}`);
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
   * `options.contiguous` and `options.segmentAlign` shape the segments that maps return, on
   * every device.
   * @throws {DmaBufError} `EINVAL` for a size that is not a positive safe integer, unknown or
   *   mappable usage flags, a bad name, `contiguous` not a boolean, `segmentAlign` not a
   *   positive integer or one that cannot be kept on the heap's device, or a destroyed heap;
   *   `ENOMEM` beyond the heap's budget, or for a contiguous buffer larger than one segment can
   *   be (the message names the device limit); nothing is created then. `ENODEV` when the
   *   heap's device is lost.
   */
  allocate(size: number, options?: GpuAllocateOptions): GpuDmaBuf {
    const call = 'allocate';
    checkHeap(call, this);
    if (this.#destroyed) throw new DmaBufError('EINVAL', call, `the heap '${this.name}' is destroyed`);
    checkInteger(call, 'size', size, 1);
    const bag = checkOptions(call, options);
    const { name, usage = 0, segmentAlign = 1 } = bag;
    checkName(call, name);
    checkStorageUsage(call, usage);
    const contiguous = booleanOption(call, bag, 'contiguous', false);
    checkInteger(call, 'segmentAlign', segmentAlign, 1);
    const layout: SegmentLayout = contiguous || segmentAlign !== 1 ? { contiguous, align: segmentAlign } : FREE_LAYOUT;
    checkDevice(call, this.device, 'heap');
    const segmentSize = layoutSegmentSize(call, this.device, size, layout, this.maxSegmentBytes);
    const bytes = alignUp(size, 4);
    if (this.#storageBytes + bytes > this.budgetBytes) {
      throw new DmaBufError('ENOMEM', call, `${size} bytes would take the heap past its budget (${this.#storageBytes} of ${this.budgetBytes} bytes in use)`);
    }
    const fullUsage = GPU_HEAP_USAGE | usage;
    // WebGPU reports a failed creation later, through error scopes: keep the answer for the first map.
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let segments: Segment[] | undefined;
    let thrown: unknown;
    try {
      segments = createSegments(this.device, size, fullUsage, `dmabuf ${name ?? ''}`.trim(), segmentSize);
    } catch (error) {
      thrown = error;
    }
    const invalid = this.device.popErrorScope();
    const outOfMemory = this.device.popErrorScope();
    const allocation = Promise.all([outOfMemory, invalid]).then(([oom, other]) => oom ?? other, () => null);
    if (!segments) throw new DmaBufError('ENOMEM', call, `creating ${size} bytes of storage failed: ${String(thrown)}`, { cause: thrown });
    const made = segments;
    const storage: Storage = { heap: this, segments, usage: fullUsage, free: () => { destroySegments(made); }, layout, allocation, allocated: undefined, mirrors: new Map(), holds: new Holds(), cpu: undefined };
    void allocation.then((error) => (storage.allocated = error));
    return this.#export(storage, size, name);
  }

  /**
   * Exports a `GPUBuffer` that the caller already owns, on the heap's device, as a dma-buf of
   * its size, without a copy: a driver's export of its own buffer object
   * (`drm_gem_prime_export`). Importers on the heap's device map the buffer itself (one
   * segment, at offset 0); importers on other devices get a mirror, as for any buffer of the
   * heap (one segment there too: `ENOMEM` at attach when it is larger than one binding can be
   * on their device). The caller owns the one reference returned. The buffer stays the
   * caller's: the heap never destroys it, and `options.release` says when the dma-buf is done
   * with it. Work the owner still does on the buffer outside the dma-buf's calls is ordered
   * with them only through fences it adds (`resv.addFence`, `importSyncFile`).
   * @throws {DmaBufError} `EINVAL` for something that is not a `GPUBuffer` itself (a Proxy of
   *   one included), a buffer without all of {@link GPU_HEAP_USAGE} or not unmapped, a bad name,
   *   a `release` that is not a function, or a destroyed heap; `ENODEV` when the heap's device
   *   is lost. Nothing is exported then.
   */
  wrap(buffer: GPUBuffer, options?: GpuWrapOptions): GpuDmaBuf {
    const call = 'wrap';
    checkHeap(call, this);
    if (this.#destroyed) throw new DmaBufError('EINVAL', call, `the heap '${this.name}' is destroyed`);
    const { size, usage } = checkWrappable(call, buffer);
    const { name, release } = checkOptions(call, options);
    checkName(call, name);
    if (release !== undefined && typeof release !== 'function') throw new DmaBufError('EINVAL', call, `release must be a function, got ${describe(release)}`);
    checkDevice(call, this.device, 'heap');
    const segments: Segment[] = [{ buffer, start: 0, length: size }];
    const handBack = release as (() => void) | undefined;
    const free = () => {
      if (!handBack) return;
      try {
        handBack();
      } catch (error) {
        // The owner's callback failing is the owner's bug: reported, not swallowed, and the
        // release that called it is not undone.
        queueMicrotask(() => { throw error; });
      }
    };
    const layout: SegmentLayout = { contiguous: true, align: 1 };
    const storage: Storage = { heap: this, segments, usage, free, layout, allocation: Promise.resolve(null), allocated: null, mirrors: new Map(), holds: new Holds(), cpu: undefined };
    return this.#export(storage, size, name);
  }

  #export(storage: Storage, size: number, name: string | undefined): GpuDmaBuf {
    const buf = exportDmaBuf<GpuStorage>({ priv: storage, ops: this.#ops, size, ...(name === undefined ? {} : { name }), exporter: this.name, layout: storage.layout });
    this.#liveBuffers += 1;
    this.#storageBytes += segmentBytes(storage.segments);
    return buf;
  }

  /** The heap's counts now. */
  stats(): GpuHeapStats {
    checkHeap('stats', this);
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
    checkHeap('destroyed', this);
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
    checkHeap('destroy', this);
    if (this.#destroyed) return;
    if (this.#liveBuffers > 0) {
      throw new DmaBufError('EBUSY', 'destroy', `the heap '${this.name}' still has ${this.#liveBuffers} live buffer(s); put them first`);
    }
    this.#destroyed = true;
    this.#pool.close();
    this.#mirrors.close();
    for (const unfollow of this.#unfollow.splice(0)) unfollow();
  }

  #makeOps(): DmaBufOps<GpuStorage> {
    // Every priv of these ops is a Storage: only allocate exports with them.
    const own = (priv: GpuStorage) => priv as Storage;
    return {
      mapDmaBuf: (priv, attachment, dir) => this.#map(own(priv), attachment, dir),
      unmapDmaBuf: (priv, attachment, _sgt, dir, until) => this.#unmap(own(priv), attachment, dir, until),
      attach: (priv, buf, attachment) => { this.#attach(own(priv), buf, attachment); },
      detach: (priv, _buf, attachment) => { this.#retireMirror(own(priv), attachment); },
      release: (priv) => { this.#release(own(priv)); },
      beginCpuAccess: (priv, buf, start, len, dir) => this.#beginCpuAccess(own(priv), buf, start, len, dir),
      read: (priv, buf, start, into) => this.#read(own(priv), buf, start, into),
      write: async (priv, buf, start, bytes) => {
        try {
          await this.#pages(own(priv), buf).write(start, bytes);
        } catch (error) {
          throw deviceFailure('write', error);
        }
        this.#bytesCopied += bytes.length;
      },
      endCpuAccess: (priv, _buf, start, len, dir) => { this.#bytesCopied += own(priv).cpu?.end(start, len, dir) ?? 0; },
      kmap: (priv, _buf, page) => this.#window(own(priv), page),
      kmapAtomic: (priv, _buf, page) => this.#window(own(priv), page),
      vmap: (priv) => {
        const pages = own(priv).cpu;
        if (!pages) throw new DmaBufError('ERANGE', 'vmap', 'the buffer has no CPU access under way');
        return pages.wholeView();
      },
    };
  }

  /**
   * The attach op: refuses here, never later, what the heap cannot give the importer.
   * @throws {DmaBufError} `EINVAL` for something that is not a `GPUDevice`, mappable usage,
   *   usage the storage lacks on the heap's own device (the importer gets the storage
   *   itself there), or a `segmentAlign` that cannot be kept on the importer's device;
   *   `ENOMEM` for a contiguous buffer larger than one segment can be on the importer's device.
   */
  #attach(storage: Storage, buf: GpuDmaBuf, attachment: DmaBufAttachment<GpuStorage>): void {
    const call = 'attach';
    const device: unknown = attachment.device;
    if (!(device instanceof GPUDevice)) throw new DmaBufError('EINVAL', call, `device must be a GPUDevice, got ${describe(device)}`);
    checkStorageUsage(call, attachment.usage);
    if (zeroCopy(storage, attachment, this.device)) {
      const missing = attachment.usage & ~storage.usage;
      if (missing !== 0) {
        throw new DmaBufError(
          'EINVAL',
          call,
          `usage ${usageNames(missing)} is not on the storage (${usageNames(storage.usage)}); on the heap's own device maps return the storage itself, so allocate the buffer with that usage`,
        );
      }
    } else {
      this.#mirrors.segmentSize(call, device, this.#mirrorSource(buf, storage, attachment));
    }
    this.#follow(device);
  }

  /** `undefined` once WebGPU has said the storage was created (the hot path: no await); else waits for its answer. @throws ENOMEM/EIO when it was not. */
  #allocated(call: string, storage: Storage): Promise<void> | undefined {
    if (storage.allocated === null) return undefined;
    return storage.allocation.then((error) => {
      if (!error) return;
      const code = error instanceof GPUOutOfMemoryError ? 'ENOMEM' : 'EIO';
      throw new DmaBufError(code, call, `WebGPU could not create the buffer's storage: ${error.message}`);
    });
  }

  /** Throws unless work may still be queued for `buf`: `EINVAL` once released, `ENODEV` once the heap's (or the importer's) device is lost. */
  #guard(call: string, buf: GpuDmaBuf, importer?: GPUDevice): void {
    buf.resv.check(call);
    checkDevice(call, this.device, 'heap');
    if (importer) checkDevice(call, importer, 'importer');
  }

  async #map(storage: Storage, attachment: DmaBufAttachment<GpuStorage>, dir: DmaDirection): Promise<SgList> {
    const buf = attachment.dmabuf;
    const { device } = attachment;
    if (zeroCopy(storage, attachment, this.device)) {
      // Zero-copy: the importer's own GPU work touches the storage. It goes after the writes
      // called before it (and, when it writes, after the reads called before it too). A
      // 'none' map promises nothing of the bytes and waits for nothing, as on any device.
      const wait = dir === 'none' ? undefined : buf.resv.waitFor(movesFromDevice(dir) ? 'write' : 'read');
      if (wait) await wait;
      const allocated = this.#allocated('map', storage);
      if (allocated) await allocated;
      this.#guard('map', buf);
      return listOf(storage.segments, 0);
    }
    this.#guard('map', buf, device);
    const mirror = this.#mirrors.take(storage.mirrors, attachment, this.#mirrorSource(buf, storage, attachment), dir);
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
          // Work the importer named at an earlier unmap may still read the mirror.
          beforeWrite: () => mirror.holds.released(),
        });
      }
      this.#guard('map', buf, device);
      mirror.tables += 1;
      return listOf(mirror.segments, turn ? buf.size : 0);
    } finally {
      turn?.done();
      mirror.transfers -= 1;
    }
  }

  /**
   * Resolves to the bytes moved back into the storage. With `until`, the buffers the importer
   * used stay as they are until it signals; a write-back copies them only then.
   */
  async #unmap(storage: Storage, attachment: DmaBufAttachment<GpuStorage>, dir: DmaDirection, until: DmaFence | undefined): Promise<number> {
    const buf = attachment.dmabuf;
    const writes = movesFromDevice(dir);
    if (zeroCopy(storage, attachment, this.device)) {
      // The importer's work on the storage itself: later operations wait for it as for its own fence.
      if (until) {
        buf.resv.addFence(until, writes ? 'write' : 'read');
        storage.holds.add(until);
      }
      return 0;
    }
    const mirror = storage.mirrors.get(attachment);
    if (!mirror) return 0;
    mirror.tables -= 1;
    if (until) mirror.holds.add(until);
    if (!writes) return 0;
    const guard = () => { this.#guard('unmap', buf, attachment.device); };
    guard();
    // Readers called after the unmap wait for the importer's work too, and fail with its error.
    if (until) buf.resv.addFence(until, 'write');
    // The copy out of the mirror is submitted now, behind the importer's own work (with
    // `until`, once that has signalled); the write into the storage waits for its turn.
    const turn = buf.resv.enter('write');
    mirror.transfers += 1;
    try {
      const importerDone = until ? turn.ready : undefined;
      if (importerDone) await importerDone;
      // The guard runs before every write into the storage: a device lost on the way is ENODEV.
      await this.#transfer('unmap', mirror, { device: this.device, segments: storage.segments }, buf.size, { guard, beforeWrite: () => turn.ready });
      turn.done(queueDone(this.device));
      return buf.size;
    } finally {
      turn.done();
      mirror.transfers -= 1;
    }
  }

  async #transfer(call: string, from: Copy, to: Copy, size: number, turns: TransferTurns): Promise<void> {
    try {
      // On one device a GPU copy does it, when it may write at once; else (a turn or a hold to
      // wait for) the source is copied out now through staging, as between devices.
      if (from.device === to.device && !turns.beforeWrite?.()) copyOnDevice(from, to, alignUp(size, 4), turns);
      else await transfer(from, to, 0, alignUp(size, 4), this.#pool, this.chunkBytes, turns);
    } catch (error) {
      throw deviceFailure(call, error);
    }
    this.#bytesCopied += size;
  }

  #mirrorSource(buf: GpuDmaBuf, storage: Storage, attachment: DmaBufAttachment<GpuStorage>): MirrorSource {
    const layout = attachment.contiguous ? { contiguous: true, align: storage.layout.align } : storage.layout;
    return { owner: buf, size: buf.size, usage: storage.usage | attachment.usage, layout, name: buf.name ?? String(buf.id) };
  }

  #retireMirror(storage: Storage, attachment: DmaBufAttachment<GpuStorage>): void {
    const mirror = storage.mirrors.get(attachment);
    if (!mirror) return;
    storage.mirrors.delete(attachment);
    this.#mirrors.retire(mirror, attachment.dmabuf, attachment.dmabuf.size);
  }

  #release(storage: Storage): void {
    // The reservation is already cancelled: nothing under way submits again.
    for (const attachment of [...storage.mirrors.keys()]) this.#retireMirror(storage, attachment);
    storage.cpu?.release();
    this.#liveBuffers -= 1;
    storage.holds.whenReleased(() => {
      this.#storageBytes -= segmentBytes(storage.segments);
      storage.free();
    });
  }

  /** The buffer's CPU-access pages, made at the first CPU access or write. */
  #pages(storage: Storage, buf: GpuDmaBuf): CpuPages {
    storage.cpu ??= new CpuPages({
      device: this.device,
      segments: storage.segments,
      size: buf.size,
      pool: this.#pool,
      buf,
      guard: (call) => { this.#guard(call, buf); },
      allocated: (call) => this.#allocated(call, storage),
    });
    return storage.cpu;
  }

  async #beginCpuAccess(storage: Storage, buf: GpuDmaBuf, start: number, len: number, dir: DmaDirection): Promise<void> {
    const pages = this.#pages(storage, buf);
    try {
      this.#bytesCopied += await pages.begin(start, len, dir);
    } catch (error) {
      throw deviceFailure('beginCpuAccess', error);
    }
  }

  /**
   * Copies `[start, start + into.length)` of the storage into `into`, as a read entered in the
   * reservation now (`DmaBuf.read`): a GPU copy of the words covering it into pooled
   * `MAP_READ` staging, submitted in its turn, then `mapAsync`.
   */
  async #read(storage: Storage, buf: GpuDmaBuf, start: number, into: Uint8Array): Promise<void> {
    const turn = buf.resv.enter('read');
    const from = alignDown(start, 4);
    const len = alignUp(start + into.length, 4) - from;
    let staging: GPUBuffer | undefined;
    try {
      if (turn.ready) await turn.ready;
      const allocated = this.#allocated('read', storage);
      if (allocated) await allocated;
      this.#guard('read', buf);
      staging = this.#pool.acquire(this.device, 'read', len);
      const encoder = this.device.createCommandEncoder({ label: 'dmabuf read' });
      for (const piece of segmentPieces(storage.segments, from, len)) encoder.copyBufferToBuffer(piece.buffer, piece.offset, staging, piece.at - from, piece.length);
      this.device.queue.submit([encoder.finish()]);
      turn.done(queueDone(this.device));
      await staging.mapAsync(GPUMapMode.READ, 0, len);
      into.set(new Uint8Array(staging.getMappedRange(0, len), start - from, into.length));
      this.#pool.release(staging);
      staging = undefined;
      this.#bytesCopied += into.length;
    } catch (error) {
      // A staging buffer whose map failed is not reused.
      if (staging) this.#pool.discard(staging);
      throw deviceFailure('read', error);
    } finally {
      turn.done();
    }
  }

  #window(storage: Storage, page: number): Uint8Array {
    const view = storage.cpu?.view(page);
    if (!view) throw new DmaBufError('ERANGE', 'kmap', `page ${page} is not staged by an active beginCpuAccess`);
    return view;
  }
}

/**
 * Whether `attachment` maps the storage itself: on the heap's device, unless it asked for one
 * buffer (`contiguous`) and the storage is split; such an importer gets a mirror on the heap's
 * device, kept in step by GPU copies.
 */
function zeroCopy(storage: Storage, attachment: DmaBufAttachment<GpuStorage>, heapDevice: GPUDevice): boolean {
  return attachment.device === heapDevice && !(attachment.contiguous && storage.segments.length > 1);
}

/** A transfer between two copies on one device, with nothing to wait for: GPU copies, submitted now. */
function copyOnDevice(from: Copy, to: Copy, len: number, turns: TransferTurns): void {
  turns.guard();
  const encoder = from.device.createCommandEncoder({ label: 'dmabuf copy on device' });
  for (const source of segmentPieces(from.segments, 0, len)) {
    for (const target of segmentPieces(to.segments, source.at, source.length)) {
      encoder.copyBufferToBuffer(source.buffer, source.offset + target.at - source.at, target.buffer, target.offset, target.length);
    }
  }
  from.device.queue.submit([encoder.finish()]);
  turns.sourceDone?.();
}

/** What a map hands the contract: the segments (always the same `GPUBuffer`s for one attachment) and the bytes it moved. */
function listOf(segments: readonly Segment[], bytesMoved: number): SgList {
  return { segments: segments.map(({ buffer, start, length }) => ({ buffer, offset: 0, start, length })), bytesMoved };
}

/**
 * Throws `EINVAL` naming `call` unless `usage` is known `GPUBufferUsage` flags that a
 * `STORAGE` buffer may carry (not `MAP_READ` or `MAP_WRITE`).
 * @throws {DmaBufError} `EINVAL`
 */
function checkStorageUsage(call: string, usage: unknown): asserts usage is GPUBufferUsageFlags {
  checkUsage(call, usage);
  if ((usage & MAPPABLE_USAGE) !== 0) {
    throw new DmaBufError('EINVAL', call, `usage ${usageNames(usage)} has MAP_READ or MAP_WRITE, which cannot go with STORAGE (the heap's storage and mirrors are storage buffers)`);
  }
}

/**
 * The size and usage of a `GPUBuffer` that {@link GpuHeap.wrap} may export.
 * @throws {DmaBufError} `EINVAL` naming `call` for anything else.
 */
function checkWrappable(call: string, buffer: unknown): { size: number; usage: GPUBufferUsageFlags } {
  let read: { size: number; usage: GPUBufferUsageFlags; mapState: GPUBufferMapState } | undefined;
  if (buffer instanceof GPUBuffer) {
    try {
      // A Proxy or Object.create of a GPUBuffer passes instanceof; its getters throw.
      read = { size: buffer.size, usage: buffer.usage, mapState: buffer.mapState };
    } catch {
      read = undefined;
    }
  }
  if (!read) throw new DmaBufError('EINVAL', call, `buffer must be a GPUBuffer itself, got ${describe(buffer)}${buffer instanceof GPUBuffer ? ' (a Proxy or Object.create of one: pass the buffer itself)' : ''}`);
  const missing = GPU_HEAP_USAGE & ~read.usage;
  if (missing !== 0) {
    throw new DmaBufError('EINVAL', call, `the buffer's usage ${usageNames(read.usage)} lacks ${usageNames(missing)}, which the heap needs to copy its bytes to other devices and the CPU (create it with GPU_HEAP_USAGE)`);
  }
  if (read.mapState !== 'unmapped') throw new DmaBufError('EINVAL', call, `the buffer is ${read.mapState}; unmap it first`);
  return { size: read.size, usage: read.usage };
}

const HEAP: Brand<GpuHeap> = { noun: 'a GpuHeap', variable: 'heap', prototype: GpuHeap.prototype, has: (value): value is GpuHeap => isHeap(value) };

/** Throws `EINVAL` naming `call` unless the heap a method was called on is one itself, not a look-alike. */
function checkHeap(call: string, self: unknown): void {
  checkBrand(call, self, HEAP, RECEIVER);
}
