import { DmaBufError } from '../src/error.js';

// Devices seen lost, and who wants to hear of a loss, both held weakly by device so that
// tracking never keeps a device alive. A listener is removed by the function `onDeviceLost`
// returns, so that what it closes over (a heap and its pools) can be collected.
const lost = new WeakSet<GPUDevice>();
const listeners = new WeakMap<GPUDevice, Set<() => void>>();

function followed(device: GPUDevice): Set<() => void> {
  let set = listeners.get(device);
  if (!set) {
    const fresh = new Set<() => void>();
    listeners.set(device, fresh);
    void device.lost.then(() => {
      lost.add(device);
      for (const listener of [...fresh]) listener();
      fresh.clear();
    });
    set = fresh;
  }
  return set;
}

/** Starts following `device.lost` (once per device), so that {@link isLost} and {@link checkDevice} know of it. */
export function watchDevice(device: GPUDevice): void {
  followed(device);
}

/**
 * Runs `listener` once when `device` is lost. Returns the function that stops following it;
 * the caller calls it when it no longer cares (a heap that is destroyed).
 */
export function onDeviceLost(device: GPUDevice, listener: () => void): () => void {
  const set = followed(device);
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}

/** Whether `device` is known to be lost (its `lost` promise has resolved). */
export function isLost(device: GPUDevice): boolean {
  return lost.has(device);
}

/**
 * Throws `ENODEV` naming `call` when `device` is lost.
 * @throws {DmaBufError} `ENODEV`
 */
export function checkDevice(call: string, device: GPUDevice, role: string): void {
  if (lost.has(device)) throw new DmaBufError('ENODEV', call, `the ${role}'s device (${device.label || 'unlabelled'}) is lost`);
}

/**
 * Settles once the work queued so far on `device` is done, or the device is lost: what a
 * runtime fence in a buffer's reservation signals on. Never rejects.
 */
export function queueDone(device: GPUDevice): Promise<unknown> {
  return Promise.race([device.queue.onSubmittedWorkDone().catch(() => undefined), device.lost]);
}

/**
 * What a failed `mapAsync` or other GPU step means to the caller: the device failed or was
 * destroyed under the operation, so `ENODEV`, keeping the original as `cause`.
 */
export function deviceFailure(call: string, error: unknown): DmaBufError {
  if (error instanceof DmaBufError) return error;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new DmaBufError('ENODEV', call, `a device failed during the transfer (${reason})`, { cause: error });
}
