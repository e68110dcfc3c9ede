// spawnWorker's parent half (remote/spawn-worker.ts) in Node, where there is no Worker: a
// stand-in Worker class, whose messages go over a MessageChannel to a child realm in the same
// process, records how it was made. spawnWorker starts a module worker of the URL and options
// given, and its socket carries the fds the child inherits; a bad URL or table is EINVAL
// naming spawnWorker, and nothing is started or taken; a Worker that cannot be made, or a
// socket that cannot, gives the fds' references back (and ends the worker); a worker that
// fails to load fails the sends waiting for it with ENODEV.
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { FdSocket, type MessageEndpoint, type FdSocketOptions } from '../../remote/fd-socket.js';
import { inheritedFdTableWith, spawnWorkerWith } from '../../remote/spawn-worker.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, TestRealms, track, type TestRealm } from './realms.js';
import { endStandIns, StandInWorker, standIns } from './stand-in-worker.js';

let realms = new TestRealms();
beforeEach(() => {
  vi.stubGlobal('Worker', StandInWorker);
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await realms.closeAll();
  endStandIns();
  realms = new TestRealms();
  expect(bufinfoEntries()).toEqual([]);
});

/** The parent's socket, made as the caller's `connect` makes it, kept for closing at the end. */
const connectIn = (realm: TestRealm) => (endpoint: MessageEndpoint, options?: FdSocketOptions) => {
  const socket = new FdSocket(endpoint, { liveness: realm.liveness, deviceAccess: memoryDeviceAccess(), ...options });
  realm.sockets.push(socket);
  return socket;
};

/** A parent realm whose table holds one buffer of 16 bytes at fd 0 (not close-on-exec), the table's reference only. */
function parentWithBuffer() {
  const parent = realms.realm('parent');
  const buf = memoryDmaBuf(16);
  expect(parent.table.install(buf, { cloexec: false })).toBe(0);
  buf.put();
  return { parent, buf };
}

test('spawnWorker starts a module worker of the URL and options given, and the child begins with the fds', async () => {
  const { parent, buf } = parentWithBuffer();
  const { worker, socket } = spawnWorkerWith(connectIn(parent), 'child.js', parent.table, { name: 'the child' });
  expect(standIns.made).toHaveLength(1);
  const [standIn] = standIns.made;
  if (!standIn) throw new Error('no worker');
  expect(worker).toBe(standIn);
  expect(standIn.url).toBe('child.js');
  expect(standIn.options).toEqual({ type: 'module', name: 'the child' });
  expect(parent.sockets).toContain(socket);
  const child = realms.realm('child');
  child.ports.push(standIn.child);
  const inherited = await inheritedFdTableWith(connectIn(child), standIn.child);
  expect(inherited.table.openFds()).toEqual([0]);
  const got = inherited.table.get(0);
  expect(got.size).toBe(16);
  got.put();
  expect(buf.refCount, "the table's and the child's").toBe(2);
  inherited.table.closeAll();
  await expect.poll(() => buf.refCount).toBe(1);
});

test.each([
  ['a number', 5, 'spawnWorker: the worker must be a URL (a string or a URL), a Worker itself or a function that makes one, got 5'],
  ['null', null, 'spawnWorker: the worker must be a URL (a string or a URL), a Worker itself or a function that makes one, got null'],
])('a URL that is %s is EINVAL naming spawnWorker, and nothing is started or taken', (_what, url, message) => {
  const { parent, buf } = parentWithBuffer();
  expect(() => spawnWorkerWith(connectIn(parent), url as unknown as string, parent.table)).toThrow(expect.objectContaining({ code: 'EINVAL', message: `EINVAL: ${message}` }) as Error);
  expect(standIns.made).toEqual([]);
  expect(buf.refCount).toBe(1);
});

test('a URL object is taken as it is', () => {
  const { parent } = parentWithBuffer();
  const url = new URL('https://example.org/child.js');
  spawnWorkerWith(connectIn(parent), url, parent.table);
  expect(standIns.made[0]?.url).toBe(url);
});

test('a table that is not an FdTable is EINVAL naming spawnWorker and the table, and nothing is started', () => {
  const { parent } = parentWithBuffer();
  expect(() => spawnWorkerWith(connectIn(parent), 'child.js', {} as never)).toThrow(/^EINVAL: spawnWorker: table /);
  expect(standIns.made).toEqual([]);
});

test("a Worker that cannot be made throws its error, and the fds' references are given back", () => {
  const { parent, buf } = parentWithBuffer();
  standIns.refuse = new Error('no such script');
  expect(() => spawnWorkerWith(connectIn(parent), 'child.js', parent.table)).toThrow('no such script');
  expect(buf.refCount, "the table's only").toBe(1);
});

test("a socket that cannot be made throws its error, ends the worker, and the fds' references are given back", () => {
  const { parent, buf } = parentWithBuffer();
  const refused = new Error('no socket');
  expect(() => spawnWorkerWith(() => { throw refused; }, 'child.js', parent.table)).toThrow(refused);
  expect(standIns.made.map((worker) => worker.terminated)).toEqual([true]);
  expect(buf.refCount, "the table's only").toBe(1);
});

test("a worker that fails to load fails a send waiting for it with ENODEV, and gives the fds' references back", async () => {
  const { parent, buf } = parentWithBuffer();
  const { socket } = spawnWorkerWith(connectIn(parent), 'missing.js', parent.table);
  const sent = track(socket.send(parent.table, 0));
  await quiesce();
  expect(sent.state, 'waits for the worker').toBe('pending');
  standIns.made[0]?.dispatchEvent(new Event('error'));
  await quiesce();
  expect(sent).toMatchObject({ state: 'rejected', error: { code: 'ENODEV' } });
  expect(buf.refCount, "the table's only").toBe(1);
});
