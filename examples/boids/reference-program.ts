// The flock on one device without the library: plain GPUBuffers, one queue. It is what the
// two-device program must match byte for byte.
import { requestGpuDevice } from 'webgpu-dmabuf';
import type { BoidsProgram } from './boids-program.js';
import { initialParticles } from './initial-particles.js';
import { PARTICLES_SIZE } from './params.js';
import { BoidsRenderer } from './renderer.js';
import { BoidsSimulation, type ParticleRange } from './simulation.js';

/** {@link BoidsProgram} on a single device. */
class ReferenceProgram implements BoidsProgram {
  readonly mode = 1;
  readonly heap = undefined;
  readonly bytesCopied = 0;
  readonly devices: readonly GPUDevice[];
  readonly #device: GPUDevice;
  readonly #simulation: BoidsSimulation;
  readonly #renderer: BoidsRenderer;
  readonly #particles: readonly [GPUBuffer, GPUBuffer];
  #frame = 0;
  #closed = false;

  constructor(device: GPUDevice, canvas: HTMLCanvasElement | undefined) {
    this.#device = device;
    this.devices = [device];
    this.#simulation = new BoidsSimulation(device);
    this.#renderer = new BoidsRenderer(device, canvas);
    // The usage the two-device program's heap gives its storage: the same kind of buffer.
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.#particles = [
      device.createBuffer({ label: 'particles 0', size: PARTICLES_SIZE, usage }),
      device.createBuffer({ label: 'particles 1', size: PARTICLES_SIZE, usage }),
    ];
    device.queue.writeBuffer(this.#particles[0], 0, initialParticles());
  }

  get frame(): number {
    return this.#frame;
  }

  async step(): Promise<void> {
    const [current, next] = this.#frame % 2 === 0 ? this.#particles : [this.#particles[1], this.#particles[0]];
    const encoder = this.#device.createCommandEncoder();
    this.#simulation.encodeStep(encoder, whole(current), whole(next));
    this.#renderer.encodeDraw(encoder, whole(next));
    this.#device.queue.submit([encoder.finish()]);
    this.#frame += 1;
    await this.#device.queue.onSubmittedWorkDone();
  }

  async readParticles(): Promise<Uint8Array[]> {
    const readback = this.#device.createBuffer({ label: 'particles readback', size: 2 * PARTICLES_SIZE, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = this.#device.createCommandEncoder();
      encoder.copyBufferToBuffer(this.#particles[0], 0, readback, 0, PARTICLES_SIZE);
      encoder.copyBufferToBuffer(this.#particles[1], 0, readback, PARTICLES_SIZE, PARTICLES_SIZE);
      this.#device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const bytes = readback.getMappedRange();
      return [new Uint8Array(bytes.slice(0, PARTICLES_SIZE)), new Uint8Array(bytes.slice(PARTICLES_SIZE))];
    } finally {
      readback.destroy();
    }
  }

  readPixels(): Promise<Uint8Array> {
    return this.#renderer.readPixels();
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const buffer of this.#particles) buffer.destroy();
    this.#renderer.destroy();
    this.#simulation.destroy();
    this.#device.destroy();
    return Promise.resolve();
  }
}

function whole(buffer: GPUBuffer): ParticleRange {
  return { buffer, offset: 0 };
}

/**
 * Starts the flock on one device of its own (frame 0, nothing drawn yet), drawing also into
 * `canvas` when given. The caller closes the program.
 * @throws {DmaBufError} `ENODEV` when the page has no WebGPU.
 */
export async function startReference(canvas?: HTMLCanvasElement): Promise<BoidsProgram> {
  const device = await requestGpuDevice({ label: 'boids device' });
  try {
    return new ReferenceProgram(device, canvas);
  } catch (error) {
    device.destroy();
    throw error;
  }
}
