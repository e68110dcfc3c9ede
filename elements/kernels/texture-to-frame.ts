/**
 * Compute kernels that write a camera picture into a frame buffer (packed RGBA, see
 * `FrameLayout`) on the GPU, with no CPU copy: from a `GPUExternalTexture` (a `VideoFrame`
 * or `<video>` imported with `importExternalTexture`, the fastest path) or from an ordinary
 * `rgba8unorm` texture (filled by `copyExternalImageToTexture`).
 */
import type { FrameLayout } from './frame-layout.js';
import { FRAME_WORKGROUP, FramePass } from './frame-pass.js';

/** Where the picture comes from: `'external'` binds a `texture_external`, `'texture'` a `texture_2d<f32>`. */
export type TextureSourceKind = 'external' | 'texture';


function shader(kind: TextureSourceKind): string {
  const texture = kind === 'external' ? 'texture_external' : 'texture_2d<f32>';
  const load = kind === 'external' ? 'textureLoad(src, p)' : 'textureLoad(src, p, 0)';
  return /* wgsl */ `
    @group(0) @binding(0) var src: ${texture};
    @group(0) @binding(1) var<storage, read_write> dst: array<u32>;
    @group(0) @binding(2) var<uniform> size: vec2u;
    @compute @workgroup_size(${FRAME_WORKGROUP}, ${FRAME_WORKGROUP})
    fn main(@builtin(global_invocation_id) id: vec3u) {
      if (id.x >= size.x || id.y >= size.y) { return; }
      let p = vec2u(id.xy);
      let c = ${load};
      dst[id.y * size.x + id.x] = pack4x8unorm(vec4f(c.rgb, 1.0));
    }`;
}

/**
 * One device's pipeline for writing a texture into a frame buffer. Make one per device and
 * kind, reuse it for every frame, and {@link destroy} it with the module.
 */
export class TextureToFrame {
  readonly device: GPUDevice;
  readonly kind: TextureSourceKind;
  readonly #pass: FramePass;

  constructor(device: GPUDevice, kind: TextureSourceKind) {
    this.device = device;
    this.kind = kind;
    this.#pass = new FramePass(device, `texture-to-frame (${kind})`, shader(kind), 8);
  }

  /**
   * Records, into `encoder`, the pass that writes `source` (at least `layout`'s size) into
   * `dst`. An external texture must be imported in the same task as the submit.
   */
  encode(encoder: GPUCommandEncoder, source: GPUExternalTexture | GPUTextureView, dst: GPUBufferBinding, layout: FrameLayout): void {
    this.#pass.encode(encoder, layout, new Uint32Array([layout.width, layout.height]), [source, dst]);
  }

  /** Frees the kernel's own buffer. */
  destroy(): void {
    this.#pass.destroy();
  }
}
