/**
 * A dma-buf of the bench's heap together with its storage `GPUBuffer`, reached the way an
 * importer on the exporter's device reaches it (attach, map: zero-copy), so raw WebGPU and
 * TypeGPU baselines can work on the very buffer the library works on.
 */
import { PAGE_SIZE, type GpuDmaBuf, type SgTable } from 'webgpu-dmabuf';
import type { BenchEnv } from '../scenario.js';

/** A dma-buf and its one storage buffer; `release` unmaps, detaches and puts. */
export interface ExportedBuffer {
  readonly buf: GpuDmaBuf;
  readonly buffer: GPUBuffer;
  readonly pages: number;
  release(): Promise<void>;
}

/** Allocates `size` bytes (one segment: at most the device's binding size) filled with a byte pattern. */
export async function exportedBuffer(env: BenchEnv, size: number, name: string): Promise<ExportedBuffer> {
  const buf = env.heap.allocate(size, { name });
  const attachment = buf.attach(env.exporter);
  let sgt: SgTable;
  try {
    sgt = await attachment.map('bidirectional');
  } catch (error) {
    buf.detach(attachment);
    buf.put();
    throw error;
  }
  const [segment, ...more] = sgt.segments;
  if (!segment || more.length > 0) throw new Error(`bench: ${size} bytes did not fit one segment`);
  env.exporter.queue.writeBuffer(segment.buffer, 0, pattern(size));
  return {
    buf,
    buffer: segment.buffer,
    pages: Math.ceil(size / PAGE_SIZE),
    async release() {
      await attachment.unmap(sgt, 'bidirectional');
      buf.detach(attachment);
      buf.put();
    },
  };
}

/** `size` bytes of a recognisable pattern. */
export function pattern(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 12)) & 0xff;
  return bytes;
}

/** A `MAP_READ` staging buffer of `size` bytes on `device`. */
export function readStaging(device: GPUDevice, size: number, label: string): GPUBuffer {
  return device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label });
}

/** Copies `[offset, offset + size)` of `source` into `staging` on the GPU and maps it; resolves with the mapped bytes. */
export async function copyAndMap(device: GPUDevice, source: GPUBuffer, offset: number, staging: GPUBuffer, size: number): Promise<ArrayBuffer> {
  const encoder = device.createCommandEncoder({ label: 'bench readback' });
  encoder.copyBufferToBuffer(source, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ, 0, size);
  return staging.getMappedRange(0, size);
}
