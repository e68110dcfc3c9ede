import type { FrameLayout } from '../../kernels/frame-layout.js';
import { TextureToFrame } from '../../kernels/texture-to-frame.js';
import type { FrameCapture } from './frame-capture.js';

/**
 * The `external-texture` path: `importExternalTexture` of the `VideoFrame`, and a compute
 * shader that writes the buffer on the GPU, with no copy of the picture on the way.
 *
 * Realm: any realm with WebGPU and `VideoFrame` (the page or a worker).
 */
export class ExternalTextureCapture implements FrameCapture {
  /** The path it takes. */
  readonly path = 'external-texture';
  readonly #device: GPUDevice;
  readonly #kernel: TextureToFrame;

  /** Builds the shader's pipeline on `device`. */
  constructor(device: GPUDevice) {
    this.#device = device;
    this.#kernel = new TextureToFrame(device, 'external');
  }

  /** Imports `frame` and submits the shader that writes it into `dst`. */
  write(frame: VideoFrame, dst: GPUBufferBinding, layout: FrameLayout): void {
    // Import and submit in one task: an external texture expires when the task ends.
    const source = this.#device.importExternalTexture({ source: frame });
    const encoder = this.#device.createCommandEncoder({ label: 'camera external texture' });
    this.#kernel.encode(encoder, source, dst, layout);
    this.#device.queue.submit([encoder.finish()]);
  }

  /** Frees the shader's pipeline. */
  destroy(): void {
    this.#kernel.destroy();
  }
}
