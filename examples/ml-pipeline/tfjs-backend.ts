/**
 * TensorFlow.js's WebGPU backend on a device the ML module was given, made TensorFlow.js's
 * active backend (tensors are made on the active one), and removed again when the module stops.
 */
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';

let made = 0;

/** A WebGPU backend of TensorFlow.js on `device`, registered under a name of its own and active; `remove` undoes both. */
export async function activeBackendOn(device: GPUDevice): Promise<{ readonly backend: WebGPUBackend; readonly remove: () => void }> {
  const name = `ml-pipeline-${++made}`;
  const backend = new WebGPUBackend(device);
  tf.registerBackend(name, () => backend);
  // The stock backend's kernels, under this backend's name.
  for (const kernel of tf.getKernelsForBackend('webgpu')) tf.registerKernel({ ...kernel, backendName: name });
  const remove = () => {
    for (const kernel of tf.getKernelsForBackend(name)) tf.unregisterKernel(kernel.kernelName, name);
    tf.removeBackend(name);
  };
  try {
    if (!(await tf.setBackend(name))) throw new Error(`TensorFlow.js could not start its WebGPU backend on ${device.label || 'the module\'s device'}`);
  } catch (error) {
    remove();
    throw error;
  }
  return { backend, remove };
}
