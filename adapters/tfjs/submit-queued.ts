/**
 * Getting TensorFlow.js's WebGPU backend to submit what it holds back: it records its
 * dispatches into one command encoder and submits them only at a read, at a GPU read-back
 * (`dataToGPU`) or after `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` dispatches (15 by default).
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/**
 * Submits every command the backend has recorded and not yet submitted, so that
 * `backend.device.queue.onSubmittedWorkDone()` (or `gpuFence(backend.device)`) called after
 * it covers them. TensorFlow.js has no public call for this: these are the backend's own
 * three public methods, in the order its `dataToGPU` and `data()` paths call them (open an
 * encoder if there is none, end the compute pass under way, finish and submit the encoder).
 * With nothing recorded it submits an empty command buffer. The backend also releases then
 * the buffers of tensors disposed while its commands still used them.
 */
export function submitQueued(backend: WebGPUBackend): void {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}
