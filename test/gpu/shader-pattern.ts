// The byte pattern the browser tests write with a compute shader, and what it is expected to
// be: plain WebGPU and no test framework, so a worker fixture can use it too.
import type { SgTable } from 'webgpu-dmabuf';

/** Runs a compute shader on `device` that writes {@link shaderByte}`(i, seed)` at every dma-buf offset `i` of the table (whole words; a tail past the buffer is padding). */
export function fillWithShader(device: GPUDevice, sgt: SgTable, seed: number): void {
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> words: array<u32>;
           @group(0) @binding(1) var<uniform> base: vec2u;
           fn b(i: u32) -> u32 { return (i * 7u + base.y) & 0xffu; }
           @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
             if (id.x >= arrayLength(&words)) { return; }
             let i = base.x + id.x * 4u;
             words[id.x] = b(i) | (b(i + 1u) << 8u) | (b(i + 2u) << 16u) | (b(i + 3u) << 24u);
           }`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  let at = 0;
  for (const segment of sgt.segments) {
    const words = Math.ceil(segment.length / 4);
    const uniform = device.createBuffer({ size: 8, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(uniform, 0, new Uint32Array([at, seed]));
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: segment.buffer, offset: segment.offset, size: words * 4 } },
        { binding: 1, resource: { buffer: uniform } },
      ],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(words / 64));
    pass.end();
    device.queue.submit([encoder.finish()]);
    uniform.destroy();
    at += segment.length;
  }
}

/** What {@link fillWithShader} writes at dma-buf offset `i`. */
export function shaderByte(i: number, seed: number): number {
  return (i * 7 + seed) & 0xff;
}

/** The expected bytes of {@link fillWithShader} for `size` bytes. */
export function shaderPattern(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => shaderByte(i, seed));
}
