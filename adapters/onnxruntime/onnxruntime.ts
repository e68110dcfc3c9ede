/**
 * `webgpu-dmabuf/onnxruntime`: ONNX Runtime Web's WebGPU execution provider
 * (`onnxruntime-web/webgpu`) as an importer and an exporter of dma-bufs, on ONNX Runtime's
 * own WebGPU device (`env.webgpu.device`). A dma-buf becomes an input tensor without a copy
 * ({@link importTensor}), whose disposal ends the mapping once the runs that may use it have
 * submitted their work and it has run; an output kept on the GPU becomes a dma-buf without a
 * copy ({@link exportTensor}). Nothing of it loads unless this entry is imported;
 * `onnxruntime-web` is an optional peer dependency.
 */
export type { DmaBufTensorType } from './element-types.js';
export { importTensor, type ImportTensorOptions } from './import-tensor.js';
export { exportTensor, type ExportTensorOptions } from './export-tensor.js';
export { onnxruntimeAdapterStats, type OnnxruntimeAdapterStats } from './adapter-stats.js';
