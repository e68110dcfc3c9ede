/**
 * `webgpu-dmabuf/tfjs`: TensorFlow.js's WebGPU backend as an importer and an exporter of
 * dma-bufs. A dma-buf becomes a `tf.Tensor` without a copy ({@link importTensor}), whose
 * disposal ends the mapping once the work TensorFlow.js queued on it has run; a tensor's
 * bytes become a dma-buf without a copy ({@link exportTensor}). Nothing of it loads unless
 * this entry is imported; `@tensorflow/tfjs-core` and `@tensorflow/tfjs-backend-webgpu` are
 * optional peer dependencies (the backend's types only: the application registers it).
 */
export { importTensor, type DmaBufTensorType, type ImportTensorOptions } from './import-tensor.js';
export { exportTensor, type ExportTensorOptions } from './export-tensor.js';
export { submitQueued } from './submit-queued.js';
export { tfjsAdapterStats, type TfjsAdapterStats } from './adapter-stats.js';
