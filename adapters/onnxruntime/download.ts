/** Reading an imported tensor's bytes back to the CPU, for ONNX Runtime's `tensor.getData()`. */
import type { Tensor } from 'onnxruntime-web/webgpu';
import type { DmaBufTensorType } from './element-types.js';

/** The typed array ONNX Runtime gives for each element type (its `Tensor.DataTypeMap`). */
const ARRAYS = { float32: Float32Array, int32: Int32Array, uint32: Uint32Array } as const;

type TensorData<T extends DmaBufTensorType> = Tensor.DataTypeMap[T];

/**
 * Copies the first `4 × elements` bytes of `buffer` (on `device`, with `COPY_SRC`) into a new
 * `MAP_READ` buffer and returns them as a new typed array of `type`. The copy is submitted
 * after the work submitted so far, so it reads what that work left. The staging buffer is
 * destroyed before it returns.
 */
export async function download<T extends DmaBufTensorType>(device: GPUDevice, buffer: GPUBuffer, type: T, elements: number): Promise<TensorData<T>> {
  const bytes = elements * 4;
  const Array = ARRAYS[type];
  if (bytes === 0) return new Array(0) as TensorData<T>;
  const staging = device.createBuffer({ label: 'onnxruntime download', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return new Array(staging.getMappedRange().slice(0)) as TensorData<T>;
  } finally {
    staging.destroy();
  }
}
