/**
 * The producer's side, without a DOM so that the page and the tests run the same program: a
 * device and a heap in the page, one buffer filled through CPU access, a consumer worker
 * spawned with the buffer's fd, and the result read back through CPU access once the worker
 * says its work is done. Everything it makes is released before it resolves.
 */
import { FdTable, GpuHeap, PAGE_SIZE, requestGpuDevice, spawnWorker, type DmaBuf, type FdSocketTransport } from 'webgpu-dmabuf';
import { isConsumerReply, type ConsumerReply, type InvertRequest } from './messages.js';

/** The buffer's size by default: 16 pages, a multiple of the shader's 4-byte words. */
export const DEFAULT_SIZE = 16 * PAGE_SIZE;

/** How long the teardown waits for the worker's references to come back before calling it a leak. */
const RELEASE_TIMEOUT_MS = 5_000;

/** What one run did and saw. */
export interface WorkerPipelineRun {
  /** The bytes the page wrote. */
  readonly input: Uint8Array;
  /** The bytes the page read back after the worker's unmap. */
  readonly output: Uint8Array;
  /** How the buffer's bytes travelled between the page and the worker. */
  readonly transport: FdSocketTransport;
  /** Whether the page was cross-origin isolated (what the shared-memory transport needs). */
  readonly crossOriginIsolated: boolean;
  /** The segments the buffer mapped as on the worker's device. */
  readonly segments: number;
  /** The label of the worker's device. */
  readonly consumerDevice: string;
  /** The page's heap, destroyed: its counts stay readable. */
  readonly heap: GpuHeap;
  /** The page's device, destroyed. */
  readonly device: GPUDevice;
}

/** Options of {@link runWorkerPipeline}. */
export interface WorkerPipelineOptions {
  /** The buffer's size in bytes, a multiple of 4. Default {@link DEFAULT_SIZE}. */
  readonly size?: number;
  /** Told each step as it happens, for the page's log; the run waits for what it returns. */
  readonly onStep?: (line: string) => void | Promise<void>;
}

/** The word at index `i` of the input: every byte differs from its neighbours and from its inverse. */
export function inputWord(i: number): number {
  return Math.imul(i + 1, 0x9e3779b1) >>> 0;
}

/** Copies `bytes` into (or, without them, out of) `buf` through CPU access, page by page. */
async function cpuCopy(buf: DmaBuf, bytes: Uint8Array, write: boolean): Promise<void> {
  const dir = write ? 'to-device' : 'from-device';
  await buf.beginCpuAccess(0, bytes.length, dir);
  try {
    for (let page = 0; page * PAGE_SIZE < bytes.length; page++) {
      const view = buf.kmap(page);
      const part = bytes.subarray(page * PAGE_SIZE, page * PAGE_SIZE + view.length);
      if (write) view.set(part);
      else part.set(view.subarray(0, part.length));
      buf.kunmap(page, view);
    }
  } finally {
    buf.endCpuAccess(0, bytes.length, dir);
  }
}

/** The worker's reply to its one request; rejects when the worker fails to start or run. */
function nextReply(worker: Worker): Promise<ConsumerReply> {
  return new Promise((resolve, reject) => {
    // A worker whose script fails to load gets an error event with no message.
    worker.addEventListener('error', (event) => { reject(new Error(`the consumer worker failed: ${event.message || 'it did not load (its script is missing or not JavaScript)'}`)); });
    worker.addEventListener('message', (event: MessageEvent) => {
      if (isConsumerReply(event.data)) resolve(event.data);
    });
  });
}

/** Resolves once `heap` has no live buffer, or after `timeoutMs` (its destroy then says what is held). */
async function released(heap: GpuHeap, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (heap.stats().liveBuffers > 0 && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * Runs the pipeline once: the page fills a buffer, a consumer worker inverts it on its own
 * device through the fd it inherited, the page reads the result.
 * @throws {DmaBufError} `ENODEV` without WebGPU; `EBUSY` when the worker's references did not
 *   come back (a leak); an `Error` with the worker's message when its work failed.
 */
export async function runWorkerPipeline(options: WorkerPipelineOptions = {}): Promise<WorkerPipelineRun> {
  const { size = DEFAULT_SIZE, onStep } = options;
  const say = async (line: string) => { await onStep?.(line); };
  const device = await requestGpuDevice({ label: 'producer device' });
  const heap = new GpuHeap(device, { name: 'producer-heap' });
  const table = new FdTable();
  let spawned: ReturnType<typeof spawnWorker> | undefined;
  try {
    const buf = heap.allocate(size, { name: 'pipeline' });
    const input = new Uint8Array(size);
    new Uint32Array(input.buffer).forEach((_, i, words) => { words[i] = inputWord(i); });
    try {
      await cpuCopy(buf, input, true);
    } catch (error) {
      buf.put();
      throw error;
    }
    // Not close-on-exec, so the worker begins with it at the same number.
    const fd = table.install(buf, { cloexec: false });
    buf.put();
    await say(`page: filled "pipeline" (${String(size)} bytes) through CPU access, fd ${String(fd)}`);

    // The form bundlers recognise: `vite build` bundles the worker and its imports
    // (test/package/production-build.test.ts runs the built page).
    spawned = spawnWorker(new Worker(new URL('./consumer.ts', import.meta.url), { type: 'module', name: 'consumer' }), table);
    const reply = nextReply(spawned.worker);
    const request: InvertRequest = { kind: 'invert', fd };
    spawned.worker.postMessage(request);
    await say(`page: spawned the consumer worker with fd ${String(fd)} and asked it to invert the buffer`);
    const answer = await reply;
    if (answer.kind === 'failed') throw new Error(`the consumer: ${answer.message}`);
    const transport = spawned.socket.transport;
    await say(`worker: mapped it 'bidirectional' on "${answer.device}" (${String(answer.segments)} segment(s)), inverted every word, unmapped: the result went back over ${transport}`);

    const output = new Uint8Array(size);
    const mine = table.get(fd);
    try {
      await cpuCopy(mine, output, false);
    } finally {
      mine.put();
    }
    await say('page: read the result through CPU access');
    return { input, output, transport, crossOriginIsolated: globalThis.crossOriginIsolated, segments: answer.segments, consumerDevice: answer.device, heap, device };
  } finally {
    // The worker's death closes its fds: the page drops any reference it still held for it.
    spawned?.worker.terminate();
    if (spawned && !spawned.socket.closed) spawned.socket.close();
    table.closeAll();
    await released(heap, RELEASE_TIMEOUT_MS);
    try {
      heap.destroy();
    } finally {
      device.destroy();
    }
  }
}
