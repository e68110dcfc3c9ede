import { DmaBufError } from '../src/error.js';

// Devices seen lost, held weakly so tracking never keeps a device alive.
const lost = new WeakSet<GPUDevice>();
const watched = new WeakSet<GPUDevice>();

/** Starts watching `device.lost` (once per device); `then` runs when it is lost. */
export function watchDevice(device: GPUDevice, then?: () => void): void {
  if (!watched.has(device)) {
    watched.add(device);
    void device.lost.then(() => lost.add(device));
  }
  if (then) void device.lost.then(then);
}

/**
 * Throws `ENODEV` naming `call` when `device` is lost.
 * @throws {DmaBufError} `ENODEV`
 */
export function checkDevice(call: string, device: GPUDevice, role: string): void {
  if (lost.has(device)) throw new DmaBufError('ENODEV', `${call}: the ${role}'s device (${device.label || 'unlabelled'}) is lost`);
}

/**
 * What a failed `mapAsync` or other GPU step means to the caller: the device failed or was
 * destroyed under the operation, so `ENODEV`, keeping the original as `cause`.
 */
export function deviceFailure(call: string, error: unknown): DmaBufError {
  if (error instanceof DmaBufError) return error;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new DmaBufError('ENODEV', `${call}: a device failed during the transfer (${reason})`, { cause: error });
}
