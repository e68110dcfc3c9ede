/** The ONNX element types a dma-buf can hold for ONNX Runtime Web's WebGPU execution provider. */

/** Element types of four bytes that ONNX Runtime Web keeps in a `GPUBuffer`. */
export type DmaBufTensorType = 'float32' | 'int32' | 'uint32';

/** Every {@link DmaBufTensorType}, for argument checks. */
export const TENSOR_TYPES: readonly DmaBufTensorType[] = ['float32', 'int32', 'uint32'];

/** Bytes of one element of each {@link DmaBufTensorType}. */
export const BYTES_PER_ELEMENT = 4;

/** Whether `type` is one of {@link TENSOR_TYPES}. */
export function isTensorType(type: unknown): type is DmaBufTensorType {
  return (TENSOR_TYPES as readonly unknown[]).includes(type);
}
