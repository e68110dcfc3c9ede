/**
 * `ml-import`: a frame exported on one device becomes a tensor of an ML library that runs on
 * a device of its own (TensorFlow.js's WebGPU backend on the bench's second device). Ours:
 * `importTensor` of the fd (`webgpu-dmabuf/tfjs`: a `'to-device'` map into the library's
 * device, the tensor zero-copy over the mirror). Against the library's own upload path, as a
 * user without this library writes it: read the frame back into a reused `MAP_READ` buffer,
 * `tf.tensor` of the bytes, and TensorFlow.js's upload to its device (`uploadToGPU`, which
 * stages through a mapped buffer of its own). Beside it, raw WebGPU by hand: the same read
 * back, `writeBuffer` into a buffer on the library's device, and a zero-copy tensor over it.
 * Every operation makes the tensor, disposes of it and ends when the library's queue is idle.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { KiB, MiB, type BenchOp, type Scenario } from '../scenario.js';
import { copyAndMap, pattern, readStaging } from './exported-buffer.js';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** The name the bench registers TensorFlow.js's WebGPU backend under, on the importer's device. */
const BACKEND = 'bench-ml-import';

/** How long dispose waits for the adapter's reference to come back before the run calls it a leak. */
const RELEASE_TIMEOUT_MS = 5_000;

const AGAINST = ['tfjs-upload'];

export const mlImport: Scenario = {
  id: 'ml-import',
  title: 'Import into an ML library',
  measures: "a frame on the exporter's device becomes a TensorFlow.js tensor on the library's own device and is disposed of: through its fd (importTensor), against TensorFlow.js's own upload of the read-back bytes, and raw WebGPU by hand.",
  metric: 'throughput',
  ratio: 'baseline',
  // TensorFlow.js's WebGPU backend needs a page (Node on Dawn has no navigator.gpu for it).
  pageOnly: true,
  variants: [
    { id: 'dmabuf-import', label: 'dmabuf importTensor (fd)', role: 'ours', against: AGAINST },
    { id: 'tfjs-upload', label: 'TF.js upload of read-back bytes', role: 'library', against: AGAINST },
    { id: 'raw-zero-copy', label: 'raw read back + writeBuffer, zero-copy tensor', role: 'raw', against: AGAINST },
  ],
  sizes: (quick) => (quick ? [256 * KiB] : [256 * KiB, 4 * MiB, 16 * MiB]),
  async prepare(env, size) {
    const { exporter, importer, heap } = env;
    // Loaded here, not with the page: TensorFlow.js is large and only this scenario needs it.
    const [tf, { WebGPUBackend }, { importTensor, submitQueued }] = await Promise.all([
      import('@tensorflow/tfjs-core'),
      import('@tensorflow/tfjs-backend-webgpu'),
      import('webgpu-dmabuf/tfjs'),
    ]);
    const backend: WebGPUBackend = new WebGPUBackend(importer);
    tf.registerBackend(BACKEND, () => backend);
    for (const kernel of tf.getKernelsForBackend('webgpu')) tf.registerKernel({ ...kernel, backendName: BACKEND });
    const removeBackend = () => {
      for (const kernel of tf.getKernelsForBackend(BACKEND)) tf.unregisterKernel(kernel.kernelName, BACKEND);
      tf.removeBackend(BACKEND);
    };
    const elements = size / 4;
    const liveBefore = heap.stats().liveBuffers;
    const buf = heap.allocate(size, { name: 'bench ml-import' });
    const onExporter = exporter.createBuffer({ size, usage: STORAGE, label: 'bench raw frame' });
    const onImporter = importer.createBuffer({ size, usage: STORAGE, label: 'bench raw tensor storage' });
    const staging = readStaging(exporter, size, 'bench hand transfer staging');
    const frame = pattern(size);
    exporter.queue.writeBuffer(onExporter, 0, frame);
    try {
      await tf.setBackend(BACKEND);
      await buf.write(frame);
    } catch (error) {
      buf.put();
      for (const buffer of [onExporter, onImporter, staging]) buffer.destroy();
      removeBackend();
      throw error;
    }
    const idle = () => importer.queue.onSubmittedWorkDone();
    const ops = new Map<string, BenchOp>([
      ['dmabuf-import', async () => {
        const tensor = await importTensor(buf, backend, { shape: [elements] });
        tensor.dispose();
        await idle();
      }],
      ['tfjs-upload', async () => {
        // The mapped range goes when the staging buffer unmaps: the tensor needs bytes of its own.
        const values = new Float32Array((await copyAndMap(exporter, onExporter, 0, staging, size)).slice(0));
        staging.unmap();
        const tensor = tf.tensor1d(values);
        backend.uploadToGPU(tensor.dataId);
        submitQueued(backend);
        tensor.dispose();
        await idle();
      }],
      ['raw-zero-copy', async () => {
        importer.queue.writeBuffer(onImporter, 0, await copyAndMap(exporter, onExporter, 0, staging, size));
        staging.unmap();
        const tensor = tf.tensor({ buffer: onImporter, zeroCopy: true }, [elements], 'float32');
        tensor.dispose();
        await idle();
      }],
    ]);
    return {
      ops,
      bytesPerOp: size,
      dispose: async () => {
        buf.put();
        try {
          // The adapter puts its reference once the last tensor's unmap is done.
          const end = performance.now() + RELEASE_TIMEOUT_MS;
          while (heap.stats().liveBuffers > liveBefore && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
        } finally {
          removeBackend();
          for (const buffer of [onExporter, onImporter, staging]) buffer.destroy();
        }
      },
    };
  },
};
