/** Ending an adapter's mapping of a dma-buf, where no caller is left to hear of an error. */
import type { DmaBuf, DmaBufAttachment, DmaFence, SgTable } from 'webgpu-dmabuf';

/**
 * Unmaps `sgt` (`'to-device'`, with `until` if given), then detaches `attachment` and puts the
 * adapter's reference `own`. Errors are reported to the realm (`reportError`), and the
 * reference is put whatever happens (a release detaches what is left).
 */
export function endMapping(own: DmaBuf, attachment: DmaBufAttachment, sgt: SgTable, until?: DmaFence): void {
  void attachment
    .unmap(sgt, 'to-device', until ? { until } : {})
    .then(() => {
      own.detach(attachment);
    })
    .catch(reportError)
    .finally(() => {
      own.put();
    });
}
