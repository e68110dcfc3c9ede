// Set-up of every browser test file (vite.config.ts `setupFiles`): every device made in the
// page, by a test or by a component under test, reports its uncaptured WebGPU errors
// (validation, out-of-memory), and every test fails on any. The hook wraps the real
// `requestDevice` and changes nothing of what it returns.
import { afterEach } from 'vitest';
import { expectNoGpuErrors, recordGpuError } from './gpu-errors.js';

// Files that share a page run this once each: the hook goes in once.
const HOOKED = Symbol.for('webgpu-dmabuf test: requestDevice reports uncaptured errors');
const prototype = GPUAdapter.prototype as GPUAdapter & { [HOOKED]?: true };
if (!prototype[HOOKED]) {
  prototype[HOOKED] = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its adapter below
  const requestDevice = prototype.requestDevice;
  prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor): Promise<GPUDevice> {
    const device = await requestDevice.call(this, descriptor);
    device.addEventListener('uncapturederror', (event) => {
      recordGpuError(device, event.error);
    });
    return device;
  };
}

afterEach(() => {
  expectNoGpuErrors();
});
