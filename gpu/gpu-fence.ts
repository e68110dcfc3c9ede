import { describe } from '../src/checks.js';
import { DmaFence } from '../src/dma-fence.js';
import { DmaBufError } from '../src/error.js';
import { isLost, watchDevice } from './device-loss.js';

/**
 * A fence for the work submitted so far on `device.queue`: it signals once that work has
 * completed (`queue.onSubmittedWorkDone()`), or with `ENODEV` when the device is lost first.
 * The kernel's fence of a GPU job. The caller owns it: add it to a buffer's reservation with
 * `buf.importSyncFile(fence, 'write')` (or `resv.addFence`) so that readers wait for it.
 * @throws {DmaBufError} `EINVAL` when `device` is not a `GPUDevice`.
 */
export function gpuFence(device: GPUDevice): DmaFence {
  const candidate: unknown = device;
  if (!(candidate instanceof GPUDevice)) throw new DmaBufError('EINVAL', 'gpuFence', `device must be a GPUDevice, got ${describe(candidate)}`);
  watchDevice(device);
  const fence = new DmaFence();
  const done = device.queue.onSubmittedWorkDone().then(
    () => isLost(device),
    () => true,
  );
  void Promise.race([done, device.lost.then(() => true)]).then((lost) => {
    if (lost || isLost(device)) fence.setError('ENODEV');
    fence.signal();
  });
  return fence;
}
