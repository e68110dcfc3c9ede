/**
 * Writes single bytes of a storage buffer without touching their neighbours. WebGPU copies
 * move whole 4-byte words, so a CPU write-back whose range starts or ends inside a word
 * patches that word on the GPU instead: `atomicAnd` clears the bytes in the range and
 * `atomicOr` sets them, in queue order, so bytes outside the range keep whatever the GPU
 * holds, even if other work wrote them after the CPU access began.
 */

/** Bytes of one 32-bit word to set: the byte `k` of the word is bits `8k..8k+7`, little-endian. */
export interface WordPatch {
  /** Index of the word in the buffer. */
  readonly word: number;
  /** Which bits to set (0xff per byte in the range). */
  readonly mask: number;
  /** The new bits; bits outside `mask` are ignored. */
  readonly value: number;
}

const SHADER = /* wgsl */ `
struct Patch { word: u32, mask: u32, value: u32, unused: u32 }
@group(0) @binding(0) var<storage, read_write> words: array<atomic<u32>>;
@group(0) @binding(1) var<storage, read> patches: array<Patch>;
@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) id: vec3u) {
  let p = patches[id.x];
  atomicAnd(&words[p.word], ~p.mask);
  atomicOr(&words[p.word], p.value & p.mask);
}`;

// Per device, held weakly so a device can be destroyed or lost (as webgpu-utils caches).
const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();

function pipelineFor(device: GPUDevice): GPUComputePipeline {
  let pipeline = pipelines.get(device);
  if (!pipeline) {
    const module = device.createShaderModule({ code: SHADER, label: 'dmabuf word patch' });
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: 'dmabuf word patch' });
    pipelines.set(device, pipeline);
  }
  return pipeline;
}

/** The patch that sets bytes `[from, to)` of a word (0 <= from < to <= 4) to those of `bytes`. */
export function wordPatch(word: number, from: number, to: number, bytes: ArrayLike<number>): WordPatch {
  let mask = 0;
  let value = 0;
  for (let k = from; k < to; k++) {
    mask |= 0xff << (8 * k);
    value |= (bytes[k - from] ?? 0) << (8 * k);
  }
  return { word, mask: mask >>> 0, value: value >>> 0 };
}

/** Queues the patches of `buffer` (a `STORAGE` buffer) on `device`. */
export function patchWords(device: GPUDevice, buffer: GPUBuffer, patches: readonly WordPatch[]): void {
  if (patches.length === 0) return;
  const data = new Uint32Array(patches.length * 4);
  patches.forEach((p, i) => {
    data.set([p.word, p.mask, p.value, 0], i * 4);
  });
  const list = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: 'dmabuf word patches' });
  device.queue.writeBuffer(list, 0, data);
  const pipeline = pipelineFor(device);
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer } },
      { binding: 1, resource: { buffer: list } },
    ],
  });
  const encoder = device.createCommandEncoder({ label: 'dmabuf word patch' });
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(patches.length);
  pass.end();
  device.queue.submit([encoder.finish()]);
  // Destroying after submit frees the list once the queued dispatch is done.
  list.destroy();
}
