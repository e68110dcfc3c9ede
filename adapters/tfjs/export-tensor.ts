/**
 * A tensor's bytes on TensorFlow.js's WebGPU backend as a dma-buf of a `GpuHeap`: the
 * tensor's own `GPUBuffer` exported as it is (`GpuHeap.wrap`), or a copy where it cannot be.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { keep, type Tensor } from '@tensorflow/tfjs-core';
import { DmaBufError, GPU_HEAP_USAGE, GpuHeap, type GpuDmaBuf } from 'webgpu-dmabuf';
import { copyInto } from '../shared/copy-into.js';
import { checkActiveBackend } from './active-backend.js';
import { countsOf } from './adapter-stats.js';
import { submitQueued } from './submit-queued.js';

/** Options of {@link exportTensor}. */
export interface ExportTensorOptions {
  /** The dma-buf's name in debug listings, at most 32 UTF-8 bytes. */
  readonly name?: string;
}

/**
 * Exports the bytes of `source`, a tensor on `backend` (TensorFlow.js's active WebGPU
 * backend), as a dma-buf of `heap`, a heap on the backend's device. The caller owns the one
 * reference returned; install it in an fd table and send it like any buffer.
 *
 * Without a copy where it can: the dma-buf is the tensor's own `GPUBuffer`
 * (`heap.wrap(buffer, { release })`), kept from TensorFlow.js's reuse by a clone of the tensor
 * (which shares its data: no copy either) that the dma-buf's `release` disposes once the last
 * reference is put and no fence holds it. The caller may dispose `source` at any time. Where
 * the tensor's buffer lacks a flag of `GPU_HEAP_USAGE` or is larger than the tensor (a tensor
 * made from a `GPUBuffer` of the application's, `tf.tensor({ buffer })`), the
 * dma-buf is a new buffer of the heap with a GPU copy of the bytes (counted in
 * {@link tfjsAdapterStats}). The dma-buf's size is the tensor's, four bytes an element.
 *
 * TensorFlow.js may not yet have submitted the commands that compute the tensor: the adapter
 * submits them first ({@link submitQueued}), so every operation on the dma-buf, on any device,
 * sees the tensor's values. Importers on the heap's device that write into the buffer
 * (`'from-device'`, `'bidirectional'` maps) change the tensor too: its bytes are shared.
 * TensorFlow.js does `tensor.dataToGPU()` with a copy (a new buffer of its pool), so the
 * adapter does not use it.
 * @throws {DmaBufError} `EINVAL` when `source` is disposed, of a type other than four bytes an
 *   element, not on `backend` or not in a `GPUBuffer` there (a texture), when `backend` is not the active WebGPU backend, or `heap` is
 *   not a `GpuHeap` on `backend.device`; whatever `heap.wrap` or `heap.allocate` throw.
 */
export async function exportTensor(source: Tensor, backend: WebGPUBackend, heap: GpuHeap, options: ExportTensorOptions = {}): Promise<GpuDmaBuf> {
  const call = 'exportTensor';
  checkActiveBackend(call, backend);
  if (!(heap instanceof GpuHeap) || heap.device !== backend.device) throw new DmaBufError('EINVAL', call, `heap must be a GpuHeap on the backend's device`);
  if (source.isDisposed) throw new DmaBufError('EINVAL', call, `the tensor is disposed`);
  if (!['float32', 'int32', 'bool'].includes(source.dtype)) throw new DmaBufError('EINVAL', call, `a tensor of ${source.dtype} is not four bytes an element`);
  if (!backend.tensorMap.has(source.dataId)) throw new DmaBufError('EINVAL', call, `the tensor's data is not on the backend`);

  const kept = keep(source.clone()); // kept out of any scope the caller has open
  try {
    backend.uploadToGPU(kept.dataId); // data still on the CPU (a tensor made from values) goes to a GPUBuffer
    submitQueued(backend);
    const resource = backend.tensorMap.get(kept.dataId).resource;
    const bytes = 4 * kept.size;
    const name = options.name === undefined ? {} : { name: options.name };
    const counts = countsOf(backend);
    if (resource instanceof GPUBuffer && (resource.usage & GPU_HEAP_USAGE) === GPU_HEAP_USAGE && resource.size === bytes) {
      const buf = heap.wrap(resource, {
        ...name,
        release: () => {
          kept.dispose();
        },
      });
      counts.exported++;
      return buf;
    }
    if (!(resource instanceof GPUBuffer)) throw new DmaBufError('EINVAL', call, `the tensor's data is not in a GPUBuffer`);
    const buf = heap.allocate(bytes, name);
    try {
      await copyInto(buf, heap.device, resource, bytes);
    } catch (error) {
      buf.put();
      throw error;
    }
    kept.dispose();
    counts.exported++;
    counts.exportCopies++;
    counts.bytesCopied += bytes;
    return buf;
  } catch (error) {
    if (!kept.isDisposed) kept.dispose();
    throw error;
  }
}
