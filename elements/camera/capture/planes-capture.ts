import { DmabufElementError } from '../../element-error.js';
import type { FrameLayout } from '../../kernels/frame-layout.js';
import { PlanesToFrame } from '../../kernels/planes-to-frame.js';
import type { FrameCapture } from './frame-capture.js';

/**
 * The `copy-to` path: `VideoFrame.copyTo` into memory, `writeBuffer`, and a shader that
 * converts the planes (NV12, I420, RGBA and kin) to RGBA. The slowest: the picture crosses
 * the CPU.
 *
 * Realm: any realm with WebGPU and `VideoFrame` (the page or a worker).
 */
export class PlanesCapture implements FrameCapture {
  /** The path it takes. */
  readonly path = 'copy-to';
  readonly #device: GPUDevice;
  readonly #kernel: PlanesToFrame;

  /** Builds the shader's pipeline on `device`. */
  constructor(device: GPUDevice) {
    this.#device = device;
    this.#kernel = new PlanesToFrame(device);
  }

  /**
   * Copies `frame`'s planes out and submits the shader that converts them into `dst`.
   * @throws {DmabufElementError} `ECAPTURE` when the frame's pixel format is not one the shader reads.
   */
  async write(frame: VideoFrame, dst: GPUBufferBinding, layout: FrameLayout): Promise<void> {
    const format = frame.format;
    if (!PlanesToFrame.reads(format)) throw new DmabufElementError('ECAPTURE', 'PlanesCapture.write', `VideoFrame format ${String(format)} is not one the planes kernel reads`);
    const bytes = new Uint8Array(frame.allocationSize());
    const planes = await frame.copyTo(bytes);
    const encoder = this.#device.createCommandEncoder({ label: 'camera planes' });
    this.#kernel.encode(encoder, bytes, format, planes, frame.colorSpace.fullRange ?? false, dst, layout);
    this.#device.queue.submit([encoder.finish()]);
  }

  /** Frees the pipeline and its planes buffer. */
  destroy(): void {
    this.#kernel.destroy();
  }
}
