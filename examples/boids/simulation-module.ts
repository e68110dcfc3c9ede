// The simulation as an independent module: its own device, heap and fd table. It exports the
// two ping-pong particle buffers and steps the flock in them on its own device, where its
// maps are zero-copy; whoever draws the flock gets the buffers only as fds.
import { FdTable, GpuHeap, requestGpuDevice, type DmaBufAttachment, type GpuDmaBuf, type GpuStorage } from 'webgpu-dmabuf';
import { initialParticles } from './initial-particles.js';
import { PARTICLES_SIZE } from './params.js';
import { particleRange } from './particle-range.js';
import { releaseAll } from './release-all.js';
import { BoidsSimulation } from './simulation.js';

/** The exporter of the particle buffers, stepping the flock in them. */
export class SimulationModule {
  readonly device: GPUDevice;
  readonly heap: GpuHeap;
  readonly table = new FdTable();
  /** The particle buffers' fds in {@link table}, buffer 0 first. */
  readonly fds: readonly [number, number];
  readonly #simulation: BoidsSimulation;
  readonly #buffers: readonly [GpuDmaBuf, GpuDmaBuf];
  readonly #attachments: readonly [DmaBufAttachment<GpuStorage>, DmaBufAttachment<GpuStorage>];
  #latest: 0 | 1 = 0;

  private constructor(device: GPUDevice) {
    this.device = device;
    this.heap = new GpuHeap(device, { name: 'boids-simulation' });
    this.#simulation = new BoidsSimulation(device);
    // One segment on every device (the shaders bind the flock whole), with VERTEX on top of
    // the heap's STORAGE: the renderer draws straight from the buffer, or from its mirror.
    const allocate = (name: string) => this.heap.allocate(PARTICLES_SIZE, { name, contiguous: true, usage: GPUBufferUsage.VERTEX });
    this.#buffers = [allocate('particles 0'), allocate('particles 1')];
    // The module keeps its allocation references for its own work; the table holds its own.
    this.fds = [this.table.install(this.#buffers[0]), this.table.install(this.#buffers[1])];
    this.#attachments = [this.#buffers[0].attach(device), this.#buffers[1].attach(device)];
  }

  /**
   * A module with a device of its own and the flock at frame 0 in buffer 0 (buffer 1 zeros).
   * The caller closes it.
   * @throws {DmaBufError} `ENODEV` without WebGPU; what the first CPU access throws.
   */
  static async start(): Promise<SimulationModule> {
    const device = await requestGpuDevice({ label: 'boids simulation' });
    let module: SimulationModule | undefined;
    try {
      module = new SimulationModule(device);
      await module.#upload();
      return module;
    } catch (error) {
      // The start's own failure is the one worth reporting, not a teardown's.
      try {
        if (module) module.close();
        else device.destroy();
      } catch {
        // Nothing more to free.
      }
      throw error;
    }
  }

  /**
   * Steps the flock once on this module's device, from the latest buffer into the other.
   * @returns the index of the buffer now holding the latest state.
   */
  async step(): Promise<0 | 1> {
    const from = this.#latest;
    const to = from === 0 ? 1 : 0;
    // On the exporter's own device the maps hand over the storage itself; the directions tell
    // the buffers' reservations that this step reads one and writes the other. Nested, so that
    // a failed map leaves no other mapping outstanding.
    const reading = this.#attachments[from];
    const writing = this.#attachments[to];
    const current = await reading.map('to-device');
    try {
      const next = await writing.map('from-device');
      try {
        const encoder = this.device.createCommandEncoder();
        this.#simulation.encodeStep(encoder, particleRange(current, 'simulation'), particleRange(next, 'simulation'));
        this.device.queue.submit([encoder.finish()]);
      } finally {
        await writing.unmap(next, 'from-device');
      }
    } finally {
      await reading.unmap(current, 'to-device');
    }
    this.#latest = to;
    return to;
  }

  /**
   * Both buffers' bytes, buffer 0 first, read through CPU access as the exporter's module
   * would inspect its own buffers.
   * @returns new arrays the caller owns.
   */
  async readParticles(): Promise<Uint8Array[]> {
    return Promise.all(this.#buffers.map(async (buf) => {
      await buf.beginCpuAccess(0, PARTICLES_SIZE, 'from-device');
      const view = buf.vmap();
      const bytes = view.slice();
      buf.vunmap(view);
      buf.endCpuAccess(0, PARTICLES_SIZE, 'from-device');
      return bytes;
    }));
  }

  /**
   * Detaches, puts its references, closes its fds, destroys the heap and the device, each
   * even when an earlier one failed. Every importer must have put its references first: the
   * heap refuses to go while buffers live.
   * @throws {DmaBufError} `EBUSY` when another module still holds a buffer.
   */
  close(): void {
    releaseAll([
      ...this.#buffers.map((buf, i) => () => {
        try {
          const attachment = this.#attachments[i];
          if (attachment) buf.detach(attachment);
        } finally {
          buf.put();
        }
      }),
      () => { this.table.closeAll(); },
      () => { this.#simulation.destroy(); },
      () => { this.heap.destroy(); },
      () => { this.device.destroy(); },
    ]);
  }

  /** Writes the initial flock into buffer 0 through CPU access, as any exporter fills a buffer it made. */
  async #upload(): Promise<void> {
    const buf = this.#buffers[0];
    await buf.beginCpuAccess(0, PARTICLES_SIZE, 'to-device');
    const view = buf.vmap();
    view.set(new Uint8Array(initialParticles().buffer));
    buf.vunmap(view);
    buf.endCpuAccess(0, PARTICLES_SIZE, 'to-device');
  }
}
