/**
 * An ONNX Runtime Web tensor kept on the GPU (`'gpu-buffer'`) as a dma-buf of a `GpuHeap`: the
 * tensor's own `GPUBuffer` exported as it is (`GpuHeap.wrap`), or a copy where it cannot be.
 */
import { Tensor } from 'onnxruntime-web/webgpu';
import { DmaBufError, GPU_HEAP_USAGE, GpuHeap, type GpuDmaBuf } from 'webgpu-dmabuf';
import { copyInto } from '../shared/copy-into.js';
import { counts } from './adapter-stats.js';
import { BYTES_PER_ELEMENT, isTensorType, TENSOR_TYPES } from './element-types.js';
import { ortDevice } from './ort-device.js';

/** Options of {@link exportTensor}. */
export interface ExportTensorOptions {
  /** The dma-buf's name in debug listings, at most 32 UTF-8 bytes. */
  readonly name?: string;
}

/**
 * Exports the bytes of `source`, a tensor ONNX Runtime keeps in a `GPUBuffer` on its WebGPU
 * device (an output of a session created with `preferredOutputLocation: 'gpu-buffer'`), as a
 * dma-buf of `heap`, a heap on that device (`env.webgpu.device`). The caller owns the one
 * reference returned; install it in an fd table and send it like any buffer.
 *
 * The adapter takes the tensor over: it disposes it once the dma-buf no longer needs its
 * buffer, and a `source.dispose()` of the caller's does nothing (ONNX Runtime would otherwise
 * hand the buffer to its next run's outputs while the dma-buf shows it). Without a copy where
 * it can: the dma-buf is the tensor's own `GPUBuffer` (`heap.wrap(buffer, { release })`),
 * and its `release`, once the last reference is put and no fence holds it, disposes the
 * tensor. Where the buffer is larger than the tensor (ONNX Runtime may round sizes up to its
 * cache's buckets) or lacks a flag of `GPU_HEAP_USAGE`, the dma-buf is a new buffer of the
 * heap with a GPU copy of the bytes (counted in {@link onnxruntimeAdapterStats}), and the
 * tensor is disposed once the copy is submitted. The dma-buf's size is the tensor's, four
 * bytes an element.
 *
 * ONNX Runtime has submitted the work that computes an output by the time `session.run`'s
 * promise settles, so every operation on the dma-buf, on any device, sees the tensor's
 * values. Importers on the heap's device that write into the buffer change the tensor too.
 * @throws {DmaBufError} `EINVAL` when `source` is not an ONNX Runtime tensor in a `GPUBuffer`
 *   (disposed, on the CPU), is of a type other than {@link DmaBufTensorType}, or `heap` is
 *   not a `GpuHeap` on ONNX Runtime's WebGPU device; whatever `heap.wrap` or `heap.allocate`
 *   throw. The tensor stays the caller's then.
 */
export async function exportTensor(source: Tensor, heap: GpuHeap, options: ExportTensorOptions = {}): Promise<GpuDmaBuf> {
  const call = 'exportTensor';
  if (!(source instanceof Tensor)) throw new DmaBufError('EINVAL', call, `source must be a Tensor of onnxruntime-web/webgpu`);
  const buffer = gpuBufferOf(source);
  if (!buffer) {
    throw new DmaBufError('EINVAL', call, `the tensor is not in a GPUBuffer (its location is '${source.location}'): create the session with preferredOutputLocation: 'gpu-buffer'`);
  }
  if (!isTensorType(source.type)) throw new DmaBufError('EINVAL', call, `a tensor of ${source.type} is not one of ${TENSOR_TYPES.join(', ')}`);
  const device = await ortDevice(call);
  if (!(heap instanceof GpuHeap) || heap.device !== device) throw new DmaBufError('EINVAL', call, `heap must be a GpuHeap on ONNX Runtime's WebGPU device`);
  const bytes = BYTES_PER_ELEMENT * source.size;
  const name = options.name === undefined ? {} : { name: options.name };

  if ((buffer.usage & GPU_HEAP_USAGE) === GPU_HEAP_USAGE && buffer.size === bytes) {
    const dispose = takeOver(source);
    const buf = heap.wrap(buffer, { ...name, release: dispose });
    counts.exported++;
    return buf;
  }
  const buf = heap.allocate(bytes, name);
  try {
    await copyInto(buf, device, buffer, bytes);
  } catch (error) {
    buf.put();
    throw error;
  }
  takeOver(source)();
  counts.exported++;
  counts.exportCopies++;
  counts.bytesCopied += bytes;
  return buf;
}

/**
 * The tensor's `GPUBuffer`, or `undefined` where it has none (made from CPU data, disposed).
 * A tensor read with `getData()` says its location is `'cpu'` from then on, and keeps its buffer.
 */
function gpuBufferOf(tensor: Tensor): GPUBuffer | undefined {
  try {
    const buffer: unknown = tensor.gpuBuffer;
    return buffer instanceof GPUBuffer ? buffer : undefined;
  } catch {
    return undefined; // ONNX Runtime's getter throws for a tensor without one
  }
}

/** Makes the caller's `tensor.dispose()` do nothing, and returns the tensor's own disposal. */
function takeOver(tensor: Tensor): () => void {
  const dispose = tensor.dispose.bind(tensor);
  tensor.dispose = () => undefined;
  return dispose;
}
