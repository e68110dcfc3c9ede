// A realm that dies closes its fds: a worker terminated in the middle of a map or a CPU
// access, and an exporter's worker terminated under the page's operations, on real WebGPU.
// Death is seen without the dead realm's help (its Web Lock is freed).
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries, FdTable, PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture, patternedBuffer, readTable, shaderPattern } from '../gpu/gpu-helpers.js';
import { startAgent, terminateAgents } from './agent.js';

const f = heapFixture();
const table = new FdTable();

afterEach(async () => {
  terminateAgents();
  table.closeAll();
  await expect.poll(() => bufinfoEntries().length).toBe(0);
});

async function sharedWithWorker(size: number, seed: number) {
  const buf = await patternedBuffer(f, size, seed);
  const fd = table.install(buf);
  buf.put();
  const agent = await startAgent();
  const theirs = agent.call<number>('receive');
  await agent.socket.send(table, fd);
  return { buf, fd, agent, theirs: await theirs };
}

test('a worker terminated with a map outstanding: the page drops its references, the buffer and its bytes are unharmed', async () => {
  const size = 2 * PAGE_SIZE + 1;
  const { buf, fd, agent, theirs } = await sharedWithWorker(size, 7);
  await agent.call('hold-map', { fd: theirs });
  expect(buf.refCount).toBe(2);
  agent.worker.terminate();
  await expect.poll(() => buf.refCount).toBe(1);
  const attachment = buf.attach(f.exporter);
  const sgt = await attachment.map('to-device');
  expect(await readTable(f.exporter, sgt)).toEqual(shaderPattern(size, 7));
  await attachment.unmap(sgt, 'to-device');
  buf.detach(attachment);
  table.close(fd);
  expect(buf.released).toBe(true);
});

test('a worker terminated while its map is in flight: nothing is left half-done or held in the page', async () => {
  const size = 4 * 1024 * 1024 + 3;
  const { buf, fd, agent, theirs } = await sharedWithWorker(size, 9);
  // The worker dies the moment its map's read reaches the page: the page's socket (which
  // listened first) has begun serving it.
  const serving = new Promise<void>((resolve) => {
    agent.worker.addEventListener('message', (event: MessageEvent) => {
      if ((event.data as { kind?: unknown }).kind !== 'read') return;
      agent.worker.terminate();
      resolve();
    });
  });
  void agent.call('hold-map', { fd: theirs }).catch(() => undefined);
  await serving;
  await expect.poll(() => buf.refCount).toBe(1);
  expect(bufinfoEntries()[0]?.cpuAccess).toEqual([]);
  table.close(fd);
  expect(buf.released).toBe(true);
});

test('a worker terminated in the middle of a writing CPU access: nothing it wrote lands, its references are dropped', async () => {
  const size = PAGE_SIZE + 7;
  const { buf, fd, agent, theirs } = await sharedWithWorker(size, 2);
  await agent.call('hold-cpu', { fd: theirs });
  agent.worker.terminate();
  await expect.poll(() => buf.refCount).toBe(1);
  const attachment = buf.attach(f.exporter);
  const sgt = await attachment.map('to-device');
  expect(await readTable(f.exporter, sgt)).toEqual(shaderPattern(size, 2));
  await attachment.unmap(sgt, 'to-device');
  buf.detach(attachment);
  table.close(fd);
});

test('the exporter\'s worker terminated: every operation on its buffer fails ENODEV in the page, none hangs; put and close work', async () => {
  const agent = await startAgent();
  const workerFd = await agent.call<number>('export', { size: 3 * PAGE_SIZE });
  const received = agent.socket.receive(table);
  await agent.call('send', { fd: workerFd });
  const fd = await received;
  const remote = table.get(fd);
  const attachment = remote.attach(f.importer);
  const pendingReceive = agent.socket.receive(table);
  // In flight when the worker dies: a CPU read and a map.
  const pendingRead = remote.beginCpuAccess(0, 3 * PAGE_SIZE, 'from-device');
  const pendingMap = attachment.map('to-device');
  agent.worker.terminate();
  await expect(pendingRead).rejects.toThrow(/^ENODEV: /);
  await expect(pendingMap).rejects.toThrow(/^ENODEV: /);
  await expect(pendingReceive).rejects.toThrow(/^ENODEV: receive: the other end's realm is gone/);
  await expect(remote.beginCpuAccess(0, 1, 'from-device')).rejects.toThrow(/^ENODEV: beginCpuAccess: the realm that exports this buffer is gone/);
  await expect(attachment.map('bidirectional')).rejects.toThrow(/^ENODEV: map: the realm that exports this buffer is gone/);
  expect(() => remote.attach(f.importer)).toThrow(/^ENODEV: attach: /);
  await expect(agent.socket.send(table, fd)).rejects.toThrow(/^ENODEV: send: /);
  remote.detach(attachment);
  remote.put();
  table.close(fd);
  expect(bufinfoEntries()).toEqual([]);
});
