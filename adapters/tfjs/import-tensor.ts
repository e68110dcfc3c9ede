/**
 * A dma-buf as a `tf.Tensor` on TensorFlow.js's WebGPU backend: the importer's steps of the
 * contract (get, attach, map; unmap, detach, put) tied to the tensor's life.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { tensor, type Rank, type ShapeMap, type Tensor } from '@tensorflow/tfjs-core';
import { DmaBuf, DmaBufError, gpuFence } from 'webgpu-dmabuf';
import { copyFromOffset } from '../shared/copy-into.js';
import { endMapping } from '../shared/end-mapping.js';
import { mapWhole } from '../shared/map-whole.js';
import { holdForTensor } from '../shared/tensor-hold.js';
import { checkActiveBackend } from './active-backend.js';
import { countsOf } from './adapter-stats.js';
import { onDataReleased } from './data-release.js';
import { submitQueued } from './submit-queued.js';

/** The element types a dma-buf can hold for TensorFlow.js's WebGPU backend: four bytes each. */
export type DmaBufTensorType = 'float32' | 'int32' | 'bool';

const TYPES: readonly DmaBufTensorType[] = ['float32', 'int32', 'bool'];

/** What {@link importTensor} makes of the buffer's bytes. */
export interface ImportTensorOptions<R extends Rank = Rank> {
  /** The tensor's shape: its elements are the buffer's first `4 × size` bytes. */
  readonly shape: ShapeMap[R];
  /** Default `'float32'`; `'int32'` and `'bool'` are four bytes an element too on WebGPU. */
  readonly dtype?: DmaBufTensorType;
}

/**
 * Makes a `tf.Tensor` of the dma-buf's bytes on `backend`, TensorFlow.js's active WebGPU
 * backend, without a copy where it can: the tensor's storage is the one `GPUBuffer` that
 * `buf.attach(backend.device, { contiguous: true })` maps `'to-device'` (on the exporter's
 * own device the exporter's buffer itself, elsewhere a mirror the heap fills at the map).
 * Where that buffer does not start at offset 0 (TensorFlow.js binds buffers whole), the
 * tensor gets a copy of the bytes instead, made on the GPU at import and counted in
 * {@link tfjsAdapterStats}; the mapping then ends at once.
 *
 * The tensor holds the mapping: the adapter takes a reference of its own (`buf.get()`), so
 * the caller may put its own at any time. Where the tensor shares the exporter's bytes (the
 * map moved none: the exporter's own device), a fence stands in the buffer's reservation as a
 * `'read'` fence while the tensor lives, so that writes into the buffer (`buf.write`, CPU
 * write-backs, other devices' unmaps) called meanwhile wait until TensorFlow.js is done with
 * it; a tensor elsewhere has a copy of its own, and writers do not wait for it. When TensorFlow.js lets go of the tensor's data
 * (the tensor and every tensor sharing its data disposed, `tf.tidy` included, or the backend
 * disposed), the adapter submits what TensorFlow.js still holds back ({@link submitQueued}),
 * then unmaps with `until` a fence of the work submitted on the backend's device
 * (`gpuFence`), and detaches and puts its reference once the unmap is done. So the exporter's
 * next write, or the next map's copy into the mirror, waits for every command that read the
 * tensor, submitted or not when it was disposed. An error of that unmap or detach has no
 * caller left: it is reported to the realm (`reportError`).
 *
 * The bytes are the buffer's as of the map (called at import, in the buffer's call order);
 * the tensor is read-only to TensorFlow.js, as every tensor is.
 * @throws {DmaBufError} `EINVAL` when `buf` is not a `DmaBuf`, the shape is not a list of
 *   non-negative integers, the dtype is not one of {@link DmaBufTensorType}, the tensor is
 *   larger than the buffer, or `backend` is not TensorFlow.js's active WebGPU backend;
 *   whatever `attach` and `map` throw (`ENOMEM` when the buffer is larger than one binding
 *   on the backend's device). Nothing is kept then: the reference taken is put again.
 */
export async function importTensor<R extends Rank = Rank>(buf: DmaBuf, backend: WebGPUBackend, options: ImportTensorOptions<R>): Promise<Tensor<R>> {
  const call = 'importTensor';
  if (!(buf instanceof DmaBuf)) throw new DmaBufError('EINVAL', call, `buf must be a DmaBuf`);
  checkActiveBackend(call, backend);
  const { shape, dtype = 'float32' } = options;
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new DmaBufError('EINVAL', call, `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!TYPES.includes(dtype)) throw new DmaBufError('EINVAL', call, `dtype must be one of ${TYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  const bytes = 4 * shape.reduce((product, n) => product * n, 1);
  if (bytes > buf.size) throw new DmaBufError('EINVAL', call, `a tensor of shape [${shape.join(', ')}] takes ${bytes} bytes, more than the buffer's ${buf.size}`);

  const device = backend.device;
  const mapping = await mapWhole(buf, device);
  const { own, attachment, sgt } = mapping;
  const counts = countsOf(backend);
  const { buffer } = sgt;
  const offset = sgt.segments[0]?.offset ?? 0;

  if (offset === 0) {
    // The exporter's own bytes: its writers wait for the tensor, not only for the unmap.
    const release = holdForTensor(mapping);
    let made: Tensor<R>;
    try {
      made = tensor<R>({ buffer, zeroCopy: true }, shape, dtype);
    } catch (error) {
      release();
      throw error;
    }
    counts.imported++;
    onDataReleased(backend, made.dataId, () => {
      submitQueued(backend);
      release(gpuFence(device));
    });
    return made;
  }

  // TensorFlow.js binds a tensor's buffer from offset 0: copy the bytes into one of its own.
  const copy = copyFromOffset(device, buffer, offset, bytes, `${call} copy`);
  endMapping(own, attachment, sgt);
  let made: Tensor<R>;
  try {
    made = tensor<R>({ buffer: copy, zeroCopy: true }, shape, dtype);
  } catch (error) {
    copy.destroy();
    throw error;
  }
  counts.imported++;
  counts.importCopies++;
  counts.bytesCopied += bytes;
  onDataReleased(backend, made.dataId, () => {
    submitQueued(backend);
    void device.queue.onSubmittedWorkDone().finally(() => {
      copy.destroy();
    });
  });
  return made;
}
