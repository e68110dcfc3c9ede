/**
 * A render pipeline that draws a frame buffer (packed RGBA, see `FrameLayout`) onto a
 * texture of the same size, pixel for pixel: what a view draws to its `<canvas>`. The
 * fragment shader reads the storage buffer directly, so no texture upload is needed.
 */
import type { FrameLayout } from './frame-layout.js';

const SHADER = /* wgsl */ `
  @group(0) @binding(0) var<storage, read> src: array<u32>;
  @group(0) @binding(1) var<uniform> size: vec2u;

  @vertex fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4f {
    let xy = vec2f(f32((i << 1u) & 2u), f32(i & 2u));
    return vec4f(xy * 2.0 - 1.0, 0.0, 1.0);
  }

  @fragment fn fs(@builtin(position) pos: vec4f) -> @location(0) vec4f {
    let p = min(vec2u(pos.xy), size - 1u);
    return vec4f(unpack4x8unorm(src[p.y * size.x + p.x]).rgb, 1.0);
  }`;

/** One device's pipeline for a target format. Reuse it for every frame; {@link destroy} it with the module. */
export class FrameBlit {
  readonly device: GPUDevice;
  readonly format: GPUTextureFormat;
  readonly #pipeline: GPURenderPipeline;
  readonly #size: GPUBuffer;

  constructor(device: GPUDevice, format: GPUTextureFormat) {
    this.device = device;
    this.format = format;
    const module = device.createShaderModule({ label: 'frame-blit', code: SHADER });
    this.#pipeline = device.createRenderPipeline({
      label: 'frame-blit',
      layout: 'auto',
      vertex: { module, entryPoint: 'vs' },
      fragment: { module, entryPoint: 'fs', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    this.#size = device.createBuffer({ label: 'frame-blit size', size: 8, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /** Records, into `encoder`, a render pass drawing `src` (of `layout`) onto `target`, which should be `layout`'s size. */
  encode(encoder: GPUCommandEncoder, src: GPUBufferBinding, layout: FrameLayout, target: GPUTextureView): void {
    this.device.queue.writeBuffer(this.#size, 0, new Uint32Array([layout.width, layout.height]));
    const bindGroup = this.device.createBindGroup({
      layout: this.#pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: src },
        { binding: 1, resource: { buffer: this.#size } },
      ],
    });
    const pass = encoder.beginRenderPass({
      label: 'frame-blit',
      colorAttachments: [{ view: target, loadOp: 'clear', storeOp: 'store', clearValue: { r: 0, g: 0, b: 0, a: 1 } }],
    });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.draw(3);
    pass.end();
  }

  /** Frees the kernel's own buffer. */
  destroy(): void {
    this.#size.destroy();
  }
}
