/**
 * The ML module's work, without an element: on its device, it imports each frame of its
 * source as a TensorFlow.js tensor through the frame's fd (`importTensor`: zero-copy on a
 * shared device, one `'to-device'` map on a device of its own), runs the model
 * ({@link maskOverFrame}), and offers the frame with the mask tinted over it to its own
 * importers, through a `FrameExporter` of its own.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type * as tf from '@tensorflow/tfjs-core';
import { FrameEvent, FrameExporter, type FrameLease } from 'webgpu-dmabuf/elements';
import { importTensor } from 'webgpu-dmabuf/tfjs';
import { maskOverFrame } from './mask-model.js';

/** Slots in its ring: one being written, up to three held by a view. */
const RING_SLOTS = 4;

/** What the module reports to the element that hosts it. */
export interface MaskModuleHost {
  frameDone(frameMs: number, exporter: FrameExporter): void;
  frameDropped(): void;
  fail(error: unknown): void;
}

export class MaskModule {
  readonly #device: GPUDevice;
  readonly #backend: WebGPUBackend;
  readonly #source: EventTarget;
  readonly #host: MaskModuleHost;
  readonly #exporter: FrameExporter;
  /** The frame being worked on, and the newest one waiting (an older waiting one is let go). */
  #busy: Promise<void> | undefined;
  #waiting: FrameLease | undefined;
  #stopped = false;
  readonly #onFrame = (event: Event) => {
    if (this.#stopped || !(event instanceof FrameEvent)) return;
    const lease = event.accept(this.#exporter.table);
    if (this.#waiting) {
      this.#waiting.release();
      this.#host.frameDropped();
    }
    this.#waiting = lease;
    this.#busy ??= this.#drain();
  };

  /** Makes its fd table and heap on `device` (TensorFlow.js's active backend runs there) and begins taking `source`'s frames; frames it makes are dispatched on `target`. */
  constructor(device: GPUDevice, backend: WebGPUBackend, source: EventTarget, target: EventTarget, host: MaskModuleHost) {
    this.#device = device;
    this.#backend = backend;
    this.#source = source;
    this.#host = host;
    this.#exporter = new FrameExporter(device, { name: 'ml mask', slots: RING_SLOTS, target });
    source.addEventListener('dmabuf-frame', this.#onFrame);
  }

  /** Stops: takes no more frames, finishes the one in progress, lets the waiting one go and takes every frame it lent back. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#source.removeEventListener('dmabuf-frame', this.#onFrame);
    this.#waiting?.release();
    this.#waiting = undefined;
    await this.#busy;
    await this.#exporter.close();
  }

  async #drain(): Promise<void> {
    for (let lease = this.#waiting; lease && !this.#stopped; lease = this.#waiting) {
      this.#waiting = undefined;
      try {
        await this.#process(lease);
      } catch (error) {
        this.#host.fail(error);
      } finally {
        lease.release();
      }
    }
    this.#busy = undefined;
  }

  async #process(lease: FrameLease): Promise<void> {
    const started = performance.now();
    const { layout } = lease.frame;
    const buf = this.#exporter.table.get(lease.fd);
    let pixels: tf.Tensor2D;
    try {
      // The tensor holds the frame (a reference of the adapter's own) until it is disposed
      // and the work that read it has run: the camera writes that slot again only then.
      pixels = await importTensor(buf, this.#backend, { shape: [layout.height, layout.width], dtype: 'int32' });
    } finally {
      buf.put();
    }
    let composite: tf.Tensor2D;
    try {
      const masked = maskOverFrame(pixels);
      masked.mask.dispose();
      composite = masked.composite;
    } finally {
      pixels.dispose();
    }
    try {
      const offered = await this.#exporter.produce(layout, (dst) => {
        // TensorFlow.js's own way to its bytes on the GPU: a buffer of the result it submits first.
        const data = composite.dataToGPU();
        try {
          if (!data.buffer) throw new Error('TensorFlow.js gave no GPU buffer for the result');
          const encoder = this.#device.createCommandEncoder({ label: 'ml mask: result into the frame' });
          encoder.copyBufferToBuffer(data.buffer, 0, dst.buffer, dst.offset ?? 0, layout.byteLength);
          this.#device.queue.submit([encoder.finish()]);
        } finally {
          data.tensorRef.dispose();
        }
      }, lease.frame);
      if (offered) this.#host.frameDone(performance.now() - started, this.#exporter);
      else this.#host.frameDropped();
    } finally {
      composite.dispose();
    }
  }
}
