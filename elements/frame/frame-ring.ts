import { gpuFence, type DmaBufAttachment, type FdTable, type GpuDmaBuf, type GpuHeap, type GpuStorage, type SgTable } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import type { FrameLayout } from '../kernels/frame-layout.js';
import { FrameEvent } from './frame-event.js';
import type { FrameInfo, FrameLease } from './frame-info.js';
import { lendFrame } from './lend-frame.js';

/** One buffer of the ring, while its exporter writes it. */
export interface RingSlot {
  readonly index: number;
  /** The exporter's own mapping of the slot on its device ('from-device': the device writes it). */
  readonly sgt: SgTable;
}

interface Slot {
  readonly index: number;
  readonly buf: GpuDmaBuf;
  readonly fd: number;
  readonly attachment: DmaBufAttachment<GpuStorage>;
  holders: number;
  writing: boolean;
}

/**
 * An exporter's ring of frame buffers: `count` dma-bufs from its heap, each installed in its
 * fd table. A slot is written only when no importer holds a lease on it (and its reference
 * count is back to the ring's own two: the creator's and the fd's), so an importer never
 * sees a frame change under it. Leases are taken through {@link FrameEvent.accept} and
 * given back with `release()`, which closes the importer's fd.
 *
 * Realm: any realm with WebGPU, the page or a worker (it needs no DOM).
 */
export class FrameRing {
  readonly layout: FrameLayout;
  readonly #table: FdTable;
  readonly #slots: Slot[] = [];
  #waiters: (() => void)[] = [];
  readonly #revoke = new AbortController();
  #next = 0;

  /**
   * Allocates the ring's buffers from `heap` (named `name 0`, `name 1`, …) and installs
   * them in `table`. The caller disposes the ring with {@link dispose} after {@link idle}.
   */
  constructor(heap: GpuHeap, table: FdTable, layout: FrameLayout, count: number, name: string) {
    this.layout = layout;
    this.#table = table;
    for (let index = 0; index < count; index++) {
      const buf = heap.allocate(layout.byteLength, { name: `${name} ${index}` });
      const fd = table.install(buf);
      this.#slots.push({ index, buf, fd, attachment: buf.attach(heap.device), holders: 0, writing: false });
    }
  }

  /** Leases outstanding on all slots. */
  get leases(): number {
    return this.#slots.reduce((sum, slot) => sum + slot.holders, 0);
  }

  /**
   * The next free slot, mapped for the exporter's device to write, or `undefined` when every
   * slot is held by an importer or being written (the caller drops the frame). Pair with
   * {@link publish} or {@link abandon}.
   */
  async acquire(): Promise<RingSlot | undefined> {
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[(this.#next + i) % this.#slots.length];
      if (!slot || slot.writing || slot.holders > 0 || slot.buf.refCount !== 2) continue;
      this.#next = (slot.index + 1) % this.#slots.length;
      slot.writing = true;
      try {
        return { index: slot.index, sgt: await slot.attachment.map('from-device') };
      } catch (error) {
        slot.writing = false;
        this.#wake();
        throw error;
      }
    }
    return undefined;
  }

  /**
   * Offers a written slot to importers: adds a write fence for the GPU work submitted so far
   * (`gpuFence`) to the slot's reservation, unmaps it, dispatches a {@link FrameEvent} on
   * `target`, and returns how many importers took it. Submit the GPU work that wrote the
   * slot before publishing; importers' maps wait for its fence.
   */
  async publish(ring: RingSlot, frame: FrameInfo, target: EventTarget): Promise<number> {
    const slot = this.#slot(ring);
    // The frame's write fence: importers' maps wait for the GPU work that wrote it, on
    // whatever device they are, instead of counting on one queue's order.
    slot.buf.importSyncFile(gpuFence(slot.attachment.device), 'write');
    await slot.attachment.unmap(ring.sgt, 'from-device');
    slot.writing = false;
    const before = slot.holders;
    const event = new FrameEvent(frame, (table) => this.#lease(slot, frame, table));
    try {
      target.dispatchEvent(event);
    } finally {
      event.close();
    }
    this.#wake();
    return slot.holders - before;
  }

  /** Gives back a slot that was acquired but will not be published (the frame failed). */
  async abandon(ring: RingSlot): Promise<void> {
    const slot = this.#slot(ring);
    await slot.attachment.unmap(ring.sgt, 'from-device');
    slot.writing = false;
    this.#wake();
  }

  /** Resolves once no slot is leased or being written. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /**
   * Asks importers for every frame back: aborts the `signal` of every lease, so an importer
   * that keeps a lease past its work (a view keeping the frame on screen) releases it. The
   * exporter calls it when it stops, before {@link idle}.
   */
  revoke(): void {
    this.#revoke.abort(new DmabufElementError('ENOTRUNNING', 'FrameRing', 'the exporter is stopping'));
  }

  /**
   * Detaches, closes and puts every slot: the heap releases the buffers. Call after
   * {@link idle}.
   * @throws {DmabufElementError} `EBUSY` while a slot is still leased or being written.
   */
  dispose(): void {
    if (!this.#isIdle()) throw new DmabufElementError('EBUSY', 'FrameRing.dispose', `${this.leases} leases outstanding; await idle() first`);
    for (const slot of this.#slots.splice(0)) {
      slot.buf.detach(slot.attachment);
      this.#table.close(slot.fd);
      slot.buf.put();
    }
  }

  #lease(slot: Slot, frame: FrameInfo, table: FdTable): FrameLease {
    const lease = lendFrame(this.#table, slot.fd, slot.buf, table, frame, this.#revoke.signal, () => {
      slot.holders -= 1;
      this.#wake();
    });
    slot.holders += 1;
    return lease;
  }

  #slot(ring: RingSlot): Slot {
    const slot = this.#slots[ring.index];
    if (!slot?.writing) throw new DmabufElementError('EINVAL', 'FrameRing', `slot ${ring.index} is not being written`);
    return slot;
  }

  #isIdle(): boolean {
    return this.#slots.every((slot) => slot.holders === 0 && !slot.writing);
  }

  #wake(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
