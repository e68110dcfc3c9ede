// spawnWorker is fork + exec: a worker begins with its parent's fds that are not
// close-on-exec, at the same numbers, and reaches a close-on-exec buffer of its parent by no
// route: not by number, not by message (forged grant numbers), not in its listings.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries, FdTable, inheritedFdTable, spawnWorker, type BufInfoEntry } from 'webgpu-dmabuf';
import { heapFixture, patternedBuffer, shaderPattern } from '../gpu/gpu-helpers.js';
import { AGENT_URL, startAgent, stopAgent, terminateAgents } from './agent.js';

const f = heapFixture();
const table = new FdTable();

afterEach(async () => {
  terminateAgents();
  table.closeAll();
  await expect.poll(() => bufinfoEntries().length).toBe(0);
});

test('a spawned worker begins with exactly the fds that are not close-on-exec, at their numbers, and no way to the others', async () => {
  const secret = f.heap.allocate(64, { name: 'secret' });
  const shared = await patternedBuffer(f, 4099, 4);
  shared.name = 'shared';
  const other = f.heap.allocate(16, { name: 'also-secret' });
  const secretFd = table.install(secret);
  const sharedFd = table.install(shared, { cloexec: false });
  const otherFd = table.install(other, { cloexec: true });
  for (const buf of [secret, shared, other]) buf.put();
  // A hole below: the worker's fd keeps its number, not the lowest free one.
  table.close(secretFd);
  expect([sharedFd, otherFd]).toEqual([1, 2]);
  const agent = await startAgent(table);
  expect(await agent.call('fds')).toEqual([sharedFd]);
  expect(await agent.call('cloexec')).toEqual([false]);
  expect(await agent.call('cpu-read', { fd: sharedFd, start: 4090, len: 9 })).toEqual(shaderPattern(4099, 4).subarray(4090));
  await expect(agent.call('cpu-read', { fd: otherFd, start: 0, len: 1 })).rejects.toThrow(/^EBADF: get: fd 2 is not open/);
  // Every grant number it could forge: only its own is answered with bytes.
  const answers = await agent.call<{ bytes: ArrayBuffer | null; error: { code: string } | null }[]>('forge', { count: 6 });
  expect(answers.map((a) => (a.error ? a.error.code : 'bytes'))).toEqual(['bytes', 'EBADF', 'EBADF', 'EBADF', 'EBADF', 'EBADF']);
  const listed = await agent.call<BufInfoEntry[]>('bufinfo');
  expect(listed.map((entry) => entry.name)).toEqual(['shared']);
  // The parent holds one reference for the worker beside its own fd's; none on the secret.
  expect(bufinfoEntries().map((entry) => [entry.name, entry.refCount])).toEqual([
    ['shared', 2],
    ['also-secret', 1],
  ]);
  await stopAgent(agent);
});

test.each([
  ['a Worker made by the caller', () => new Worker(AGENT_URL, { type: 'module', name: 'agent' })],
  ['a function that makes the Worker', () => () => new Worker(AGENT_URL, { type: 'module', name: 'agent' })],
])('spawnWorker given %s: it begins with the fds that are not close-on-exec, and no others', async (_what, source) => {
  const shared = await patternedBuffer(f, 100, 6);
  const hidden = f.heap.allocate(16);
  const sharedFd = table.install(shared, { cloexec: false });
  table.install(hidden);
  shared.put();
  hidden.put();
  const agent = await startAgent(table, {}, source());
  expect(await agent.call('fds')).toEqual([sharedFd]);
  expect(await agent.call('cpu-read', { fd: sharedFd, start: 0, len: 100 })).toEqual(shaderPattern(100, 6));
  await stopAgent(agent);
});

test("spawnWorker given a Worker that fails to load: the fds taken for it are given back, and a send fails with ENODEV", async () => {
  const buf = await patternedBuffer(f, 64, 2);
  const fd = table.install(buf);
  buf.put();
  const made = new Worker(new URL('./no-such-worker.js', import.meta.url), { type: 'module' });
  const { worker, socket } = spawnWorker(made, table);
  try {
    expect(worker).toBe(made);
    await new Promise((resolve) => { worker.addEventListener('error', resolve, { once: true }); });
    await expect(socket.send(table, fd)).rejects.toMatchObject({ code: 'ENODEV' });
    expect(bufinfoEntries().map(({ refCount }) => refCount)).toEqual([1]);
  } finally {
    worker.terminate();
    socket.close();
  }
});

test('spawnWorker and inheritedFdTable refuse bad arguments with EINVAL', async () => {
  const buf = f.heap.allocate(16);
  table.install(buf);
  buf.put();
  expect(() => spawnWorker(3 as unknown as string, table)).toThrow(/^EINVAL: spawnWorker: the worker must be a URL \(a string or a URL\), a Worker itself or a function that makes one, got 3/);
  const real = new Worker(AGENT_URL, { type: 'module' });
  try {
    expect(() => spawnWorker(new Proxy(real, {}), table)).toThrow(/^EINVAL: spawnWorker: the worker must be a URL .* got an object/);
    expect(() => spawnWorker(real, table, { name: 'x' })).toThrow(/^EINVAL: spawnWorker: name: new Worker's options apply to a URL only; give them to new Worker yourself/);
    expect(() => spawnWorker(() => ({}) as Worker, table)).toThrow(/^EINVAL: spawnWorker: the function given made no Worker but an object/);
  } finally {
    real.terminate();
  }
  // Nothing was taken for a worker: the table's own fd holds the buffer, once.
  expect(bufinfoEntries().map(({ refCount }) => refCount)).toEqual([1]);
  expect(() => spawnWorker('x.js', {} as unknown as FdTable)).toThrow(/^EINVAL: spawnWorker: table must be an FdTable/);
  expect(() => spawnWorker('x.js', table, 5 as never)).toThrow(/^EINVAL: spawnWorker: options must be an object/);
  // The page is not a worker.
  await expect(inheritedFdTable()).rejects.toThrow(/^EINVAL: inheritedFdTable: not in a worker/);
  expect(f.heap.stats().liveBuffers).toBe(1);
});

test('a worker that fails to load is gone: its inherited fds are given back, and a send to it fails with ENODEV rather than waiting', async () => {
  const buf = await patternedBuffer(f, 4096, 3);
  const fd = table.install(buf);
  buf.put();
  // A URL the server does not have, as a build that did not bundle the worker leaves.
  const { worker, socket } = spawnWorker(new URL('./no-such-worker.js', import.meta.url), table);
  try {
    await new Promise((resolve) => { worker.addEventListener('error', resolve, { once: true }); });
    // Known at once: a send settles within a turn instead of waiting for a hello that never comes.
    const sent = socket.send(table, fd).then(() => 'sent', (error: unknown) => error);
    const first = await Promise.race([sent, new Promise((resolve) => setTimeout(() => { resolve('still waiting'); }, 0))]);
    expect(first).toMatchObject({ code: 'ENODEV' });
    // Only the parent's own fd holds the buffer: the fds taken for the child are given back.
    expect(bufinfoEntries().map(({ refCount }) => refCount)).toEqual([1]);
  } finally {
    worker.terminate();
    socket.close();
  }
});
