// The flock across two modules, each on its own device: the simulation exports the particle
// buffers, their fds travel to the renderer's table, and each frame the renderer draws the
// buffer the simulation just wrote. Nothing but fds crosses between the modules.
import type { GpuHeap } from 'webgpu-dmabuf';
import type { BoidsProgram } from './boids-program.js';
import { releaseAll } from './release-all.js';
import { RendererModule } from './renderer-module.js';
import { SimulationModule } from './simulation-module.js';

/** {@link BoidsProgram} on two devices, through fds. */
class SharedProgram implements BoidsProgram {
  readonly mode = 2;
  readonly devices: readonly GPUDevice[];
  readonly #simulation: SimulationModule;
  readonly #renderer: RendererModule;
  #frame = 0;
  #closed = false;

  constructor(simulation: SimulationModule, renderer: RendererModule) {
    this.#simulation = simulation;
    this.#renderer = renderer;
    this.devices = [simulation.device, renderer.device];
  }

  get heap(): GpuHeap {
    return this.#simulation.heap;
  }

  get frame(): number {
    return this.#frame;
  }

  get bytesCopied(): number {
    return this.#simulation.heap.stats().bytesCopied;
  }

  async step(): Promise<void> {
    const latest = await this.#simulation.step();
    await this.#renderer.draw(latest);
    this.#frame += 1;
  }

  readParticles(): Promise<Uint8Array[]> {
    return this.#simulation.readParticles();
  }

  readPixels(): Promise<Uint8Array> {
    return this.#renderer.readPixels();
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    try {
      // The importer lets go first: the exporter's heap can go only once every buffer is put.
      releaseAll([() => { this.#renderer.close(); }, () => { this.#simulation.close(); }]);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return Promise.resolve();
  }
}

/**
 * Starts the two modules, each with a device of its own, and passes the particle buffers'
 * fds from the simulation's table to the renderer's (frame 0, nothing drawn yet). The
 * renderer draws also into `canvas` when given. The caller closes the program.
 * @throws {DmaBufError} `ENODEV` when the page has no WebGPU; what the modules' starts throw.
 */
export async function startShared(canvas?: HTMLCanvasElement): Promise<BoidsProgram> {
  const simulation = await SimulationModule.start();
  let renderer: RendererModule | undefined;
  try {
    renderer = await RendererModule.start(canvas);
    const target = renderer.table;
    // Like SCM_RIGHTS: the renderer's table gets fds of its own, each holding its own reference.
    renderer.importParticles(simulation.fds.map((fd) => simulation.table.send(fd, target)));
    return new SharedProgram(simulation, renderer);
  } catch (error) {
    const started = renderer;
    try {
      releaseAll([() => started?.close(), () => { simulation.close(); }]);
    } catch {
      // The start's own failure is the one worth reporting.
    }
    throw error;
  }
}
