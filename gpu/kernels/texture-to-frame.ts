/**
 * Compute kernels that write a camera picture into a frame buffer (packed RGBA, see
 * `FrameLayout`) on the GPU, with no CPU copy: from a `GPUExternalTexture` (a `VideoFrame`
 * or `<video>` imported with `importExternalTexture`, the fastest path) or from an ordinary
 * `rgba8unorm` texture (filled by `copyExternalImageToTexture`).
 */
import type { FrameLayout } from './frame-layout.js';

/** Where the picture comes from: `'external'` binds a `texture_external`, `'texture'` a `texture_2d<f32>`. */
export type TextureSourceKind = 'external' | 'texture';

const WORKGROUP = 8;

function shader(kind: TextureSourceKind): string {
  const texture = kind === 'external' ? 'texture_external' : 'texture_2d<f32>';
  const load = kind === 'external' ? 'textureLoad(src, p)' : 'textureLoad(src, p, 0)';
  return /* wgsl */ `
    @group(0) @binding(0) var src: ${texture};
    @group(0) @binding(1) var<storage, read_write> dst: array<u32>;
    @group(0) @binding(2) var<uniform> size: vec2u;
    @compute @workgroup_size(${WORKGROUP}, ${WORKGROUP})
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
  readonly #pipeline: GPUComputePipeline;
  readonly #size: GPUBuffer;

  constructor(device: GPUDevice, kind: TextureSourceKind) {
    this.device = device;
    this.kind = kind;
    const module = device.createShaderModule({ label: `texture-to-frame (${kind})`, code: shader(kind) });
    this.#pipeline = device.createComputePipeline({ label: `texture-to-frame (${kind})`, layout: 'auto', compute: { module, entryPoint: 'main' } });
    this.#size = device.createBuffer({ label: 'texture-to-frame size', size: 8, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /**
   * Records, into `encoder`, the pass that writes `source` (at least `layout`'s size) into
   * `dst`. An external texture must be imported in the same task as the submit.
   */
  encode(encoder: GPUCommandEncoder, source: GPUExternalTexture | GPUTextureView, dst: GPUBufferBinding, layout: FrameLayout): void {
    this.device.queue.writeBuffer(this.#size, 0, new Uint32Array([layout.width, layout.height]));
    const bindGroup = this.device.createBindGroup({
      layout: this.#pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: source },
        { binding: 1, resource: dst },
        { binding: 2, resource: { buffer: this.#size } },
      ],
    });
    const pass = encoder.beginComputePass({ label: `texture-to-frame (${this.kind})` });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(layout.width / WORKGROUP), Math.ceil(layout.height / WORKGROUP));
    pass.end();
  }

  /** Frees the kernel's own buffer. */
  destroy(): void {
    this.#size.destroy();
  }
}
