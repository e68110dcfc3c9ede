import { describe, expect, test } from 'vitest';

// Proves the adapter is real: a compute shader writes a pattern that only a GPU (or
// SwiftShader) running WGSL could produce, read back through mapAsync.

async function realDevice(): Promise<GPUDevice> {
  if (!('gpu' in navigator)) {
    throw new Error('navigator.gpu is missing: Chromium must be started with --enable-unsafe-webgpu (see scripts/chromium.mjs)');
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      'navigator.gpu.requestAdapter() gave no adapter: start Chromium with --enable-features=Vulkan --use-vulkan=swiftshader ' +
        "--enable-unsafe-swiftshader, and install Debian's chromium package (it ships libvk_swiftshader.so)",
    );
  }
  return adapter.requestDevice();
}

describe('WebGPU in headless Chromium', () => {
  test('a compute shader writes i * 3 + 1 into a storage buffer that mapAsync reads back', async () => {
    const device = await realDevice();
    const count = 1024;
    const storage = device.createBuffer({ size: count * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const readback = device.createBuffer({ size: count * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const module = device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read_write> out: array<u32>;
             @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
               out[id.x] = id.x * 3u + 1u;
             }`,
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: storage } }],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(count / 64);
    pass.end();
    encoder.copyBufferToBuffer(storage, 0, readback, 0, count * 4);
    device.queue.submit([encoder.finish()]);

    await readback.mapAsync(GPUMapMode.READ);
    const values = new Uint32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    storage.destroy();
    readback.destroy();
    device.destroy();

    expect(values[0]).toBe(1);
    expect(values[1000]).toBe(3001);
    expect(Array.from(values).every((v, i) => v === i * 3 + 1)).toBe(true);
  });

  test('the adapter reports what it is', async () => {
    const device = await realDevice();
    const { vendor, architecture } = device.adapterInfo;
    device.destroy();
    expect(`${vendor}/${architecture}`).not.toBe('/');
  });
});
