import { SIMULATION_WGSL } from './boids.wgsl.js';
import { PARTICLE_COUNT, PARTICLES_SIZE, rulesData } from './params.js';

/**
 * Where one particle array lies: `PARTICLES_SIZE` bytes of `buffer` from `offset`, what a
 * bind group entry or a vertex buffer slot takes.
 */
export interface ParticleRange {
  readonly buffer: GPUBuffer;
  readonly offset: number;
}

/**
 * The flock's compute pipeline on one device, with its rules in a uniform buffer. It knows
 * nothing of where the particle buffers come from: plain buffers (the reference) and mapped
 * dma-buf segments (the two-device program) are stepped by the same code.
 */
export class BoidsSimulation {
  readonly device: GPUDevice;
  readonly #pipeline: GPUComputePipeline;
  readonly #rules: GPUBuffer;

  /** Compiles the pipeline on `device` and uploads the rules. The caller keeps the device. */
  constructor(device: GPUDevice) {
    this.device = device;
    const module = device.createShaderModule({ label: 'boids simulation', code: SIMULATION_WGSL });
    this.#pipeline = device.createComputePipeline({ label: 'boids simulation', layout: 'auto', compute: { module, entryPoint: 'step' } });
    this.#rules = device.createBuffer({ label: 'boids rules', size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(this.#rules, 0, rulesData());
  }

  /**
   * Records one step on `encoder`: reads `current`, writes `next` (distinct buffers with
   * STORAGE usage).
   */
  encodeStep(encoder: GPUCommandEncoder, current: ParticleRange, next: ParticleRange): void {
    const bindGroup = this.device.createBindGroup({
      layout: this.#pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.#rules } },
        // arrayLength() in the shader counts the flock by these sizes.
        { binding: 1, resource: { buffer: current.buffer, offset: current.offset, size: PARTICLES_SIZE } },
        { binding: 2, resource: { buffer: next.buffer, offset: next.offset, size: PARTICLES_SIZE } },
      ],
    });
    const pass = encoder.beginComputePass({ label: 'boids step' });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(PARTICLE_COUNT / 64));
    pass.end();
  }

  /** Frees the uniform buffer; the device stays the caller's. */
  destroy(): void {
    this.#rules.destroy();
  }
}
