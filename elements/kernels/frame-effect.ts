/**
 * The filter's compute kernel: reads one frame buffer and writes another (both packed
 * RGBA, see `FrameLayout`) with an effect applied. Luma is BT.601
 * (`0.299 R + 0.587 G + 0.114 B`); Sobel takes the 3x3 gradient of luma with edge pixels
 * repeated, and its magnitude clamped to 255. Every output pixel has alpha 255.
 */
import type { FrameLayout } from './frame-layout.js';
import { FRAME_WORKGROUP, FramePass } from './frame-pass.js';

/** The effects, in the order of their codes in the shader. */
export const FRAME_EFFECTS = ['none', 'grayscale', 'sobel', 'invert'] as const;

/** One of {@link FRAME_EFFECTS}. */
export type FrameEffect = (typeof FRAME_EFFECTS)[number];

/** Whether `value` names an effect. */
export function isFrameEffect(value: unknown): value is FrameEffect {
  return (FRAME_EFFECTS as readonly unknown[]).includes(value);
}


const SHADER = /* wgsl */ `
  struct Params { size: vec2u, effect: u32, pad: u32 }
  @group(0) @binding(0) var<storage, read> src: array<u32>;
  @group(0) @binding(1) var<storage, read_write> dst: array<u32>;
  @group(0) @binding(2) var<uniform> params: Params;

  fn rgb_at(x: i32, y: i32) -> vec3f {
    let size = vec2i(params.size);
    let p = clamp(vec2i(x, y), vec2i(0), size - 1);
    return unpack4x8unorm(src[u32(p.y * size.x + p.x)]).rgb * 255.0;
  }

  fn luma(c: vec3f) -> f32 {
    return dot(c, vec3f(0.299, 0.587, 0.114));
  }

  @compute @workgroup_size(${FRAME_WORKGROUP}, ${FRAME_WORKGROUP})
  fn main(@builtin(global_invocation_id) id: vec3u) {
    if (id.x >= params.size.x || id.y >= params.size.y) { return; }
    let x = i32(id.x);
    let y = i32(id.y);
    let c = rgb_at(x, y);
    var out = c;
    switch params.effect {
      case 1u: { out = vec3f(luma(c)); }
      case 2u: {
        let tl = luma(rgb_at(x - 1, y - 1)); let t = luma(rgb_at(x, y - 1)); let tr = luma(rgb_at(x + 1, y - 1));
        let l = luma(rgb_at(x - 1, y));                                      let r = luma(rgb_at(x + 1, y));
        let bl = luma(rgb_at(x - 1, y + 1)); let b = luma(rgb_at(x, y + 1)); let br = luma(rgb_at(x + 1, y + 1));
        let gx = (tr + 2.0 * r + br) - (tl + 2.0 * l + bl);
        let gy = (bl + 2.0 * b + br) - (tl + 2.0 * t + tr);
        out = vec3f(min(sqrt(gx * gx + gy * gy), 255.0));
      }
      case 3u: { out = vec3f(255.0) - c; }
      default: {}
    }
    dst[id.y * params.size.x + id.x] = pack4x8unorm(vec4f(out / 255.0, 1.0));
  }`;

/**
 * One device's pipeline for the effects. Reuse it for every frame; {@link destroy} it with
 * the module.
 */
export class FrameEffectKernel {
  readonly device: GPUDevice;
  readonly #pass: FramePass;

  constructor(device: GPUDevice) {
    this.device = device;
    this.#pass = new FramePass(device, 'frame-effect', SHADER, 16);
  }

  /** Records, into `encoder`, the pass that writes `effect` of `src` into `dst` (both of `layout`). */
  encode(encoder: GPUCommandEncoder, effect: FrameEffect, src: GPUBufferBinding, dst: GPUBufferBinding, layout: FrameLayout): void {
    this.#pass.encode(encoder, layout, new Uint32Array([layout.width, layout.height, FRAME_EFFECTS.indexOf(effect), 0]), [src, dst]);
  }

  /** Frees the kernel's own buffer. */
  destroy(): void {
    this.#pass.destroy();
  }
}
