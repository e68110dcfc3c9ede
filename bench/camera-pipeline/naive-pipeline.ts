/**
 * The camera pipeline's naive baseline: what modules on independent devices do without a
 * buffer-sharing layer. The camera module reads each frame back to the CPU (a copy into a
 * `MAP_READ` buffer and `mapAsync`) and hands the bytes over; the filter module uploads them
 * to its device (`writeBuffer`), runs the same effect kernel, and reads its result back in
 * turn; the view module uploads that and draws it on its canvas with the same blit kernel.
 * Each module keeps and reuses its own buffers and takes the newest frame while it is busy,
 * through the same mailbox as the dma-buf modules' inboxes, so the stages overlap as theirs do.
 */
import { FdTable } from 'webgpu-dmabuf';
import { FrameBlit, frameBinding, FrameEffectKernel, FrameInbox, NewestMailbox, type DmabufCamera, type FrameEffect, type FrameLayout, type InboxFrame } from 'webgpu-dmabuf/elements';

/** A frame as bytes in CPU memory, on its way from one module to the next. */
interface CpuFrame {
  readonly layout: FrameLayout;
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** When the camera captured it (`performance.now()`). */
  readonly capturedAt: number;
}

const STORAGE_IN = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
const STORAGE_OUT = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
const READBACK = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;

/** One device's buffers of one frame size, made again when the size changes. */
class FrameBuffers {
  readonly #device: GPUDevice;
  readonly #name: string;
  readonly #usages: readonly number[];
  #size = 0;
  #buffers: GPUBuffer[] = [];

  constructor(device: GPUDevice, name: string, usages: readonly number[]) {
    this.#device = device;
    this.#name = name;
    this.#usages = usages;
  }

  /** The buffers, in the order of the usages, each `size` bytes. */
  get(size: number): readonly GPUBuffer[] {
    if (size !== this.#size) {
      this.destroy();
      this.#size = size;
      this.#buffers = this.#usages.map((usage, i) => this.#device.createBuffer({ label: `${this.#name} ${i}`, size, usage }));
    }
    return this.#buffers;
  }

  destroy(): void {
    for (const buffer of this.#buffers.splice(0)) buffer.destroy();
    this.#size = 0;
  }
}

/** Copies `size` bytes of `src` into `readback`, maps it and returns a copy of them. */
async function readBack(device: GPUDevice, encoder: GPUCommandEncoder, src: GPUBufferBinding, readback: GPUBuffer, size: number): Promise<Uint8Array<ArrayBuffer>> {
  encoder.copyBufferToBuffer(src.buffer, src.offset ?? 0, readback, 0, size);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ, 0, size);
  try {
    return new Uint8Array(readback.getMappedRange(0, size).slice(0));
  } finally {
    readback.unmap();
  }
}

/** The devices of the naive pipeline: the camera's, the filter's and the view's. */
export interface NaiveDevices {
  readonly camera: GPUDevice;
  readonly filter: GPUDevice;
  readonly view: GPUDevice;
}

/**
 * The baseline pipeline behind a running `<dmabuf-camera>` on `devices.camera`: readback,
 * upload, filter, readback, upload, draw on `canvas`. Counts what it shows, drops and copies.
 * The caller owns the devices and the canvas; {@link stop} frees everything else.
 */
export class NaivePipeline {
  /** Frames drawn on the canvas. */
  shown = 0;
  /** Capture-to-screen ms of each frame drawn, in order: from the camera's capture to the draw submitted. */
  readonly latencies: number[] = [];
  /** Bytes read back to the CPU and uploaded again (each hop counted once, as the heap counts a cross-device map). */
  bytesCopied = 0;
  /** Set when a stage failed; the pipeline stops taking frames. */
  error: unknown;
  readonly #table = new FdTable();
  readonly #inbox: FrameInbox;
  readonly #filter: NewestMailbox<CpuFrame>;
  readonly #view: NewestMailbox<CpuFrame>;
  readonly #cameraBuffers: FrameBuffers;
  readonly #filterBuffers: FrameBuffers;
  readonly #viewBuffers: FrameBuffers;
  readonly #effect: FrameEffectKernel;
  readonly #blit: FrameBlit;
  readonly #context: GPUCanvasContext;
  #dropped = 0;

  /**
   * @throws {Error} when `canvas` gives no WebGPU context.
   */
  constructor(camera: DmabufCamera, devices: NaiveDevices, canvas: HTMLCanvasElement, effect: FrameEffect) {
    const context = canvas.getContext('webgpu');
    if (!context) throw new Error('NaivePipeline: the canvas gives no WebGPU context');
    const format = navigator.gpu.getPreferredCanvasFormat();
    context.configure({ device: devices.view, format, alphaMode: 'opaque' });
    this.#context = context;
    this.#cameraBuffers = new FrameBuffers(devices.camera, 'naive camera readback', [READBACK]);
    this.#filterBuffers = new FrameBuffers(devices.filter, 'naive filter', [STORAGE_IN, STORAGE_OUT, READBACK]);
    this.#viewBuffers = new FrameBuffers(devices.view, 'naive view', [STORAGE_IN]);
    this.#effect = new FrameEffectKernel(devices.filter);
    this.#blit = new FrameBlit(devices.view, format);
    const hooks = { onDrop: () => { this.#dropped += 1; }, onError: (error: unknown) => { this.error ??= error; } };
    this.#view = new NewestMailbox((frame) => this.#draw(devices.view, canvas, frame), hooks);
    this.#filter = new NewestMailbox((frame) => this.#applyEffect(devices.filter, effect, frame), hooks);
    this.#inbox = new FrameInbox(this.#table, devices.camera, (frame) => this.#readCamera(devices.camera, frame), hooks.onDrop, hooks.onError);
    this.#inbox.listen(camera);
  }

  /** Frames let go at any stage because a newer one came while it was busy. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Stops taking frames, waits for the stages, frees its buffers and kernels. */
  async stop(): Promise<void> {
    await this.#inbox.stop();
    await this.#filter.stop();
    await this.#view.stop();
    this.#table.closeAll();
    this.#context.unconfigure();
    this.#effect.destroy();
    this.#blit.destroy();
    for (const buffers of [this.#cameraBuffers, this.#filterBuffers, this.#viewBuffers]) buffers.destroy();
  }

  /** The camera module: its own frame, on its own device, read back to the CPU. */
  async #readCamera(device: GPUDevice, { lease, import: frameImport }: InboxFrame): Promise<boolean> {
    const { layout } = lease.frame;
    const [readback] = this.#cameraBuffers.get(layout.byteLength);
    if (!readback) throw new Error('NaivePipeline: no readback buffer');
    // The copy is submitted before the frame is unmapped; the read resolves after.
    const bytes = await frameImport.use((sgt) => readBack(device, device.createCommandEncoder({ label: 'naive camera readback' }), frameBinding(sgt), readback, layout.byteLength));
    this.bytesCopied += layout.byteLength;
    this.#filter.offer({ layout, bytes, capturedAt: lease.frame.capturedAt });
    return false;
  }

  /** The filter module: upload, effect, read back. */
  async #applyEffect(device: GPUDevice, effect: FrameEffect, { layout, bytes, capturedAt }: CpuFrame): Promise<void> {
    const [input, output, readback] = this.#filterBuffers.get(layout.byteLength);
    if (!input || !output || !readback) throw new Error('NaivePipeline: no filter buffers');
    device.queue.writeBuffer(input, 0, bytes);
    const encoder = device.createCommandEncoder({ label: `naive filter ${effect}` });
    this.#effect.encode(encoder, effect, { buffer: input }, { buffer: output }, layout);
    const filtered = await readBack(device, encoder, { buffer: output }, readback, layout.byteLength);
    this.bytesCopied += layout.byteLength;
    this.#view.offer({ layout, bytes: filtered, capturedAt });
  }

  /** The view module: upload and draw. */
  async #draw(device: GPUDevice, canvas: HTMLCanvasElement, { layout, bytes, capturedAt }: CpuFrame): Promise<void> {
    const [input] = this.#viewBuffers.get(layout.byteLength);
    if (!input) throw new Error('NaivePipeline: no view buffer');
    if (canvas.width !== layout.width || canvas.height !== layout.height) {
      canvas.width = layout.width;
      canvas.height = layout.height;
    }
    device.queue.writeBuffer(input, 0, bytes);
    const encoder = device.createCommandEncoder({ label: 'naive view' });
    this.#blit.encode(encoder, { buffer: input }, layout, this.#context.getCurrentTexture().createView());
    device.queue.submit([encoder.finish()]);
    // Where the dmabuf view takes its latency too: its draw submitted.
    const latency = performance.now() - capturedAt;
    await device.queue.onSubmittedWorkDone();
    this.latencies.push(latency);
    this.shown += 1;
  }
}
