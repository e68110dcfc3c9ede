// Look-alikes across realms (Node, realms joined by MessageChannel). A Proxy of a table or a
// socket (what Vue's reactive() or MobX hand out) or an Object.create of one's prototype,
// given to a socket, to spawnWorker or called on as a socket, is refused with EINVAL before
// anything is sent, taken or waited for: in particular a receive into a look-alike never
// waits, so it swallows no fd and holds no buffer alive. A socket's members called on a value
// that is not an object at all (5, a string, undefined, null) are refused the same way. A
// socket given options that are not an object listens on nothing.
import { expect, test } from 'vitest';
import { FdSocket as WebGpuFdSocket, spawnWorker } from '../../index.js';
import { FdSocket, type MessageEndpoint, type FdSocketOptions } from '../../remote/fd-socket.js';
import { spawnWorkerWith } from '../../remote/spawn-worker.js';
import { bufinfoEntries } from '../../src/bufinfo.js';
import type { DmaBuf } from '../../src/dma-buf.js';
import { DmaBufError } from '../../src/error.js';
import type { FdTable } from '../../src/fd-table.js';
import { memoryDmaBuf, type MemoryStorage } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture, type TestRealm } from './realms.js';

const realms = realmsFixture();

interface World {
  a: TestRealm;
  b: TestRealm;
  ab: FdSocket;
  ba: FdSocket;
  fd: number;
  buf: DmaBuf<MemoryStorage>;
}

/** Realms a and b linked, with a buffer of 64 bytes in a's table (which holds its only reference). */
function world(): World {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  const buf = memoryDmaBuf(64, { name: 'shared' });
  const fd = a.table.install(buf, { cloexec: false });
  buf.put();
  return { a, b, ab, ba, fd, buf };
}

type Settled = { readonly value: unknown } | { readonly error: unknown } | 'pending';

/** What `run` gave, threw or rejected with once the realms' messages have gone round; 'pending' if it still waits. */
async function settled(run: () => unknown): Promise<Settled> {
  let outcome: Settled = 'pending';
  void (async () => {
    try {
      outcome = { value: await run() };
    } catch (error) {
      outcome = { error };
    }
  })();
  await quiesce();
  return outcome;
}

/** Everything a refused call must leave as it was. */
function snapshot(w: World) {
  return { refs: w.buf.refCount, fds: [w.a.table.openFds(), w.b.table.openFds()], info: bufinfoEntries(), closed: [w.ab.closed, w.ba.closed] };
}

/** A real send and receive after a refusal: the fd sent is the one received, and nothing was swallowed. */
async function expectRealPassingWorks(w: World): Promise<void> {
  const received = settled(() => w.ba.receive(w.b.table));
  await w.ab.send(w.a.table, w.fd);
  expect(await received).toEqual({ value: 0 });
  const remote = w.b.table.get(0);
  expect({ size: remote.size, name: remote.name }).toEqual({ size: 64, name: 'shared' });
  remote.put();
  // a's fd, and one reference for realm b.
  expect(w.buf.refCount).toBe(2);
}

type LookAlike = <T extends object>(real: T) => T;

const LOOK_ALIKES: readonly [kind: string, make: LookAlike][] = [
  ['a Proxy', (real) => new Proxy(real, {})],
  ['an Object.create', (real) => Object.create(Object.getPrototypeOf(real) as object) as typeof real],
];

const connect = (endpoint: MessageEndpoint, options?: FdSocketOptions) => new FdSocket(endpoint, options);

interface Door {
  readonly door: string;
  /** The call the error must name. */
  readonly call: string;
  readonly run: (w: World, like: LookAlike) => unknown;
}

const DOORS: readonly Door[] = [
  { door: 'socket.send, of the table', call: 'send', run: (w, like) => w.ab.send(like(w.a.table), w.fd) },
  { door: 'socket.receive, into the table', call: 'receive', run: (w, like) => w.ba.receive(like(w.b.table)) },
  { door: 'spawnWorker (the contract\'s), of the table', call: 'spawnWorker', run: (w, like) => spawnWorkerWith(connect, 'worker.js', like(w.a.table)) },
  { door: 'spawnWorker of webgpu-dmabuf, of the table', call: 'spawnWorker', run: (w, like) => spawnWorker('worker.js', like(w.a.table)) },
  { door: 'FdSocket.transport', call: 'transport', run: (w, like) => like(w.ab).transport },
  { door: 'FdSocket.closed', call: 'closed', run: (w, like) => like(w.ab).closed },
  { door: 'FdSocket.send', call: 'send', run: (w, like) => like(w.ab).send(w.a.table, w.fd) },
  { door: 'FdSocket.receive', call: 'receive', run: (w, like) => like(w.ba).receive(w.b.table) },
  { door: 'FdSocket.close', call: 'close', run: (w, like) => { like(w.ab).close(); } },
];

const CASES = DOORS.flatMap(({ door, call, run }) => LOOK_ALIKES.map(([kind, make]) => [door, kind, call, (w: World) => run(w, make)] as const));

test.each(CASES)('%s, given %s, is refused with EINVAL before anything is sent, taken or waited for', async (_door, _kind, call, run) => {
  const w = world();
  // The realms' handshake first, so that what a refused call would send has a way to go.
  await quiesce();
  const before = snapshot(w);
  const outcome = await settled(() => run(w));
  expect(outcome).toMatchObject({ error: expect.any(DmaBufError) as unknown });
  const { error } = outcome as { error: DmaBufError };
  expect(error.code).toBe('EINVAL');
  expect(error.message).toMatch(new RegExp(`^EINVAL: ${call}: .* itself, got a look-alike of an? \\w+ \\(a Proxy or Object\\.create of one\\); (pass|call it on) the object itself \\(in Vue: toRaw\\(\\w+\\)`));
  expect(snapshot(w)).toEqual(before);
  await expectRealPassingWorks(w);
});

/** Values that are not objects at all, as the socket a method is called on. */
const NOT_OBJECTS: readonly [label: string, value: unknown][] = [['5', 5], ['a string', 'socket'], ['undefined', undefined], ['null', null]];

/** FdSocket's getter or method `name`, detached: called on whatever receiver a case gives. */
function member(name: string): (...args: unknown[]) => unknown {
  const descriptor = Object.getOwnPropertyDescriptor(FdSocket.prototype, name);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- unbound on purpose: that is the case under test
  return (descriptor?.get ?? descriptor?.value) as (...args: unknown[]) => unknown;
}

/** FdSocket's members, called on `self` (whatever it is) with the world's table and fd. */
const MEMBERS: readonly [call: string, run: (self: unknown, w: World) => unknown][] = [
  ['transport', (self) => Reflect.apply(member('transport'), self, [])],
  ['closed', (self) => Reflect.apply(member('closed'), self, [])],
  ['send', (self, w) => Reflect.apply(member('send'), self, [w.a.table, w.fd])],
  ['receive', (self, w) => Reflect.apply(member('receive'), self, [w.b.table])],
  ['close', (self) => Reflect.apply(member('close'), self, [])],
];

test.each(MEMBERS.flatMap(([call, run]) => NOT_OBJECTS.map(([label, value]) => [call, label, (w: World) => run(value, w)] as const)))(
  'FdSocket.%s called on %s is EINVAL naming the call, before anything is sent, taken or waited for',
  async (call, _label, run) => {
    const w = world();
    await quiesce();
    const before = snapshot(w);
    const outcome = await settled(() => run(w));
    expect(outcome).toMatchObject({ error: expect.any(DmaBufError) as unknown });
    const { error } = outcome as { error: DmaBufError };
    expect(error.code).toBe('EINVAL');
    expect(error.message).toMatch(new RegExp(`^EINVAL: ${call}: `));
    expect(snapshot(w)).toEqual(before);
    await expectRealPassingWorks(w);
  },
);

const SOCKETS: readonly [name: string, make: (endpoint: MessageEndpoint, options?: FdSocketOptions) => FdSocket][] = [
  ['the contract\'s FdSocket', (endpoint, options) => new FdSocket(endpoint, options)],
  ['the FdSocket of webgpu-dmabuf', (endpoint, options) => new WebGpuFdSocket(endpoint, options)],
];
const NOT_OPTIONS: readonly [label: string, value: unknown][] = [['5', 5], ['a string', 'message'], ['true', true], ['null', null], ['an array', []]];

test.each(SOCKETS.flatMap(([name, make]) => NOT_OPTIONS.map(([label, value]) => [name, label, make, value] as const)))(
  '%s with options %s is EINVAL and listens on nothing: the port is free for a socket made after it',
  async (_name, _label, make, value) => {
    const { port1, port2 } = new MessageChannel();
    const a = realms.realm('a');
    const b = realms.realm('b');
    a.ports.push(port1);
    b.ports.push(port2);
    const heard: unknown[] = [];
    port2.addEventListener('message', (event) => { heard.push(event.data); });
    port2.start();
    expect(() => make(port1, value as never)).toThrow(/^EINVAL: new FdSocket: options must be an object/);
    await quiesce();
    expect(heard).toEqual([]);
    const ab = make(port1, { liveness: a.liveness, deviceAccess: memoryDeviceAccess() });
    const ba = new FdSocket(port2, { liveness: b.liveness, deviceAccess: memoryDeviceAccess() });
    a.sockets.push(ab);
    b.sockets.push(ba);
    const buf = memoryDmaBuf(16);
    const fd = a.table.install(buf);
    buf.put();
    const received = settled(() => ba.receive(b.table));
    await ab.send(a.table, fd);
    expect(await received).toEqual({ value: 0 });
    expect(buf.refCount).toBe(2);
  },
);

test('a Proxy of a table given to receive in the receiving realm leaves the next fd sent for the next real receive', async () => {
  const w = world();
  const table: FdTable = new Proxy(w.b.table, {});
  const refused = settled(() => w.ba.receive(table));
  await w.ab.send(w.a.table, w.fd);
  expect(await refused).toMatchObject({ error: { code: 'EINVAL' } });
  // The fd waits in b's queue, not in the look-alike.
  expect(await settled(() => w.ba.receive(w.b.table))).toEqual({ value: 0 });
  w.b.table.closeAll();
  await expect.poll(() => w.buf.refCount).toBe(1);
});
