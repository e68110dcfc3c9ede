// What spawnWorker starts besides a URL (remote/spawn-worker.ts), in Node with a stand-in
// Worker: a Worker the caller made is used as it is, and a function is called once for the
// Worker it makes; either way the child begins with the parent's fds. A function that makes no
// Worker, a Proxy of a Worker, and new Worker's options beside a Worker or a function are
// EINVAL naming spawnWorker: nothing is taken then, and a Worker given stays the caller's (not
// terminated).
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { FdSocket, type FdSocketOptions, type MessageEndpoint } from '../../remote/fd-socket.js';
import { inheritedFdTableWith, spawnWorkerWith, type WorkerSource } from '../../remote/spawn-worker.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { realmsFixture, type TestRealm } from './realms.js';
import { endStandIns, StandInWorker, standIns } from './stand-in-worker.js';

// Registered before the realms' own: run after them, once the drops have gone round.
afterEach(() => {
  vi.unstubAllGlobals();
  endStandIns();
});

const realms = realmsFixture();

beforeEach(() => {
  vi.stubGlobal('Worker', StandInWorker);
});

/** Makes `realm`'s sockets, kept for closing at the end. */
const connectIn = (realm: TestRealm) => (endpoint: MessageEndpoint, options?: FdSocketOptions) => {
  const socket = new FdSocket(endpoint, { liveness: realm.liveness, ...options });
  realm.sockets.push(socket);
  return socket;
};

/** A parent realm whose table holds one buffer of 16 bytes at fd 0 (not close-on-exec), the table's reference only. */
function parentWithBuffer() {
  const parent = realms.realm('parent');
  const buf = memoryDmaBuf(16);
  parent.table.install(buf, { cloexec: false });
  buf.put();
  return { parent, buf };
}

/** The child at the other end of `worker` takes its inherited fds: their sizes, by fd. */
async function childOf(worker: StandInWorker): Promise<Map<number, number>> {
  const child = realms.realm('child');
  child.ports.push(worker.child);
  const { table } = await inheritedFdTableWith(connectIn(child), worker.child);
  const sizes = new Map(table.openFds().map((fd) => {
    const buf = table.get(fd);
    buf.put();
    return [fd, buf.size];
  }));
  table.closeAll();
  return sizes;
}

test('a Worker the caller made is the one spawnWorker uses, and its child begins with the fds', async () => {
  const { parent } = parentWithBuffer();
  const mine = new StandInWorker('bundled.js', { type: 'module' });
  const { worker } = spawnWorkerWith(connectIn(parent), mine as unknown as Worker, parent.table);
  expect(worker).toBe(mine);
  expect(standIns.made, 'no other worker made').toEqual([mine]);
  expect(await childOf(mine)).toEqual(new Map([[0, 16]]));
});

test('a function is called once, and the Worker it makes is the one spawnWorker uses, its child beginning with the fds', async () => {
  const { parent } = parentWithBuffer();
  const make = vi.fn(() => new StandInWorker('bundled.js', { type: 'module' }) as unknown as Worker);
  const { worker } = spawnWorkerWith(connectIn(parent), make, parent.table);
  expect(make).toHaveBeenCalledTimes(1);
  expect(standIns.made).toEqual([worker]);
  const [made] = standIns.made;
  if (!made) throw new Error('no worker');
  expect(await childOf(made)).toEqual(new Map([[0, 16]]));
});

test.each<[string, () => unknown, string]>([
  ['nothing', () => undefined, 'undefined'],
  ['a URL', () => 'child.js', '"child.js"'],
  ['a Proxy of a Worker', () => new Proxy(new StandInWorker('x.js'), {}), 'an object'],
])('a function that makes %s is EINVAL naming spawnWorker, and nothing is taken', (_what, make, got) => {
  const { parent, buf } = parentWithBuffer();
  expect(() => spawnWorkerWith(connectIn(parent), make as () => Worker, parent.table)).toThrow(
    expect.objectContaining({ code: 'EINVAL', message: `EINVAL: spawnWorker: the function given made no Worker but ${got}` }) as Error,
  );
  expect(buf.refCount, "the table's only").toBe(1);
  expect(parent.sockets, 'no socket made').toEqual([]);
});

test('a Proxy of a Worker is EINVAL naming spawnWorker, and nothing is taken', () => {
  const { parent, buf } = parentWithBuffer();
  const proxy = new Proxy(new StandInWorker('x.js'), {});
  expect(() => spawnWorkerWith(connectIn(parent), proxy as unknown as Worker, parent.table)).toThrow(/^EINVAL: spawnWorker: the worker must be a URL \(a string or a URL\), a Worker itself or a function that makes one, got /);
  expect(buf.refCount, "the table's only").toBe(1);
  expect(parent.sockets, 'no socket made').toEqual([]);
});

test.each<[string, () => WorkerSource]>([
  ['a Worker', () => new StandInWorker('bundled.js') as unknown as Worker],
  ['a function', () => () => new StandInWorker('bundled.js') as unknown as Worker],
])("new Worker's options beside %s are EINVAL naming spawnWorker and them, nothing is taken, and no worker is ended", (_what, source) => {
  const { parent, buf } = parentWithBuffer();
  const given = source();
  expect(() => spawnWorkerWith(connectIn(parent), given, parent.table, { name: 'the child', credentials: 'omit', socket: {} })).toThrow(
    expect.objectContaining({ code: 'EINVAL', message: "EINVAL: spawnWorker: name, credentials: new Worker's options apply to a URL only; give them to new Worker yourself" }) as Error,
  );
  expect(buf.refCount, "the table's only").toBe(1);
  expect(parent.sockets, 'no socket made').toEqual([]);
  expect(standIns.made.map((worker) => worker.terminated), 'a Worker given stays the caller\'s; a function is not called').toEqual(typeof given === 'function' ? [] : [false]);
});
