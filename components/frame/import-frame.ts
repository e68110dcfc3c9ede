import type { FdTable, SgTable } from 'webgpu-dmabuf';
import type { FrameLease } from './frame-info.js';

/**
 * The importer's side of the contract for one frame: takes a reference through the fd
 * (`dma_buf_get`), attaches `device`, maps `'to-device'` (which waits for the frame's write
 * fence, the exporter's GPU work that wrote it), runs `use` with the mapping, then unmaps,
 * detaches and puts, in reverse order, whatever happens. `use` submits its GPU work before
 * it returns; work queued on the device keeps its order after the unmap.
 */
export async function importFrame<T>(table: FdTable, lease: FrameLease, device: GPUDevice, use: (sgt: SgTable) => T): Promise<T> {
  const buf = table.get(lease.fd);
  try {
    const attachment = buf.attach(device);
    try {
      const sgt = await attachment.map('to-device');
      try {
        return use(sgt);
      } finally {
        await attachment.unmap(sgt, 'to-device');
      }
    } finally {
      buf.detach(attachment);
    }
  } finally {
    buf.put();
  }
}
