/**
 * A dma-buf as an ONNX Runtime Web tensor on its WebGPU execution provider's device
 * (`Tensor.fromGpuBuffer`): the importer's steps of the contract (get, attach, map; unmap,
 * detach, put) tied to the tensor's life.
 */
import { Tensor, type TypedTensor } from 'onnxruntime-web/webgpu';
import { DmaBuf, DmaBufError, DmaFence, gpuFence } from 'webgpu-dmabuf';
import { copyFromOffset } from '../shared/copy-into.js';
import { endMapping } from '../shared/end-mapping.js';
import { mapWhole } from '../shared/map-whole.js';
import { holdForTensor } from '../shared/tensor-hold.js';
import { counts } from './adapter-stats.js';
import { download } from './download.js';
import { BYTES_PER_ELEMENT, isTensorType, TENSOR_TYPES, type DmaBufTensorType } from './element-types.js';
import { ortDevice } from './ort-device.js';
import { runsSettled, watchRuns } from './runs-in-flight.js';

/** What {@link importTensor} makes of the buffer's bytes. */
export interface ImportTensorOptions<T extends DmaBufTensorType = 'float32'> {
  /** The tensor's dimensions: its elements are the buffer's first `4 × size` bytes. */
  readonly dims: readonly number[];
  /** Default `'float32'`. */
  readonly type?: T;
}

/**
 * Makes an ONNX Runtime tensor (`location` `'gpu-buffer'`) of the dma-buf's bytes on ONNX
 * Runtime's WebGPU device (`env.webgpu.device`, there once a session with the `'webgpu'` EP
 * exists), without a copy where it can: the tensor's buffer is the one `GPUBuffer` that
 * `buf.attach(device, { contiguous: true })` maps `'to-device'` (on the exporter's own device
 * the exporter's buffer itself, elsewhere a mirror the heap fills at the map), given to
 * `Tensor.fromGpuBuffer`. Where that buffer does not start at offset 0 (ONNX Runtime binds
 * buffers whole), the tensor gets a copy of the bytes instead, made on the GPU at import and
 * counted in {@link onnxruntimeAdapterStats}; the mapping then ends at once.
 *
 * The caller owns the tensor and disposes it (`tensor.dispose()`), which ends the mapping.
 * The adapter takes a reference of its own (`buf.get()`), so the caller may put its own at
 * any time. ONNX Runtime reads a run's feeds when `session.run` is called but records and
 * submits the work later: when the tensor is disposed, the adapter waits until every run
 * started before then has settled (it follows runs by wrapping `InferenceSession.prototype.run`
 * once), then unmaps with `until` a fence of the work submitted on the device (`gpuFence`),
 * and detaches and puts its reference once the unmap is done. So the exporter's next write,
 * or the next map's copy into the mirror, waits for every command that read the tensor. Where
 * the tensor shares the exporter's bytes (the map moved none: the exporter's own device), a
 * fence stands in the buffer's reservation as a `'read'` fence while the tensor lives, so
 * writes into the buffer called meanwhile wait until ONNX Runtime is done with it. An error of
 * that unmap or detach has no caller left: it is reported to the realm (`reportError`).
 *
 * The bytes are the buffer's as of the map (called at import, in the buffer's call order).
 * `tensor.getData()` reads them back with a copy into a staging buffer.
 * @throws {DmaBufError} `EINVAL` when `buf` is not a `DmaBuf`, the dims are not a list of
 *   non-negative integers, the type is not one of {@link DmaBufTensorType}, the tensor is
 *   larger than the buffer, or ONNX Runtime has no WebGPU device yet; whatever `attach` and
 *   `map` throw (`ENOMEM` when the buffer is larger than one binding on that device). Nothing
 *   is kept then: the reference taken is put again.
 */
export async function importTensor<T extends DmaBufTensorType = 'float32'>(buf: DmaBuf, options: ImportTensorOptions<T>): Promise<TypedTensor<T>> {
  const call = 'importTensor';
  if (!(buf instanceof DmaBuf)) throw new DmaBufError('EINVAL', call, `buf must be a DmaBuf`);
  const { dims } = options;
  const type = options.type ?? 'float32';
  const given: unknown = dims;
  if (!Array.isArray(given) || !given.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
    throw new DmaBufError('EINVAL', call, `dims must be a list of non-negative integers, got ${JSON.stringify(given)}`);
  }
  if (!isTensorType(type)) throw new DmaBufError('EINVAL', call, `type must be one of ${TENSOR_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  const elements = dims.reduce((product, n) => product * n, 1);
  const bytes = BYTES_PER_ELEMENT * elements;
  if (bytes > buf.size) throw new DmaBufError('EINVAL', call, `a tensor of dims [${dims.join(', ')}] takes ${bytes} bytes, more than the buffer's ${buf.size}`);
  const device = await ortDevice(call);
  watchRuns();

  const mapping = await mapWhole(buf, device);
  const { own, attachment, sgt } = mapping;
  const { buffer } = sgt;
  const offset = sgt.segments[0]?.offset ?? 0;
  const dataType = type as T;

  if (offset === 0) {
    // The exporter's own bytes: its writers wait for the tensor, not only for the unmap.
    const release = holdForTensor(mapping);
    let made: TypedTensor<T>;
    try {
      made = Tensor.fromGpuBuffer(buffer, {
        dataType,
        dims,
        download: () => download(device, buffer, dataType, elements),
        dispose: () => {
          release(afterRuns(device));
        },
      });
    } catch (error) {
      release();
      throw error;
    }
    counts.imported++;
    return made;
  }

  // ONNX Runtime binds a tensor's buffer from offset 0: copy the bytes into one of its own.
  const copy = copyFromOffset(device, buffer, offset, bytes, `${call} copy`);
  endMapping(own, attachment, sgt);
  let made: TypedTensor<T>;
  try {
    made = Tensor.fromGpuBuffer(copy, {
      dataType,
      dims,
      download: () => download(device, copy, dataType, elements),
      dispose: () => {
        afterRuns(device).addCallback(() => {
          copy.destroy();
        });
      },
    });
  } catch (error) {
    copy.destroy();
    throw error;
  }
  counts.imported++;
  counts.importCopies++;
  counts.bytesCopied += bytes;
  return made;
}

/**
 * A fence that signals once every run started so far has settled and the work then submitted
 * on `device` has completed; with `ENODEV` when the device is lost first.
 */
function afterRuns(device: GPUDevice): DmaFence {
  const done = new DmaFence();
  void runsSettled().then(async () => {
    const gpu = gpuFence(device);
    await gpu.wait();
    if (gpu.error) done.setError(gpu.error.code);
    done.signal();
  });
  return done;
}
