// The consumer's work: every 32-bit word of the mapped buffer inverted, on its own device.
import type { SgTable } from 'webgpu-dmabuf';

const SHADER = `@group(0) @binding(0) var<storage, read_write> v: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&v)) { v[id.x] = ~v[id.x]; }
}`;

/**
 * Inverts every word of `sgt`'s segments on `device` and resolves once the device is done.
 * @throws {Error} with WebGPU's message when the device refused the work.
 */
export async function invertOnDevice(device: GPUDevice, sgt: SgTable): Promise<void> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: SHADER, label: 'invert' });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: 'invert' });
  const encoder = device.createCommandEncoder();
  for (const segment of sgt.segments) {
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: segment.buffer, offset: segment.offset, size: segment.length } }] }));
    pass.dispatchWorkgroups(Math.ceil(segment.length / 4 / 64));
    pass.end();
  }
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`invert: ${error.message}`);
  await device.queue.onSubmittedWorkDone();
}
