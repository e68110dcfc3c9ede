/**
 * A compute kernel that turns the planes `VideoFrame.copyTo` gives (NV12, I420 or 8-bit
 * RGBA/BGRA variants) into a frame buffer (packed RGBA, see `FrameLayout`): the camera's
 * slowest path, when the browser can import neither the frame as an external texture nor
 * copy it into a texture. The planes are uploaded with `writeBuffer` into a buffer the
 * kernel owns.
 */
import type { FrameLayout } from './frame-layout.js';
import { FRAME_WORKGROUP, FramePass } from './frame-pass.js';

/** The `VideoPixelFormat`s the kernel reads. */
export const PLANE_FORMATS = ['NV12', 'I420', 'RGBA', 'RGBX', 'BGRA', 'BGRX'] as const;

/** One of {@link PLANE_FORMATS}. */
export type PlaneFormat = (typeof PLANE_FORMATS)[number];

/** Where each plane starts and its stride, in bytes: what `VideoFrame.copyTo` resolves to. */
export interface PlaneLayoutLike {
  readonly offset: number;
  readonly stride: number;
}

const FORMAT_CODE: Record<PlaneFormat, number> = { NV12: 0, I420: 1, RGBA: 2, RGBX: 2, BGRA: 3, BGRX: 3 };

const SHADER = /* wgsl */ `
  struct Params {
    size: vec2u,
    format: u32,
    full_range: u32,
    offsets: vec4u,
    strides: vec4u,
  }
  @group(0) @binding(0) var<storage, read> planes: array<u32>;
  @group(0) @binding(1) var<storage, read_write> dst: array<u32>;
  @group(0) @binding(2) var<uniform> params: Params;

  fn byte_at(i: u32) -> f32 {
    return f32((planes[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);
  }

  // BT.601, as cameras and the fake camera send it.
  fn yuv_to_rgb(y8: f32, u8: f32, v8: f32) -> vec3f {
    var y = y8 / 255.0;
    var u = u8 / 255.0 - 0.5;
    var v = v8 / 255.0 - 0.5;
    if (params.full_range == 0u) {
      y = (y8 - 16.0) / 219.0;
      u = (u8 - 128.0) / 224.0;
      v = (v8 - 128.0) / 224.0;
    }
    return clamp(vec3f(y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u), vec3f(0.0), vec3f(1.0));
  }

  @compute @workgroup_size(${FRAME_WORKGROUP}, ${FRAME_WORKGROUP})
  fn main(@builtin(global_invocation_id) id: vec3u) {
    let w = params.size.x;
    if (id.x >= w || id.y >= params.size.y) { return; }
    let o = params.offsets;
    let s = params.strides;
    var rgb: vec3f;
    if (params.format == 0u) {
      let y = byte_at(o.x + id.y * s.x + id.x);
      let uv = o.y + (id.y / 2u) * s.y + (id.x / 2u) * 2u;
      rgb = yuv_to_rgb(y, byte_at(uv), byte_at(uv + 1u));
    } else if (params.format == 1u) {
      let y = byte_at(o.x + id.y * s.x + id.x);
      let u = byte_at(o.y + (id.y / 2u) * s.y + id.x / 2u);
      let v = byte_at(o.z + (id.y / 2u) * s.z + id.x / 2u);
      rgb = yuv_to_rgb(y, u, v);
    } else {
      let p = o.x + id.y * s.x + id.x * 4u;
      let c = vec3f(byte_at(p), byte_at(p + 1u), byte_at(p + 2u)) / 255.0;
      rgb = select(c, c.bgr, params.format == 3u);
    }
    dst[id.y * w + id.x] = pack4x8unorm(vec4f(rgb, 1.0));
  }`;

/**
 * One device's pipeline for converting uploaded planes into a frame buffer. Reuse it for
 * every frame; {@link destroy} it with the module.
 */
export class PlanesToFrame {
  readonly device: GPUDevice;
  readonly #pass: FramePass;
  #planes: GPUBuffer | undefined;

  constructor(device: GPUDevice) {
    this.device = device;
    this.#pass = new FramePass(device, 'planes-to-frame', SHADER, 48);
  }

  /** Whether the kernel reads `format`. */
  static reads(format: string | null): format is PlaneFormat {
    return (PLANE_FORMATS as readonly (string | null)[]).includes(format);
  }

  /**
   * Uploads `bytes` (the planes, as `copyTo` wrote them) and records the conversion into
   * `dst` in `encoder`.
   */
  encode(encoder: GPUCommandEncoder, bytes: Uint8Array, format: PlaneFormat, planes: readonly PlaneLayoutLike[], fullRange: boolean, dst: GPUBufferBinding, layout: FrameLayout): void {
    const size = Math.ceil(bytes.byteLength / 4) * 4;
    if (!this.#planes || this.#planes.size < size) {
      this.#planes?.destroy();
      this.#planes = this.device.createBuffer({ label: 'planes-to-frame planes', size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    }
    const padded = size === bytes.byteLength ? bytes : new Uint8Array(size);
    if (padded !== bytes) padded.set(bytes);
    this.device.queue.writeBuffer(this.#planes, 0, padded);
    const params = new Uint32Array(12);
    params.set([layout.width, layout.height, FORMAT_CODE[format], fullRange ? 1 : 0]);
    planes.slice(0, 3).forEach((plane, i) => {
      params[4 + i] = plane.offset;
      params[8 + i] = plane.stride;
    });
    this.#pass.encode(encoder, layout, params, [{ buffer: this.#planes }, dst]);
  }

  /** Frees the kernel's buffers. */
  destroy(): void {
    this.#pass.destroy();
    this.#planes?.destroy();
    this.#planes = undefined;
  }
}
