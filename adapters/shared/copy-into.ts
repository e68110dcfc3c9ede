/** GPU copies between a library's own buffers and a dma-buf's, for the adapters' copy paths. */
import type { GpuDmaBuf } from 'webgpu-dmabuf';

/**
 * Copies the first `bytes` bytes of `from` (a `GPUBuffer` on `device`, with `COPY_SRC`) into
 * `buf`, a dma-buf of a heap on `device`, through a `'from-device'` map; resolves once the
 * unmap has put them in place, detached either way.
 */
export async function copyInto(buf: GpuDmaBuf, device: GPUDevice, from: GPUBuffer, bytes: number): Promise<void> {
  const attachment = buf.attach(device);
  try {
    const sgt = await attachment.map('from-device');
    const encoder = device.createCommandEncoder();
    for (const segment of sgt.segments) {
      const length = Math.min(segment.length, bytes - segment.start);
      if (length > 0) encoder.copyBufferToBuffer(from, segment.start, segment.buffer, segment.offset, length);
    }
    device.queue.submit([encoder.finish()]);
    await attachment.unmap(sgt, 'from-device');
  } finally {
    buf.detach(attachment);
  }
}

/**
 * A new `GPUBuffer` on `device` (`STORAGE | COPY_SRC | COPY_DST`, at least 4 bytes) holding
 * `bytes` bytes of `from` starting at `offset`, copied by a command submitted now. The caller
 * owns it and destroys it.
 */
export function copyFromOffset(device: GPUDevice, from: GPUBuffer, offset: number, bytes: number, label: string): GPUBuffer {
  const copy = device.createBuffer({ label, size: Math.max(4, bytes), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  if (bytes > 0) encoder.copyBufferToBuffer(from, offset, copy, 0, bytes);
  device.queue.submit([encoder.finish()]);
  return copy;
}
