// The renderer as an independent module: its own device and fd table. It gets the particle
// buffers only as fds, attaches its device to them, and for each frame maps the buffer to
// draw 'to-device' (the heap copies the particles onto this device), draws, and unmaps.
import { FdTable, requestGpuDevice, type DmaBuf, type DmaBufAttachment } from 'webgpu-dmabuf';
import { particleRange } from './particle-range.js';
import { releaseAll } from './release-all.js';
import { BoidsRenderer } from './renderer.js';

/** One imported particle buffer: this module's reference and its device's attachment. */
interface Imported {
  readonly buf: DmaBuf;
  readonly attachment: DmaBufAttachment;
}

/** The importer that draws the flock. */
export class RendererModule {
  readonly device: GPUDevice;
  readonly table = new FdTable();
  readonly #renderer: BoidsRenderer;
  readonly #imported: Imported[] = [];

  private constructor(device: GPUDevice, canvas: HTMLCanvasElement | undefined) {
    this.device = device;
    this.#renderer = new BoidsRenderer(device, canvas);
  }

  /**
   * A module with a device of its own, drawing also into `canvas` when given. The caller
   * closes it.
   * @throws {DmaBufError} `ENODEV` without WebGPU; {@link BoidsRenderer}'s errors.
   */
  static async start(canvas?: HTMLCanvasElement): Promise<RendererModule> {
    const device = await requestGpuDevice({ label: 'boids renderer' });
    try {
      return new RendererModule(device, canvas);
    } catch (error) {
      device.destroy();
      throw error;
    }
  }

  /**
   * Takes the particle buffers behind `fds` (in this module's table) as buffers 0, 1, …:
   * one reference each (`dma_buf_get`) and an attachment of this module's device, kept until
   * {@link close}, so the heap keeps one mirror per buffer on this device across frames.
   * @throws {DmaBufError} `EBADF` for an fd not open in {@link table}.
   */
  importParticles(fds: readonly number[]): void {
    for (const fd of fds) {
      const buf = this.table.get(fd);
      // The renderer says what it draws with: a mirror on this device gets VERTEX whatever the exporter chose.
      this.#imported.push({ buf, attachment: buf.attach(this.device, { usage: GPUBufferUsage.VERTEX }) });
    }
  }

  /**
   * Draws buffer `index` as it is now: map `'to-device'`, draw, unmap. Settles when the
   * drawing is done on this device.
   * @throws {RangeError} for an index not imported; what map throws (`ENODEV`, …).
   */
  async draw(index: number): Promise<void> {
    const imported = this.#imported[index];
    if (!imported) throw new RangeError(`draw: no particle buffer ${String(index)} imported`);
    const { attachment } = imported;
    const sgt = await attachment.map('to-device');
    try {
      const encoder = this.device.createCommandEncoder();
      this.#renderer.encodeDraw(encoder, particleRange(sgt, 'renderer'));
      this.device.queue.submit([encoder.finish()]);
    } finally {
      // The draw is queued: the mirror's next update (the next map) comes after it in queue order.
      await attachment.unmap(sgt, 'to-device');
    }
    await this.device.queue.onSubmittedWorkDone();
  }

  /** See {@link BoidsRenderer.readPixels}. */
  readPixels(): Promise<Uint8Array> {
    return this.#renderer.readPixels();
  }

  /**
   * Detaches and puts every imported buffer, closes its fds, destroys its target and its
   * device, each even when an earlier one failed.
   * @throws {DmaBufError} what detach or put throws (`EBUSY` with a draw under way).
   */
  close(): void {
    releaseAll([
      ...this.#imported.splice(0).map(({ buf, attachment }) => () => {
        try {
          buf.detach(attachment);
        } finally {
          buf.put();
        }
      }),
      () => { this.table.closeAll(); },
      () => { this.#renderer.destroy(); },
      () => { this.device.destroy(); },
    ]);
  }
}
