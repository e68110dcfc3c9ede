import { isLost } from './device-loss.js';
import { alignUp } from './segments.js';

/** Which way a staging buffer carries bytes: `read` is `MAP_READ | COPY_DST`, `write` is `MAP_WRITE | COPY_SRC`. */
export type StagingKind = 'read' | 'write';

interface FreeBuffer {
  readonly buffer: GPUBuffer;
  readonly device: GPUDevice;
  readonly kind: StagingKind;
}

// GPUBufferUsage's values, fixed by the WebGPU spec: MAP_READ | COPY_DST and MAP_WRITE | COPY_SRC.
const READ_USAGE = 0x0001 | 0x0008;
const WRITE_USAGE = 0x0002 | 0x0004;

// ArrayBuffer.prototype.transfer is the fast way; structuredClone does the same where it is
// missing (Node 20, Chrome before 114).
const canTransfer = 'transfer' in ArrayBuffer.prototype;

/** Moves `buffer`'s bytes to a new ArrayBuffer, detaching it and every view on it. */
function detach(buffer: ArrayBuffer): ArrayBuffer {
  return canTransfer ? buffer.transfer() : structuredClone(buffer, { transfer: [buffer] });
}

/** Idle plain memory kept for write-only CPU windows. */
const HOST_CAP = 16 * 1024 * 1024;

/** The smallest staging buffer the pool makes: one page. */
const MIN_STAGING = 4096;

/**
 * Mappable staging buffers, reused across transfers and CPU accesses so that repeating the
 * same work creates no new `GPUBuffer`. Sizes are rounded up to a power of two (at least a
 * page, at most the device's `maxBufferSize`) so that similar requests share buffers. Idle
 * buffers are kept up to `capBytes`; beyond that they are destroyed, not kept.
 *
 * The pool owns every buffer it hands out: a caller gives it back with {@link release}
 * (unmapped or not) and never destroys it. A buffer given back after its device was lost, or
 * after the pool was closed, is destroyed, never kept.
 */
export class StagingPool {
  /** Bytes of idle buffers kept at most. */
  readonly capBytes: number;
  #free: FreeBuffer[] = [];
  readonly #freeHost: ArrayBuffer[] = [];
  #idleHostBytes = 0;
  #idleBytes = 0;
  #liveBytes = 0;
  #created = 0;
  #closed = false;
  readonly #kinds = new WeakMap<GPUBuffer, FreeBuffer>();
  // Whose bytes a buffer may still hold (a write buffer keeps what its last user wrote).
  readonly #owners = new WeakMap<GPUBuffer, object>();
  readonly #hostOwners = new WeakMap<ArrayBuffer, object>();

  constructor(capBytes: number) {
    this.capBytes = capBytes;
  }

  /** Bytes of all staging buffers alive now, idle or in use. */
  get liveBytes(): number {
    return this.#liveBytes;
  }

  /** Staging buffers created since the pool was made. */
  get created(): number {
    return this.#created;
  }

  /** The size a request for `size` bytes is served with. */
  static bucket(device: GPUDevice, size: number): number {
    const pow2 = 2 ** Math.ceil(Math.log2(Math.max(size, MIN_STAGING)));
    return pow2 <= device.limits.maxBufferSize ? pow2 : alignUp(size, 4);
  }

  /** An unmapped staging buffer of at least `size` bytes on `device`. */
  acquire(device: GPUDevice, kind: StagingKind, size: number): GPUBuffer {
    return this.acquireFor(undefined, device, kind, size).buffer;
  }

  /**
   * As {@link acquire}, for `owner` (a dma-buf): a buffer it used last is preferred.
   * `dirty` says whether the buffer may still hold another owner's bytes; a new buffer is
   * zero-filled by WebGPU and is not dirty.
   */
  acquireFor(owner: object | undefined, device: GPUDevice, kind: StagingKind, size: number): { buffer: GPUBuffer; dirty: boolean } {
    const bucket = StagingPool.bucket(device, size);
    const fits = (f: FreeBuffer) => f.device === device && f.kind === kind && f.buffer.size === bucket;
    let index = owner === undefined ? -1 : this.#free.findIndex((f) => fits(f) && this.#owners.get(f.buffer) === owner);
    if (index < 0) index = this.#free.findIndex(fits);
    const reused = index >= 0 ? this.#free.splice(index, 1)[0] : undefined;
    if (reused) {
      this.#idleBytes -= bucket;
      const dirty = this.#owners.get(reused.buffer) !== owner;
      this.#setOwner(reused.buffer, owner);
      return { buffer: reused.buffer, dirty };
    }
    const usage = kind === 'read' ? READ_USAGE : WRITE_USAGE;
    const buffer = device.createBuffer({ size: bucket, usage, label: `dmabuf staging (${kind}, ${bucket} bytes)` });
    this.#kinds.set(buffer, { buffer, device, kind });
    this.#setOwner(buffer, owner);
    this.#created += 1;
    this.#liveBytes += bucket;
    return { buffer, dirty: false };
  }

  #setOwner(buffer: GPUBuffer, owner: object | undefined): void {
    if (owner === undefined) this.#owners.delete(buffer);
    else this.#owners.set(buffer, owner);
  }

  /**
   * Plain memory of `size` bytes for a write-only CPU window, reused: the first touch of
   * fresh memory costs more than zeroing memory already touched. It is zeroed unless `owner`
   * (a dma-buf) was its last user and `keepOwn` is set: a window then shows that buffer's own
   * earlier CPU bytes, never another's.
   */
  acquireHost(size: number, owner?: object, keepOwn = false): ArrayBuffer {
    let index = owner === undefined ? -1 : this.#freeHost.findIndex((b) => b.byteLength === size && this.#hostOwners.get(b) === owner);
    if (index < 0) index = this.#freeHost.findIndex((b) => b.byteLength === size);
    const reused = index >= 0 ? this.#freeHost.splice(index, 1)[0] : undefined;
    if (!reused) return new ArrayBuffer(size);
    this.#idleHostBytes -= size;
    if (!keepOwn || owner === undefined || this.#hostOwners.get(reused) !== owner) new Uint8Array(reused).fill(0);
    return reused;
  }

  /**
   * Takes plain memory back, last used by `owner`. Its contents move to a new `ArrayBuffer`
   * and the old one is detached, so views a caller kept past the end of its access see
   * nothing of the next user.
   */
  releaseHost(buffer: ArrayBuffer, owner?: object): void {
    const moved = detach(buffer);
    if (this.#closed || this.#idleHostBytes + moved.byteLength > HOST_CAP) return;
    if (owner !== undefined) this.#hostOwners.set(moved, owner);
    this.#freeHost.push(moved);
    this.#idleHostBytes += moved.byteLength;
  }

  /** Takes a buffer back: kept for reuse while idle bytes stay within the cap, else destroyed. */
  release(buffer: GPUBuffer): void {
    const entry = this.#kinds.get(buffer);
    // Unknown, destroyed, or already given back: nothing to do (never listed twice).
    if (!entry || this.#free.includes(entry)) return;
    if (buffer.mapState !== 'unmapped') buffer.unmap();
    if (!this.#closed && !isLost(entry.device) && this.#idleBytes + buffer.size <= this.capBytes) {
      this.#free.push(entry);
      this.#idleBytes += buffer.size;
    } else {
      this.#destroy(buffer);
    }
  }

  /** Destroys a buffer that must not be reused (its device failed, or its map was aborted). */
  discard(buffer: GPUBuffer): void {
    const entry = this.#kinds.get(buffer);
    if (!entry) return;
    const idle = this.#free.indexOf(entry);
    if (idle >= 0) {
      this.#free.splice(idle, 1);
      this.#idleBytes -= buffer.size;
    }
    this.#destroy(buffer);
  }

  /** Destroys the idle buffers of `device`, when it is lost. */
  purge(device: GPUDevice): void {
    const gone = this.#free.filter((f) => f.device === device);
    this.#free = this.#free.filter((f) => !gone.includes(f));
    for (const { buffer } of gone) {
      this.#idleBytes -= buffer.size;
      this.#destroy(buffer);
    }
  }

  /** Destroys every idle buffer and keeps none from now on (the heap is destroyed). Safe to call twice. */
  close(): void {
    this.#closed = true;
    for (const { buffer } of this.#free.splice(0)) this.#destroy(buffer);
    this.#idleBytes = 0;
    this.#freeHost.length = 0;
    this.#idleHostBytes = 0;
  }

  #destroy(buffer: GPUBuffer): void {
    this.#kinds.delete(buffer);
    this.#liveBytes -= buffer.size;
    buffer.destroy();
  }
}
