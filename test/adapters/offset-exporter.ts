/** An exporter of its own whose one `GPUBuffer` holds the bytes past offset 0, for the adapters' copy paths. */
import { exportDmaBuf, type DmaBuf } from 'webgpu-dmabuf';

/** Where the bytes start in the exporter's buffer: one binding alignment in. */
export const OFFSET = 256;

/**
 * A dma-buf of `data` on `device` whose map gives one segment at offset {@link OFFSET} of a
 * `GPUBuffer` of its own (destroyed at release). CPU access is not supported. The caller owns
 * the one reference.
 */
export function offsetDmaBuf(device: GPUDevice, data: Float32Array<ArrayBuffer>): DmaBuf {
  const size = data.byteLength;
  const storage = device.createBuffer({ size: OFFSET + size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(storage, OFFSET, data);
  const unsupported = (): never => {
    throw new Error('not used');
  };
  return exportDmaBuf({
    priv: storage,
    size,
    ops: {
      mapDmaBuf: () => Promise.resolve({ segments: [{ buffer: storage, offset: OFFSET, start: 0, length: size }] }),
      unmapDmaBuf: () => undefined,
      release: () => {
        storage.destroy();
      },
      kmap: unsupported,
      kmapAtomic: unsupported,
    },
  });
}
