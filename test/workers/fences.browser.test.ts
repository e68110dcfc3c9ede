// Fences cross realms, on real WebGPU with a real worker: a fence in the page's reservation
// of a buffer signals in the worker that imported it, and a worker's importSyncFile holds
// the page's own accesses to the buffer back until the worker signals (or dies).
import { expect, test } from 'vitest';
import { DmaFence, PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture, patternedBuffer, settledAfterRoundTrip, shaderPattern } from '../gpu/gpu-helpers.js';
import { agentFixture, startAgent } from './agent.js';

const f = heapFixture();
const agents = agentFixture();
const { table } = agents;

const SIZE = 2 * PAGE_SIZE + 5;

async function sharedWithWorker() {
  const buf = await patternedBuffer(f, SIZE, 3);
  const fd = table.install(buf);
  buf.put();
  const started = await startAgent();
  agents.use(started);
  const theirs = started.call<number>('receive');
  await started.socket.send(table, fd);
  return { buf, agent: started, theirs: await theirs };
}

interface FenceState {
  readonly signaled: boolean;
  readonly error: string | null;
}

/** Reads the whole buffer in the page through CPU access. */
async function cpuRead(buf: { beginCpuAccess(s: number, l: number, d: 'from-device'): Promise<void>; vmap(): Uint8Array; vunmap(v: Uint8Array): void; endCpuAccess(s: number, l: number, d: 'from-device'): void }): Promise<Uint8Array> {
  await buf.beginCpuAccess(0, SIZE, 'from-device');
  const view = buf.vmap();
  const copy = view.slice();
  buf.vunmap(view);
  buf.endCpuAccess(0, SIZE, 'from-device');
  return copy;
}

test('a fence added to the page\'s buffer signals in the worker\'s exportSyncFile when it signals in the page', async () => {
  const { buf, agent: worker, theirs } = await sharedWithWorker();
  const fence = new DmaFence();
  buf.resv.addFence(fence, 'write');
  // The fence message and the command travel on one channel, in order: the worker has the mirror first.
  const exported = await worker.call<number>('export-fence', { fd: theirs, flags: 'read' });
  expect(await worker.call<FenceState>('fence-state', { fence: exported })).toEqual({ signaled: false, error: null });
  const waited = worker.call<FenceState>('wait-fence', { fence: exported });
  fence.signal();
  expect(await waited).toEqual({ signaled: true, error: null });
});

test('a worker\'s importSyncFile holds the page\'s own CPU reads of the buffer back until the worker signals it', async () => {
  const { buf, agent: worker, theirs } = await sharedWithWorker();
  const number = await worker.call<number>('import-fence', { fd: theirs, flags: 'write' });
  await expect.poll(() => buf.resv.testSignaled('write')).toBe(false);
  const read = cpuRead(buf);
  expect(await settledAfterRoundTrip(f.exporter, read)).toBe(false);
  await worker.call('signal-fence', { fence: number });
  expect(await read).toEqual(shaderPattern(SIZE, 3));
});

test('the error a worker\'s fence signals with fails the page\'s access it held back, with that code', async () => {
  const { buf, agent: worker, theirs } = await sharedWithWorker();
  const number = await worker.call<number>('import-fence', { fd: theirs, flags: 'rw' });
  await expect.poll(() => buf.resv.testSignaled('write')).toBe(false);
  const failed = expect(cpuRead(buf)).rejects.toMatchObject({ code: 'EIO' });
  await worker.call('signal-fence', { fence: number, error: 'EIO' });
  await failed;
  // Only the access that waited fails: the next one reads the bytes.
  expect(await cpuRead(buf)).toEqual(shaderPattern(SIZE, 3));
});

test('a worker terminated with its fence pending fails the page\'s waiting reader with ENODEV instead of holding it for ever', async () => {
  const { buf, agent: worker, theirs } = await sharedWithWorker();
  await worker.call<number>('import-fence', { fd: theirs, flags: 'write' });
  await expect.poll(() => buf.resv.testSignaled('write')).toBe(false);
  const read = cpuRead(buf);
  agents.forget();
  worker.worker.terminate();
  await expect(read).rejects.toMatchObject({ code: 'ENODEV' });
  expect(buf.resv.testSignaled('bookkeep')).toBe(true);
  expect(await cpuRead(buf)).toEqual(shaderPattern(SIZE, 3));
});
