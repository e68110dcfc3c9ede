// buf.read and buf.write on a buffer another realm exports (a worker's, through its proxy in
// the page): the bytes cross as the proxy's reads and writes, each in its place in call order.
import { expect, test } from 'vitest';
import { PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture } from '../gpu/gpu-helpers.js';
import { agentFixture, startAgent } from './agent.js';

heapFixture();
const agents = agentFixture();
const { table } = agents;

test("a worker's buffer written and read from the page without waiting: each read sees the writes called before it, and the worker holds the last", async () => {
  const agent = agents.use(await startAgent());
  const size = 2 * PAGE_SIZE + 6;
  const workerFd = await agent.call<number>('export', { size });
  const received = agent.socket.receive(table);
  await agent.call('send', { fd: workerFd });
  const fd = await received;
  const remote = table.get(fd);

  const first = Uint16Array.from({ length: size / 2 }, (_, i) => i);
  const patch = new Uint8Array(PAGE_SIZE).fill(0xee);
  const wrote = remote.write(first);
  const before = remote.read(Uint16Array);
  const patched = remote.write(patch, PAGE_SIZE - 1);
  const after = remote.read(Uint8Array);
  await Promise.all([wrote, patched]);
  const expected = new Uint8Array(first.buffer.slice(0));
  expected.set(patch, PAGE_SIZE - 1);
  expect(await before).toEqual(first);
  expect(await after).toEqual(expected);
  expect(await agent.call('cpu-read', { fd: workerFd, start: 0, len: size })).toEqual(expected);

  remote.put();
  table.close(fd);
  await agent.call('close', { fd: workerFd });
  await expect.poll(() => agent.call<{ liveBuffers: number }>('heap-stats').then((s) => s.liveBuffers)).toBe(0);
});
