import { DmaBufError } from '../src/error.js';

/**
 * What a page needs for WebGPU in Chromium, for messages that tell a person how to get it.
 * The flags are those of shared/webgpu-in-chromium.md.
 */
const HOW_TO_ENABLE =
  'use a browser with WebGPU (Chrome or Edge 113+, or Chromium started with --enable-unsafe-webgpu; ' +
  'without a GPU also --enable-features=Vulkan --use-vulkan=swiftshader --use-angle=swiftshader --enable-unsafe-swiftshader)';

/**
 * Requests an adapter and a `GPUDevice` of its own, as each independent module does (one
 * adapter gives one device, so every call asks for a new adapter).
 *
 * The caller owns the device and destroys it when done.
 * @throws {DmaBufError} `ENODEV` when the page has no `navigator.gpu`, when no adapter is
 *   offered, or when the device request fails; the message says how to enable WebGPU.
 */
export async function requestGpuDevice(descriptor?: GPUDeviceDescriptor): Promise<GPUDevice> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) {
    throw new DmaBufError('ENODEV', `requestGpuDevice: this page has no navigator.gpu; ${HOW_TO_ENABLE}`);
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw new DmaBufError('ENODEV', `requestGpuDevice: navigator.gpu.requestAdapter() gave no adapter; ${HOW_TO_ENABLE}`);
  }
  try {
    return await adapter.requestDevice(descriptor);
  } catch (cause) {
    throw new DmaBufError('ENODEV', `requestGpuDevice: requestDevice failed: ${String(cause)}`, { cause });
  }
}
