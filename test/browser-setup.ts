// Set-up of every browser test file (vite.config.ts `setupFiles`): every device made in the
// page, by a test or by a component under test, reports its uncaptured WebGPU errors
// (validation, out-of-memory), and every test fails on any. The hook wraps the real
// `requestDevice` and changes nothing of what it returns.
import { afterEach } from 'vitest';
import { expectNoGpuErrors, recordGpuError } from './gpu-errors.js';

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its adapter below
const requestDevice = GPUAdapter.prototype.requestDevice;
GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor): Promise<GPUDevice> {
  const device = await requestDevice.call(this, descriptor);
  device.addEventListener('uncapturederror', (event) => {
    recordGpuError(device, event.error);
  });
  return device;
};

afterEach(() => {
  expectNoGpuErrors();
});
