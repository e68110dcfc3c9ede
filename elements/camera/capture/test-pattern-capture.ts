import type { FrameLayout } from '../../kernels/frame-layout.js';
import { TestPatternKernel } from '../../kernels/test-pattern.js';

/**
 * The `pattern` path: no camera; a moving test pattern drawn into the buffer by a compute
 * shader, so that a pipeline runs without one.
 *
 * Realm: any realm with WebGPU (the page or a worker).
 */
export class TestPatternCapture {
  /** The path it takes. */
  readonly path = 'pattern';
  readonly #device: GPUDevice;
  readonly #kernel: TestPatternKernel;

  /** Builds the shader's pipeline on `device`. */
  constructor(device: GPUDevice) {
    this.#device = device;
    this.#kernel = new TestPatternKernel(device);
  }

  /** Submits the shader that draws the pattern as it is at `timeMs` (ms) into `dst`. */
  draw(timeMs: number, dst: GPUBufferBinding, layout: FrameLayout): void {
    const encoder = this.#device.createCommandEncoder({ label: 'camera pattern' });
    this.#kernel.encode(encoder, timeMs / 1000, dst, layout);
    this.#device.queue.submit([encoder.finish()]);
  }

  /** Frees the shader's pipeline. */
  destroy(): void {
    this.#kernel.destroy();
  }
}
