import type { GpuHeapStats } from 'webgpu-dmabuf';
import { FrameExporter } from '../frame/frame-exporter.js';
import { FrameInbox, type InboxFrame } from '../frame/frame-inbox.js';
import { frameBinding } from '../kernels/frame-buffer.js';
import { FrameEffectKernel, type FrameEffect } from '../kernels/frame-effect.js';
import type { ModuleHost } from '../module/module-host.js';

/** Slots in the ring: one being written, up to three held by a view (on screen, being drawn, waiting). */
const RING_SLOTS = 4;

/** How a {@link FilterModule} is set up. */
export interface FilterModuleOptions {
  /** The module's name: its heap's and buffers' names, and the `exporter` of its frames. */
  readonly name: string;
  /** Where its source's `FrameEvent`s are dispatched (a camera, another filter). */
  readonly source: EventTarget;
  /**
   * Where it dispatches its own `FrameEvent`s, which its importers listen on: the element
   * that hosts it; by default an `EventTarget` of its own ({@link FilterModule.target}).
   */
  readonly target?: EventTarget;
  /** The effect it starts with. */
  readonly effect: FrameEffect;
  /** Where it reports frames done and dropped, and its failure. */
  readonly host: ModuleHost;
}

/**
 * The filter's work, without an element: on its device, it imports each frame of its source
 * through its inbox (`'to-device'` maps), runs {@link effect} in a compute shader, writes the
 * result into a frame buffer of its own {@link FrameExporter} and offers it to its own
 * importers on {@link target}. A frame that finds no free ring slot is dropped.
 *
 * The constructor starts it (listening to the source); {@link close} stops it and frees its
 * table, heap and kernel. The device stays the caller's.
 *
 * Realm: any realm with WebGPU, the page or a worker: it needs no DOM, only `EventTarget`s.
 */
export class FilterModule {
  /** The effect applied to the next frame; set it at any time. */
  effect: FrameEffect;
  /** Where it dispatches its `FrameEvent`s: the one given, or an `EventTarget` of its own. */
  readonly target: EventTarget;
  readonly #device: GPUDevice;
  readonly #host: ModuleHost;
  readonly #exporter: FrameExporter;
  readonly #kernel: FrameEffectKernel;
  readonly #inbox: FrameInbox;

  /** Makes its table, heap and kernel on `device` and begins taking `options.source`'s frames. */
  constructor(device: GPUDevice, options: FilterModuleOptions) {
    this.#device = device;
    this.effect = options.effect;
    this.target = options.target ?? new EventTarget();
    this.#host = options.host;
    this.#exporter = new FrameExporter(device, { name: options.name, slots: RING_SLOTS, target: this.target });
    this.#kernel = new FrameEffectKernel(device);
    const { host } = options;
    this.#inbox = new FrameInbox(this.#exporter.table, device, (frame) => this.#process(frame), () => { host.frameDropped(); }, (error) => { host.fail(error); });
    this.#inbox.listen(options.source);
  }

  /** Its heap's counts while it runs; after {@link close}, the last counts of the heap. */
  get heapStats(): GpuHeapStats {
    return this.#exporter.heapStats;
  }

  /**
   * Stops: takes no more frames, waits for the one in progress, takes every frame it lent
   * back (see {@link FrameExporter.close}), then frees its kernel.
   * @throws whatever {@link FrameExporter.close} throws.
   */
  async close(): Promise<void> {
    await this.#inbox.stop();
    try {
      await this.#exporter.close();
    } finally {
      this.#kernel.destroy();
    }
  }

  async #process({ lease, import: frameImport }: InboxFrame): Promise<boolean> {
    const started = performance.now();
    const device = this.#device;
    const { layout } = lease.frame;
    let effect = this.effect;
    const offered = await this.#exporter.produce(layout, async (dst) => {
      // Read once a slot is free: the effect chosen while it waited applies.
      effect = this.effect;
      await frameImport.use((sgt) => {
        const encoder = device.createCommandEncoder({ label: `filter ${effect}` });
        this.#kernel.encode(encoder, effect, frameBinding(sgt), dst, layout);
        device.queue.submit([encoder.finish()]);
      });
    }, lease.frame);
    if (offered) this.#host.frameDone(performance.now() - started, this.#exporter.heapStats, effect);
    else this.#host.frameDropped();
    return false;
  }
}
