import { RENDER_WGSL } from './boids.wgsl.js';
import { CLEAR_COLOR, PARTICLE_BYTES, PARTICLE_COUNT, PARTICLES_SIZE, TARGET_FORMAT, TARGET_SIZE } from './params.js';
import type { ParticleRange } from './simulation.js';

/**
 * The flock's render pipeline on one device: instanced darts into a fixed-size texture
 * (`TARGET_SIZE` square, `TARGET_FORMAT`), which a canvas, when given, shows a copy of. The
 * texture, not the canvas, is what is drawn into, so the pixels can be read back exactly.
 */
export class BoidsRenderer {
  readonly device: GPUDevice;
  readonly #pipeline: GPURenderPipeline;
  readonly #target: GPUTexture;
  readonly #canvas: GPUCanvasContext | undefined;

  /**
   * Compiles the pipeline and makes the target on `device`; configures `canvas` (if any) on
   * that device. The caller keeps the device and the canvas.
   * @throws {Error} when the canvas gives no WebGPU context.
   */
  constructor(device: GPUDevice, canvas?: HTMLCanvasElement) {
    this.device = device;
    const module = device.createShaderModule({ label: 'boids render', code: RENDER_WGSL });
    this.#pipeline = device.createRenderPipeline({
      label: 'boids render',
      layout: 'auto',
      vertex: {
        module,
        entryPoint: 'dart',
        buffers: [
          {
            arrayStride: PARTICLE_BYTES,
            stepMode: 'instance',
            attributes: [
              { shaderLocation: 0, offset: 0, format: 'float32x2' },
              { shaderLocation: 1, offset: 8, format: 'float32x2' },
            ],
          },
        ],
      },
      fragment: { module, entryPoint: 'fill', targets: [{ format: TARGET_FORMAT }] },
      primitive: { topology: 'triangle-list' },
    });
    this.#target = device.createTexture({
      label: 'boids target',
      size: [TARGET_SIZE, TARGET_SIZE],
      format: TARGET_FORMAT,
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    });
    if (canvas) {
      const context = canvas.getContext('webgpu');
      if (!context) throw new Error('the canvas gives no WebGPU context');
      canvas.width = TARGET_SIZE;
      canvas.height = TARGET_SIZE;
      context.configure({ device, format: TARGET_FORMAT, usage: GPUTextureUsage.COPY_DST, alphaMode: 'opaque' });
      this.#canvas = context;
    }
  }

  /**
   * Records the picture of the flock in `particles` (`PARTICLES_SIZE` bytes with VERTEX
   * usage) on `encoder`, and its copy onto the canvas when there is one.
   */
  encodeDraw(encoder: GPUCommandEncoder, particles: ParticleRange): void {
    const pass = encoder.beginRenderPass({
      label: 'boids draw',
      colorAttachments: [{ view: this.#target.createView(), clearValue: CLEAR_COLOR, loadOp: 'clear', storeOp: 'store' }],
    });
    pass.setPipeline(this.#pipeline);
    pass.setVertexBuffer(0, particles.buffer, particles.offset, PARTICLES_SIZE);
    pass.draw(3, PARTICLE_COUNT);
    pass.end();
    if (this.#canvas) {
      encoder.copyTextureToTexture({ texture: this.#target }, { texture: this.#canvas.getCurrentTexture() }, [TARGET_SIZE, TARGET_SIZE]);
    }
  }

  /**
   * The target's pixels as drawn by the work submitted so far: `TARGET_SIZE` rows of
   * `TARGET_SIZE` RGBA pixels, top row first.
   * @returns a new array the caller owns.
   */
  async readPixels(): Promise<Uint8Array> {
    // One row is 1024 bytes, a multiple of the 256 bytes a texture copy needs per row.
    const bytesPerRow = TARGET_SIZE * 4;
    const readback = this.device.createBuffer({ label: 'boids pixels', size: bytesPerRow * TARGET_SIZE, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = this.device.createCommandEncoder();
      encoder.copyTextureToBuffer({ texture: this.#target }, { buffer: readback, bytesPerRow }, [TARGET_SIZE, TARGET_SIZE]);
      this.device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      return new Uint8Array(readback.getMappedRange().slice(0));
    } finally {
      readback.destroy();
    }
  }

  /** Frees the target and lets go of the canvas; the device stays the caller's. */
  destroy(): void {
    this.#canvas?.unconfigure();
    this.#target.destroy();
  }
}
