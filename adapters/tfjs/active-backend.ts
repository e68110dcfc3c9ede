/** The check that a WebGPU backend is TensorFlow.js's active one, where tensors are made. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { engine } from '@tensorflow/tfjs-core';
import { DmaBufError } from 'webgpu-dmabuf';

/**
 * @throws {DmaBufError} `EINVAL`, naming `call`, when `backend` is not the backend
 *   TensorFlow.js runs ops on now (`tf.setBackend(name)` selects it), or is not a backend with
 *   a `GPUDevice`.
 */
export function checkActiveBackend(call: string, backend: WebGPUBackend): void {
  const candidate: unknown = (backend as { device?: unknown } | null)?.device;
  if (!(candidate instanceof GPUDevice)) throw new DmaBufError('EINVAL', call, `backend must be a WebGPUBackend of @tensorflow/tfjs-backend-webgpu (it has no GPUDevice)`);
  const name: unknown = engine().backendName; // null before any backend is set
  if (typeof name !== 'string' || engine().findBackend(name) !== backend) {
    throw new DmaBufError('EINVAL', call, `the backend is not TensorFlow.js's active backend (that is ${typeof name === 'string' ? `'${name}'` : 'none'}): call tf.setBackend with its name first`);
  }
}
