/**
 * `map-cross-realm`: a worker, with a device of its own, maps a buffer exported in the page
 * through the fd it inherited: `'to-device'` (the page's bytes cross to its mirror at map)
 * or `'from-device'` (its mirror's bytes cross back at unmap). Against two hand-written
 * transfers of the same bytes between plain buffers: read back into a reused `MAP_READ`
 * buffer, then `postMessage` of a transferred `ArrayBuffer` or a reused `SharedArrayBuffer`
 * (the request or the reply wakes the other side), then `writeBuffer` on the other device.
 * One operation is one request to the worker and its reply, for every variant; it ends when
 * the receiving device's queue is idle.
 */
import { CrossRealmWorker } from '../cross-realm/client.js';
import { KiB, MiB, powersOfFour, type BenchOp, type Scenario } from '../scenario.js';
import { copyAndMap, pattern, readStaging } from './exported-buffer.js';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** How long dispose waits for the worker's reference to come back before the run calls it a leak. */
const RELEASE_TIMEOUT_MS = 5_000;

const TO_WORKER = ['raw-message-to-worker', 'raw-shared-to-worker'];
const TO_PAGE = ['raw-message-to-page', 'raw-shared-to-page'];

export const mapCrossRealm: Scenario = {
  id: 'map-cross-realm',
  title: 'Map in a worker',
  measures: "map + unmap in a worker on its own device of a buffer exported in the page: 'to-device' moves the bytes to it at map, 'from-device' back at unmap; the baselines move the same bytes by hand (read back, postMessage or SharedArrayBuffer, writeBuffer).",
  metric: 'throughput',
  ratio: 'baseline',
  pageOnly: true,
  variants: [
    { id: 'dmabuf-to-device', label: "dmabuf 'to-device' in worker", role: 'ours', against: TO_WORKER },
    { id: 'raw-message-to-worker', label: 'raw page -> worker, postMessage', role: 'raw', against: TO_WORKER },
    { id: 'raw-shared-to-worker', label: 'raw page -> worker, SharedArrayBuffer', role: 'raw', against: TO_WORKER },
    { id: 'dmabuf-from-device', label: "dmabuf 'from-device' in worker", role: 'ours', against: TO_PAGE },
    { id: 'raw-message-to-page', label: 'raw worker -> page, postMessage', role: 'raw', against: TO_PAGE },
    { id: 'raw-shared-to-page', label: 'raw worker -> page, SharedArrayBuffer', role: 'raw', against: TO_PAGE },
  ],
  sizes: (quick) => (quick ? [64 * KiB, 1 * MiB] : powersOfFour(64 * KiB, 64 * MiB)),
  async prepare(env, size) {
    const { exporter, heap } = env;
    if (!globalThis.crossOriginIsolated) throw new Error('map-cross-realm needs a cross-origin isolated page (SharedArrayBuffer for its baseline)');
    const liveBefore = heap.stats().liveBuffers;
    const buf = heap.allocate(size, { name: 'bench map-cross-realm' });
    const onExporter = exporter.createBuffer({ size, usage: STORAGE, label: 'bench raw in page' });
    const staging = readStaging(exporter, size, 'bench hand transfer staging');
    const shared = new SharedArrayBuffer(size);
    const sharedView = new Uint8Array(shared);
    exporter.queue.writeBuffer(onExporter, 0, pattern(size));
    let worker: CrossRealmWorker;
    try {
      worker = await CrossRealmWorker.start(buf, size, shared);
    } catch (error) {
      buf.put();
      onExporter.destroy();
      staging.destroy();
      throw error;
    }
    /** Ends an operation whose bytes land in the page: the page's queue is idle. */
    const landed = () => exporter.queue.onSubmittedWorkDone();
    const ops = new Map<string, BenchOp>([
      ['dmabuf-to-device', async () => { await worker.call({ op: 'map', dir: 'to-device' }); }],
      ['raw-message-to-worker', async () => {
        // The mapped range cannot be transferred: its bytes are taken into a buffer that can.
        const bytes = (await copyAndMap(exporter, onExporter, 0, staging, size)).slice(0);
        staging.unmap();
        await worker.call({ op: 'write-message', bytes }, [bytes]);
      }],
      ['raw-shared-to-worker', async () => {
        sharedView.set(new Uint8Array(await copyAndMap(exporter, onExporter, 0, staging, size)));
        staging.unmap();
        await worker.call({ op: 'write-shared' });
      }],
      ['dmabuf-from-device', async () => {
        await worker.call({ op: 'map', dir: 'from-device' });
        await landed();
      }],
      ['raw-message-to-page', async () => {
        const bytes = await worker.call({ op: 'read-message' });
        if (!bytes) throw new Error('map-cross-realm: the worker sent no bytes');
        exporter.queue.writeBuffer(onExporter, 0, bytes);
        await landed();
      }],
      ['raw-shared-to-page', async () => {
        await worker.call({ op: 'read-shared' });
        exporter.queue.writeBuffer(onExporter, 0, sharedView);
        await landed();
      }],
    ]);
    return {
      ops,
      bytesPerOp: size,
      extras: () => ({ workerTransportShared: worker.transport === 'shared-memory' ? 1 : 0 }),
      dispose: async () => {
        try {
          await worker.close();
        } finally {
          buf.put();
          onExporter.destroy();
          staging.destroy();
          // The worker's reference comes back over the socket (or with its death): the
          // buffer is released once it has.
          const end = performance.now() + RELEASE_TIMEOUT_MS;
          while (heap.stats().liveBuffers > liveBefore && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
        }
      },
    };
  },
};
