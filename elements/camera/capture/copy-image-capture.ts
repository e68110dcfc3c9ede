import type { FrameLayout } from '../../kernels/frame-layout.js';
import { TextureToFrame } from '../../kernels/texture-to-frame.js';
import type { FrameCapture } from './frame-capture.js';

/**
 * The `copy-external-image` path: `copyExternalImageToTexture` of the `VideoFrame` into a
 * texture of its own (made again when the frame size changes), then the compute shader that
 * writes the buffer from it.
 *
 * Realm: any realm with WebGPU and `VideoFrame` (the page or a worker).
 */
export class CopyImageCapture implements FrameCapture {
  /** The path it takes. */
  readonly path = 'copy-external-image';
  readonly #device: GPUDevice;
  readonly #kernel: TextureToFrame;
  #texture: GPUTexture | undefined;

  /** Builds the shader's pipeline on `device`; the texture comes with the first frame. */
  constructor(device: GPUDevice) {
    this.#device = device;
    this.#kernel = new TextureToFrame(device, 'texture');
  }

  /** Copies `frame` into the texture and submits the shader that writes it into `dst`. */
  write(frame: VideoFrame, dst: GPUBufferBinding, layout: FrameLayout): void {
    const texture = this.#textureFor(layout);
    this.#device.queue.copyExternalImageToTexture({ source: frame }, { texture }, { width: layout.width, height: layout.height });
    const encoder = this.#device.createCommandEncoder({ label: 'camera texture' });
    this.#kernel.encode(encoder, texture.createView(), dst, layout);
    this.#device.queue.submit([encoder.finish()]);
  }

  /** Frees the pipeline and the texture. */
  destroy(): void {
    this.#kernel.destroy();
    this.#texture?.destroy();
    this.#texture = undefined;
  }

  #textureFor(layout: FrameLayout): GPUTexture {
    const texture = this.#texture;
    if (texture?.width === layout.width && texture.height === layout.height) return texture;
    texture?.destroy();
    this.#texture = this.#device.createTexture({
      label: 'camera picture',
      size: [layout.width, layout.height],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
    });
    return this.#texture;
  }
}
