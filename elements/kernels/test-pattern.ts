/**
 * A compute kernel that draws a moving test pattern into a frame buffer (packed RGBA, see
 * `FrameLayout`): the camera's source when there is no camera or no permission, so the
 * rest of a pipeline still has frames. Colour bars, a diagonal gradient, and a ball that
 * moves with `time`.
 */
import type { FrameLayout } from './frame-layout.js';
import { FRAME_WORKGROUP, FramePass } from './frame-pass.js';


const SHADER = /* wgsl */ `
  struct Params { size: vec2u, time: f32, pad: f32 }
  @group(0) @binding(0) var<storage, read_write> dst: array<u32>;
  @group(0) @binding(1) var<uniform> params: Params;

  const BARS = array<vec3f, 7>(
    vec3f(0.75, 0.75, 0.75), vec3f(0.75, 0.75, 0.0), vec3f(0.0, 0.75, 0.75), vec3f(0.0, 0.75, 0.0),
    vec3f(0.75, 0.0, 0.75), vec3f(0.75, 0.0, 0.0), vec3f(0.0, 0.0, 0.75));

  @compute @workgroup_size(${FRAME_WORKGROUP}, ${FRAME_WORKGROUP})
  fn main(@builtin(global_invocation_id) id: vec3u) {
    if (id.x >= params.size.x || id.y >= params.size.y) { return; }
    let size = vec2f(params.size);
    let uv = (vec2f(id.xy) + 0.5) / size;
    let t = params.time;
    var c: vec3f;
    if (uv.y < 0.6) {
      c = BARS[min(u32(uv.x * 7.0), 6u)];
    } else {
      let wave = 0.5 + 0.5 * sin(6.2831 * (uv.x + uv.y) - t * 2.0);
      c = mix(vec3f(0.1, 0.15, 0.35), vec3f(0.95, 0.55, 0.2), wave);
    }
    let centre = vec2f(0.5 + 0.35 * cos(t), 0.5 + 0.3 * sin(t * 1.3));
    let d = length((uv - centre) * vec2f(size.x / size.y, 1.0));
    if (d < 0.12) { c = mix(vec3f(1.0), vec3f(0.2, 0.2, 0.2), smoothstep(0.09, 0.12, d)); }
    dst[id.y * params.size.x + id.x] = pack4x8unorm(vec4f(c, 1.0));
  }`;

/** One device's pipeline for the pattern. Reuse it for every frame; {@link destroy} it with the module. */
export class TestPatternKernel {
  readonly device: GPUDevice;
  readonly #pass: FramePass;

  constructor(device: GPUDevice) {
    this.device = device;
    this.#pass = new FramePass(device, 'test-pattern', SHADER, 16);
  }

  /** Records, into `encoder`, the pass that draws the pattern at `timeSeconds` into `dst`. */
  encode(encoder: GPUCommandEncoder, timeSeconds: number, dst: GPUBufferBinding, layout: FrameLayout): void {
    const params = new ArrayBuffer(16);
    new Uint32Array(params, 0, 2).set([layout.width, layout.height]);
    new Float32Array(params, 8, 1)[0] = timeSeconds;
    this.#pass.encode(encoder, layout, params, [dst]);
  }

  /** Frees the kernel's own buffer. */
  destroy(): void {
    this.#pass.destroy();
  }
}
