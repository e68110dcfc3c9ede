/**
 * webgpu-dmabuf: Linux's dma-buf buffer-sharing contract on WebGPU.
 *
 * The public API. `src/` holds the WebGPU-free contract, `gpu/` the WebGPU exporter;
 * apps, components and examples import from here (as `'webgpu-dmabuf'`) and nowhere else.
 */
export { DmaBufError, type DmaBufErrorCode } from './src/error.js';
export { requestGpuDevice } from './gpu/request-device.js';
