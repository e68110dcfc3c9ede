import { FdTable, GpuHeap, type GpuHeapStats } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import { frameBinding } from '../kernels/frame-buffer.js';
import type { FrameLayout } from '../kernels/frame-layout.js';
import type { FrameInfo } from './frame-info.js';
import { FrameRing } from './frame-ring.js';

/** How a {@link FrameExporter} is set up. */
export interface FrameExporterOptions {
  /**
   * The module's name: its heap's name, the prefix of its buffers' names (`NAME frame 0`,
   * …, at most 32 bytes in all) and the `exporter` of every frame it offers.
   */
  readonly name: string;
  /** The dma-bufs in its ring: one being written, the rest held by importers. */
  readonly slots: number;
  /**
   * Where its `FrameEvent`s are dispatched, which importers listen on: the element
   * that hosts the module, or an `EventTarget` of the module's own.
   */
  readonly target: EventTarget;
}

/** Where a frame came from: the camera frame it was made from, and when that was captured. */
export type FrameOrigin = Pick<FrameInfo, 'origin' | 'capturedAt'>;

/** A frame a {@link FrameExporter} offered. */
export interface OfferedFrame {
  /** What travelled with its fd. */
  readonly frame: FrameInfo;
  /** How many importers took it (accepted its `FrameEvent`). */
  readonly taken: number;
}

/**
 * The exporting half of a pipeline module (the camera's, the filter's): its fd table, a
 * `GpuHeap` on its device, and a ring of frame buffers (`FrameRing`) from that heap, sized for
 * the frames it makes. {@link produce} writes a frame into a free ring slot and offers it to
 * importers as a `FrameEvent` on its target; {@link close} takes every frame back,
 * frees the buffers and destroys the heap.
 *
 * It owns the table and the heap (made by the constructor, gone after {@link close}); the
 * device stays the caller's. A module that also imports (the filter) receives its frames
 * into the same {@link table}, one table per module as one per process.
 *
 * Realm: any realm with WebGPU, the page or a worker. It needs no DOM: only `FdTable`,
 * `GpuHeap` and an `EventTarget`.
 */
export class FrameExporter {
  /** The module's fd table: its ring's fds, and the fds of frames it imports. Closed by {@link close}. */
  readonly table = new FdTable();
  readonly #device: GPUDevice;
  readonly #heap: GpuHeap;
  readonly #name: string;
  readonly #slots: number;
  readonly #target: EventTarget;
  #ring: FrameRing | undefined;
  #sequence = 0;
  #closing: Promise<void> | undefined;
  #closed: GpuHeapStats | undefined;

  /** Makes the module's table and its heap on `device`; the ring comes with the first frame. */
  constructor(device: GPUDevice, options: FrameExporterOptions) {
    this.#device = device;
    this.#heap = new GpuHeap(device, { name: options.name });
    this.#name = options.name;
    this.#slots = options.slots;
    this.#target = options.target;
  }

  /** Frames offered so far (the last one's `sequence`). */
  get sequence(): number {
    return this.#sequence;
  }

  /** The layout of the frames its ring holds, once it has made one. */
  get layout(): FrameLayout | undefined {
    return this.#ring?.layout;
  }

  /** Leases importers hold on its frames now. */
  get leases(): number {
    return this.#ring?.leases ?? 0;
  }

  /** Its heap's counts while it runs; after {@link close}, the last counts of the heap. */
  get heapStats(): GpuHeapStats {
    return this.#closed ?? this.#heap.stats();
  }

  /**
   * Makes one frame: takes a free ring slot (first making the ring for `layout` when it has
   * none of that size: the old one is freed once importers gave it all back), runs `write`
   * into it, waits for the device, and offers the frame to importers. `write` submits the GPU
   * work that writes the slot (given the frame's `capturedAt`, on this realm's `performance.now()`); a frame made from another exporter's frame passes that one's
   * `origin` (a frame of its own has its sequence as origin, captured when `produce` began).
   *
   * Resolves with the frame and how many importers took it, or `undefined`, with nothing
   * written, when every slot is held by importers or being written: the caller drops it.
   * Calls may overlap while the frame size stays the same; a frame of a new size waits
   * until every frame before it is given back.
   * @throws whatever `write` or the device threw (the slot is given back unwritten); an
   *   `Error` after {@link close}.
   */
  async produce(layout: FrameLayout, write: (dst: GPUBufferBinding, capturedAt: number) => Promise<void> | void, origin?: FrameOrigin): Promise<OfferedFrame | undefined> {
    const capturedAt = origin?.capturedAt ?? performance.now();
    const ring = await this.#ringFor(layout);
    const slot = await ring.acquire();
    if (!slot) return undefined;
    try {
      await write(frameBinding(slot.sgt), capturedAt);
      await this.#device.queue.onSubmittedWorkDone();
    } catch (error) {
      await ring.abandon(slot);
      throw error;
    }
    this.#sequence += 1;
    const frame: FrameInfo = { layout, sequence: this.#sequence, origin: origin?.origin ?? this.#sequence, capturedAt, exporter: this.#name };
    return { frame, taken: await ring.publish(slot, frame, this.#target) };
  }

  /**
   * Stops exporting: asks importers for every frame back (each lease's `signal` aborts),
   * waits until all are given back and no slot is being written, frees the ring, closes
   * every fd of {@link table} and destroys the heap. Stop producing (and importing into the
   * table) first. Calls after the first return the first one's promise.
   * @throws {DmaBufError} `EBUSY` from the heap when a buffer of it is still referenced
   *   elsewhere (an importer that kept a reference past its lease).
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const ring = this.#ring;
    this.#ring = undefined;
    if (ring) {
      ring.revoke();
      await ring.idle();
      ring.dispose();
    }
    this.table.closeAll();
    // Every buffer is put by now: free the heap's pools and stop it following the device.
    this.#heap.destroy();
    this.#closed = this.#heap.stats();
  }

  async #ringFor(layout: FrameLayout): Promise<FrameRing> {
    if (this.#closing) throw new DmabufElementError('ENOTRUNNING', 'FrameExporter.produce', `${this.#name} is closed`);
    const current = this.#ring;
    if (current && current.layout.width === layout.width && current.layout.height === layout.height && current.layout.byteLength === layout.byteLength) return current;
    if (current) {
      await current.idle();
      current.dispose();
    }
    this.#ring = new FrameRing(this.#heap, this.table, layout, this.#slots, `${this.#name} frame`);
    return this.#ring;
  }
}
