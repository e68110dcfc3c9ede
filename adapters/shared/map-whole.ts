/** An adapter's mapping of a whole dma-buf as one `GPUBuffer` on a library's device. */
import type { DmaBuf, DmaBufAttachment, SgTable } from 'webgpu-dmabuf';

/** What {@link mapWhole} holds: the adapter's own reference, its attachment and the mapping. */
export interface WholeMapping {
  readonly own: DmaBuf;
  readonly attachment: DmaBufAttachment;
  readonly sgt: SgTable;
}

/**
 * Takes a reference of the adapter's own (`buf.get()`), attaches it to `device` with
 * `{ contiguous: true, usage: STORAGE | COPY_SRC }` (one `GPUBuffer`, whatever the exporter's
 * segments) and maps it `'to-device'`. The caller ends it with `endMapping`.
 * @throws whatever `attach` and `map` throw; nothing is kept then (detached, the reference put).
 */
export async function mapWhole(buf: DmaBuf, device: GPUDevice): Promise<WholeMapping> {
  const own = buf.get();
  let attachment: DmaBufAttachment;
  try {
    attachment = own.attach(device, { contiguous: true, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  } catch (error) {
    own.put();
    throw error;
  }
  try {
    return { own, attachment, sgt: await attachment.map('to-device') };
  } catch (error) {
    own.detach(attachment);
    own.put();
    throw error;
  }
}
