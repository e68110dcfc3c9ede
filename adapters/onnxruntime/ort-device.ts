/**
 * The `GPUDevice` ONNX Runtime Web's WebGPU execution provider runs on. In
 * `onnxruntime-web/webgpu` 1.31 (the native WebGPU EP) the execution provider makes its own
 * device when the first session with the `'webgpu'` EP is created, and only then sets
 * `env.webgpu.device` to it; setting that property earlier does not give it a device. A
 * session's `executionProviders: [{ name: 'webgpu', device }]` runs on a device of the
 * application's, but that version cannot bind `'gpu-buffer'` tensors there, so the adapter
 * works on ONNX Runtime's own device.
 */
import { env } from 'onnxruntime-web/webgpu';
import { DmaBufError } from 'webgpu-dmabuf';

/**
 * ONNX Runtime's WebGPU device, read from `env.webgpu.device`.
 * @throws {DmaBufError} `EINVAL`, naming `call`, when no session with the `'webgpu'` EP has
 *   been created yet (there is no device then).
 */
export async function ortDevice(call: string): Promise<GPUDevice> {
  const device: unknown = await (env.webgpu as { device?: unknown }).device;
  if (!(device instanceof GPUDevice)) {
    throw new DmaBufError('EINVAL', call, `ONNX Runtime has no WebGPU device yet: create an InferenceSession with the 'webgpu' execution provider first`);
  }
  return device;
}
