// Every operation from a worker on a page's buffer, and the other way round, on real
// WebGPU: each realm has its own device; only fds cross, and bytes are compared exactly at
// odd edges (sizes not a multiple of 4, ranges across pages).
import { expect, test } from 'vitest';
import { bufinfoEntries, FdTable, PAGE_SIZE, type BufInfoEntry, type FdSocketTransport } from 'webgpu-dmabuf';
import { heapFixture, patternedBuffer, readTable, shaderPattern } from '../gpu/gpu-helpers.js';
import { agentFixture, startAgent, type Agent } from './agent.js';

const f = heapFixture();
const agents = agentFixture();
const { table } = agents;

/** The bytes of a page buffer's storage, read on its own device (a zero-copy map). */
async function storageBytes(fd: number): Promise<Uint8Array> {
  const buf = table.get(fd);
  const attachment = buf.attach(f.exporter);
  const sgt = await attachment.map('to-device');
  const bytes = await readTable(f.exporter, sgt);
  await attachment.unmap(sgt, 'to-device');
  buf.detach(attachment);
  buf.put();
  return bytes;
}

/** The first index where `x` and `y` differ, or -1 (deep equality is too slow for MiBs). */
function firstDifference(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** A page buffer of `size` bytes with the shader pattern of `seed`, sent to a new agent: the fd in each realm. */
async function pageBufferInWorker(size: number, seed: number, transport?: FdSocketTransport): Promise<{ fd: number; theirs: number; agent: Agent }> {
  const buf = await patternedBuffer(f, size, seed);
  const fd = table.install(buf);
  buf.put();
  const started = await startAgent(new FdTable(), transport ? { socket: { transport } } : {});
  agents.use(started);
  const theirs = started.call<number>('receive');
  await started.socket.send(table, fd);
  return { fd, theirs: await theirs, agent: started };
}

test('a worker reads a page\'s buffer through kmap and vmap: exact bytes at odd edges and across pages', async () => {
  const size = 3 * PAGE_SIZE + 3;
  const { theirs, agent: worker } = await pageBufferInWorker(size, 11);
  const pattern = shaderPattern(size, 11);
  const start = PAGE_SIZE - 3;
  const len = 2 * PAGE_SIZE + 6;
  expect(await worker.call('cpu-read', { fd: theirs, start, len })).toEqual(pattern.subarray(start, start + len));
  expect(await worker.call('cpu-read', { fd: theirs, start: size - 1, len: 1 })).toEqual(pattern.subarray(size - 1));
  expect(await worker.call('vmap-read', { fd: theirs })).toEqual(pattern);
  // The worker's listing shows the buffer as its own dma-buf, with its own references.
  const listed = await worker.call<BufInfoEntry[]>('bufinfo');
  expect(listed.map(({ size: s, exporter, refCount }) => ({ s, exporter, refCount }))).toEqual([{ s: size, exporter: 'gpu-heap', refCount: 1 }]);
});

test('a worker writes a page\'s buffer through CPU access: exactly its range lands, not a byte outside', async () => {
  const size = 2 * PAGE_SIZE + 1;
  const { fd, theirs, agent: worker } = await pageBufferInWorker(size, 5);
  const start = 3;
  const bytes = Uint8Array.from({ length: PAGE_SIZE + 2 }, (_, i) => (i * 31 + 1) & 0xff);
  await worker.call('cpu-write', { fd: theirs, start, bytes });
  // A read after it from the same worker is served after the write has ended.
  await worker.call('cpu-read', { fd: theirs, start: 0, len: 1 });
  const expected = shaderPattern(size, 5);
  expected.set(bytes, start);
  expect(await storageBytes(fd)).toEqual(expected);
});

test.each(['shared-memory', 'message'] as const)('over %s, a worker maps a page\'s buffer on its own device in every direction: same buffers every map, exact bytes back', async (transport) => {
  const size = 5 * PAGE_SIZE + 2;
  const { fd, theirs, agent: worker } = await pageBufferInWorker(size, 3, transport);
  expect([worker.socket.transport, await worker.call('transport')]).toEqual([transport, transport]);
  const read = await worker.call<{ bytes: Uint8Array; same: boolean; stats: { bytesToDevice: number } }>('map-read', { fd: theirs });
  expect(read.bytes).toEqual(shaderPattern(size, 3));
  expect(read.same).toBe(true);
  expect(read.stats.bytesToDevice).toBe(2 * size);
  const first = Uint8Array.from({ length: size }, (_, i) => (i * 3 + 1) & 0xff);
  await worker.call('map-write', { fd: theirs, dir: 'from-device', bytes: first });
  expect(await storageBytes(fd)).toEqual(first);
  const second = Uint8Array.from({ length: size }, (_, i) => (i * 5 + 2) & 0xff);
  const seen = await worker.call('map-write', { fd: theirs, dir: 'bidirectional', bytes: second });
  expect(seen).toEqual(first);
  expect(await storageBytes(fd)).toEqual(second);
  // 'none' moves nothing either way.
  await worker.call('map-write', { fd: theirs, dir: 'none', bytes: first });
  expect(await storageBytes(fd)).toEqual(second);
});

test.each(['shared-memory', 'message'] as const)('over %s, a buffer larger than the shared ring crosses both ways exactly', async (transport) => {
  const size = 4 * 1024 * 1024 + 2 * PAGE_SIZE + 5;
  const { fd, theirs, agent: worker } = await pageBufferInWorker(size, 13, transport);
  expect(worker.socket.transport).toBe(transport);
  const read = await worker.call<{ bytes: Uint8Array }>('map-read', { fd: theirs });
  expect(firstDifference(read.bytes, shaderPattern(size, 13))).toBe(-1);
  const written = Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);
  await worker.call('map-write', { fd: theirs, dir: 'from-device', bytes: written });
  expect(firstDifference(await storageBytes(fd), written)).toBe(-1);
});

test('the other way round: the page maps and CPU-accesses a worker\'s buffer, bytes exact; the worker\'s heap ends with nothing live', async () => {
  const agent = agents.use(await startAgent());
  const size = PAGE_SIZE + 5;
  const workerFd = await agent.call<number>('export', { size });
  const pattern = Uint8Array.from({ length: size }, (_, i) => (i * 17 + 9) & 0xff);
  await agent.call('cpu-write', { fd: workerFd, start: 0, bytes: pattern });
  const received = agent.socket.receive(table);
  await agent.call('send', { fd: workerFd });
  const fd = await received;
  const remote = table.get(fd);
  expect(remote.exporter).toBe('worker-heap');

  // CPU access across the page boundary, reading and writing.
  await remote.beginCpuAccess(PAGE_SIZE - 2, 6, 'bidirectional');
  const low = remote.kmap(0);
  const high = remote.kmapAtomic(1);
  expect([...low.subarray(PAGE_SIZE - 2), ...high.subarray(0, 4)]).toEqual([...pattern.subarray(PAGE_SIZE - 2, PAGE_SIZE + 4)]);
  low.fill(0xfe, PAGE_SIZE - 2);
  high.fill(0xfd, 0, 4);
  // Outside the range, in the same pages: must not travel.
  low[0] = 0;
  high[4] = 0;
  remote.kunmap(0, low);
  remote.kunmapAtomic(1, high);
  remote.endCpuAccess(PAGE_SIZE - 2, 6, 'bidirectional');
  const expected = pattern.slice();
  expected.fill(0xfe, PAGE_SIZE - 2, PAGE_SIZE);
  expected.fill(0xfd, PAGE_SIZE, PAGE_SIZE + 4);
  // A read of the page's after its write is served after the write has ended there.
  await remote.beginCpuAccess(0, size, 'from-device');
  const whole = remote.vmap();
  expect(whole).toEqual(expected);
  remote.vunmap(whole);
  remote.endCpuAccess(0, size, 'from-device');
  expect(await agent.call('cpu-read', { fd: workerFd, start: 0, len: size })).toEqual(expected);

  // Device access on the page's own device.
  const attachment = remote.attach(f.importer, { usage: GPUBufferUsage.VERTEX });
  const sgt = await attachment.map('to-device');
  expect(await readTable(f.importer, sgt)).toEqual(expected);
  await attachment.unmap(sgt, 'to-device');
  const out = await attachment.map('from-device');
  const written = Uint8Array.from({ length: size }, (_, i) => i & 0xff);
  for (const segment of out.segments) {
    const padded = new Uint8Array(Math.ceil(segment.length / 4) * 4);
    padded.set(written.subarray(segment.start, segment.start + segment.length));
    f.importer.queue.writeBuffer(segment.buffer, segment.offset, padded);
  }
  await attachment.unmap(out, 'from-device');
  expect(await agent.call('cpu-read', { fd: workerFd, start: 0, len: size })).toEqual(written);
  expect(bufinfoEntries().map((entry) => entry.attachments)).toEqual([[{ device: 'importer', mappings: [] }]]);
  remote.detach(attachment);
  remote.put();
  table.close(fd);
  await agent.call('close', { fd: workerFd });
  await expect.poll(() => agent.call<{ liveBuffers: number }>('heap-stats').then((s) => s.liveBuffers)).toBe(0);
});
