import type { DmaBuf, FdTable } from 'webgpu-dmabuf';
import type { FrameInfo, FrameLease } from './frame-info.js';

/**
 * Lends the frame behind `fd` of `from` (naming `buf`) to an importer: sends the fd into the
 * importer's table `to` and returns the lease. Its `release` closes the importer's fd (only
 * if it still names `buf`: the importer may have closed it itself) and then calls
 * `onRelease`, once however often it is called. Used by the exporters' ring and by the
 * worker's receiver, which lends on the frames it received.
 */
export function lendFrame(from: FdTable, fd: number, buf: DmaBuf, to: FdTable, frame: FrameInfo, signal: AbortSignal, onRelease: () => void): FrameLease {
  const lent = from.send(fd, to);
  let released = false;
  return {
    fd: lent,
    frame,
    signal,
    release: () => {
      if (released) return;
      released = true;
      const open = to.openFds().includes(lent) ? to.get(lent) : undefined;
      if (open) {
        open.put();
        if (open === buf) to.close(lent);
      }
      onRelease();
    },
  };
}
