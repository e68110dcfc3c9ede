import type { FrameLayout } from '../../kernels/frame-layout.js';
import { TestPatternKernel } from '../../kernels/test-pattern.js';

/**
 * The pattern's period, s: its ball turns in `cos t`, `sin 1.3t` and its wave in `2t`, all
 * whole turns after 20π s, so time taken modulo this is seamless, and small enough for the
 * shader's `f32` to keep sub-millisecond steps whatever clock the time comes from.
 */
const PATTERN_PERIOD_S = 20 * Math.PI;

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

  /**
   * Submits the shader that draws the pattern as it is at `timeMs` (ms, on any clock: the
   * camera gives the clock every realm shares) into `dst`. Two draws at the same `timeMs`
   * give the same bytes, in whatever realm or device.
   */
  draw(timeMs: number, dst: GPUBufferBinding, layout: FrameLayout): void {
    const encoder = this.#device.createCommandEncoder({ label: 'camera pattern' });
    this.#kernel.encode(encoder, (timeMs / 1000) % PATTERN_PERIOD_S, dst, layout);
    this.#device.queue.submit([encoder.finish()]);
  }

  /** Frees the shader's pipeline. */
  destroy(): void {
    this.#kernel.destroy();
  }
}
