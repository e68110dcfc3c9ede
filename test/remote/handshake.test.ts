// How two ends of an FdSocket find each other (remote/handshake.ts): each posts a hello and
// answers every first-hand hello of its peer, so an end made on a port that already dropped the
// other's hello still connects; an endpoint without start() (a Worker, a worker's global scope)
// works; a hello that names another realm changes nothing and is not answered, and a repeated
// one of the peer sets nothing up anew; nothing before the hello counts; a child whose other
// end is not spawnWorker's parent inherits no fds instead of waiting for them; and once the
// other end's socket is closed, a send or a receive fails at once, a send taking no reference;
// a realm whose liveness cannot name it takes no part. Waits are for messages to go round
// (quiesce), never for a clock: a slip fails with what is missing.
import { expect, test } from 'vitest';
import { connectionOf, FdSocket, type MessageEndpoint, type FdSocketOptions } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
import { inheritedFdTableWith } from '../../remote/spawn-worker.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture, type TestRealm } from './realms.js';

const realms = realmsFixture();

/** A socket of `realm` on `endpoint`, closed with the realm at the end of the test. */
function socketOf(realm: TestRealm, endpoint: MessageEndpoint): FdSocket {
  const socket = new FdSocket(endpoint, { liveness: realm.liveness, deviceAccess: memoryDeviceAccess() });
  realm.sockets.push(socket);
  return socket;
}

/** How inheritedFdTableWith makes the child's socket: one of `child`'s, closed with it. */
const childConnect = (child: TestRealm) => (endpoint: MessageEndpoint, options?: FdSocketOptions) => {
  const socket = new FdSocket(endpoint, options);
  child.sockets.push(socket);
  return socket;
};

/** The outcome of `promise` once messages have gone round, or 'pending'. */
async function outcome<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let result: { value: T } | { error: unknown } | 'pending' = 'pending';
  promise.then(
    (value) => { result = { value }; },
    (error: unknown) => { result = { error }; },
  );
  await quiesce();
  return result;
}

/**
 * Sends a buffer of 64 bytes of `value` from `from` to `to` over the sockets, and checks that
 * it arrived and that `to` reads its bytes (through the transport's ring or in messages).
 */
async function expectCarries(from: TestRealm, fromSocket: FdSocket, to: TestRealm, toSocket: FdSocket, value = 7): Promise<void> {
  const buf = memoryDmaBuf(64);
  memoryStorage(buf).bytes.fill(value);
  const fd = from.table.install(buf);
  buf.put();
  const received = toSocket.receive(to.table);
  expect(await outcome(fromSocket.send(from.table, fd)), 'the send is acknowledged').toEqual({ value: undefined });
  const got = await outcome(received);
  expect(got, 'the fd is received').toMatchObject({ value: expect.any(Number) as number });
  const theirs = to.table.get((got as { value: number }).value);
  expect(theirs.size).toBe(64);
  expect(await outcome(theirs.beginCpuAccess(0, 64, 'from-device')), 'the bytes are read').toEqual({ value: undefined });
  const page = theirs.kmap(0);
  expect([...page.subarray(0, 64)]).toEqual(new Array<number>(64).fill(value));
  theirs.kunmap(0, page);
  theirs.endCpuAccess(0, 64, 'from-device');
  theirs.put();
}

test("an endpoint without start() (a Worker, a worker's global scope) carries fds", async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { port1, port2 } = realms.channel(a, b);
  // What a Worker offers: postMessage and message events, and no start(); it delivers by itself.
  const workerLike: MessageEndpoint = {
    postMessage: (message, transfer) => { port2.postMessage(message, transfer); },
    addEventListener: (type, listener) => { port2.addEventListener(type, listener); },
    removeEventListener: (type, listener) => { port2.removeEventListener(type, listener); },
  };
  port2.start();
  const ab = socketOf(a, port1);
  const ba = socketOf(b, workerLike);
  await expectCarries(a, ab, b, ba);
});

test("an end made on a port that already dropped the other end's hello still connects: the other end answers its hello", async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { port1, port2 } = realms.channel(a, b);
  // Started with no listener: what comes now is delivered to no one, as to a worker that has
  // not yet made its socket.
  port2.start();
  const ab = socketOf(a, port1);
  await quiesce();
  const ba = socketOf(b, port2);
  await expectCarries(a, ab, b, ba);
  await expectCarries(b, ba, a, ab);
  expect(ba.transport, 'both ends run the transport both offered').toBe(ab.transport);
});

test("a child made on a port that already dropped its parent's hello still inherits the parent's fds, and the socket carries fds on from there", async () => {
  const parent = realms.realm('parent');
  const child = realms.realm('child');
  const { port1, port2 } = realms.channel(parent, child);
  const buf = memoryDmaBuf(16);
  const fd = parent.table.install(buf, { cloexec: false });
  buf.put();
  port2.start();
  const parentSocket = socketOf(parent, port1);
  connectionOf(parentSocket).inheritFrom(parent.table.spawn());
  await quiesce();
  const inherited = await outcome(inheritedFdTableWith(childConnect(child), port2, { liveness: child.liveness, deviceAccess: memoryDeviceAccess() }));
  expect(inherited, 'resolved').toMatchObject({ value: {} });
  const { table, socket } = (inherited as { value: Awaited<ReturnType<typeof inheritedFdTableWith>> }).value;
  expect(table.openFds()).toEqual([fd]);
  table.closeAll();
  // The socket carries fds on from there, both ways.
  await expectCarries(parent, parentSocket, child, socket);
  await expectCarries(child, socket, parent, parentSocket);
});

test('a first-hand hello of the known peer is answered again; one naming another realm is not, and changes nothing', async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba, portB } = realms.link(a, b);
  await expectCarries(a, ab, b, ba);
  const hellos: unknown[] = [];
  portB.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { kind?: unknown };
    if (data.kind === 'hello') hellos.push(data);
  });
  portB.postMessage({ dmabuf: MARKER, kind: 'hello', realm: 'someone else', reply: false, inherit: false, ring: null });
  await quiesce();
  expect(hellos, 'a stranger is not answered').toEqual([]);
  portB.postMessage({ dmabuf: MARKER, kind: 'hello', realm: 'b', reply: false, inherit: false, ring: null });
  await quiesce();
  expect(hellos, 'the peer is answered').toMatchObject([{ kind: 'hello', realm: 'a', reply: true }]);
  // Nothing was set up anew: bytes keep flowing through the same transport, both ways.
  await expectCarries(a, ab, b, ba, 9);
  await expectCarries(b, ba, a, ab, 11);
});

test.each([
  ['its first hello', false],
  ["only its answer, the child's port having dropped its first hello", true],
])("a child whose other end is not spawnWorker's parent inherits no fds, and does not wait for any (the child hears %s)", async (_heard, dropFirst) => {
  const parent = realms.realm('parent');
  const child = realms.realm('child');
  const { port1, port2 } = realms.channel(parent, child);
  const buf = memoryDmaBuf(16);
  parent.table.install(buf, { cloexec: false });
  buf.put();
  if (dropFirst) port2.start();
  socketOf(parent, port1);
  await quiesce();
  const inherited = await outcome(inheritedFdTableWith(childConnect(child), port2, { liveness: child.liveness, deviceAccess: memoryDeviceAccess() }));
  expect(inherited, 'resolved').toMatchObject({ value: {} });
  const { table } = (inherited as { value: Awaited<ReturnType<typeof inheritedFdTableWith>> }).value;
  expect(table.openFds()).toEqual([]);
});

test("what comes before the other end's hello is ignored: a drop ahead of it gives back none of the sends already made", async () => {
  const b = realms.realm('b');
  const { port1, port2 } = realms.channel(b);
  const ba = socketOf(b, port2);
  const buf = memoryDmaBuf(16);
  const fd = b.table.install(buf);
  buf.put();
  const sent = ba.send(b.table, fd);
  const held = buf.refCount;
  const fds: unknown[] = [];
  port1.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { kind?: unknown };
    if (data.kind === 'fd') fds.push(data);
  });
  port1.start();
  port1.postMessage({ dmabuf: MARKER, kind: 'drop', grant: 1, count: 1 });
  port1.postMessage({ dmabuf: MARKER, kind: 'hello', realm: 'by hand', reply: false, inherit: false, ring: null });
  await quiesce();
  expect(buf.refCount, 'the grant still holds its reference').toBe(held);
  expect(fds, 'the send went out after the hello').toMatchObject([{ kind: 'fd', seq: 1, info: { grant: 1 } }]);
  port1.postMessage({ dmabuf: MARKER, kind: 'ack', seq: 1, ok: true });
  port1.postMessage({ dmabuf: MARKER, kind: 'drop', grant: 1, count: 1 });
  await expect(sent).resolves.toBeUndefined();
  await quiesce();
  expect(buf.refCount, 'the drop after the hello gives it back').toBe(held - 1);
});

test("once the other end's socket is closed, a send fails with EBADF at once and takes no reference, and so does a receive", async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  await expectCarries(a, ab, b, ba);
  ba.close();
  await quiesce();
  const buf = memoryDmaBuf(16);
  const fd = a.table.install(buf);
  const before = buf.refCount;
  const sent = ab.send(a.table, fd);
  expect(buf.refCount, 'no grant taken for the closed end').toBe(before);
  await expect(sent).rejects.toThrow('EBADF: send: the other end of the socket is closed');
  expect(buf.refCount).toBe(before);
  buf.put();
  expect(await outcome(ab.receive(a.table)), 'a receive with nothing queued fails at once').toMatchObject({
    error: { code: 'EBADF', message: 'EBADF: receive: the other end of the socket is closed and nothing is left to receive' },
  });
});

test("a realm whose liveness cannot name it takes no part: a send fails with ENODEV and gives its reference back", async () => {
  const a = realms.realm('a');
  const { port1 } = realms.channel(a);
  const socket = new FdSocket(port1, { liveness: { ready: () => Promise.reject(new Error('no lock manager')), watch: (peer, onDeath) => a.liveness.watch(peer, onDeath) }, deviceAccess: memoryDeviceAccess() });
  a.sockets.push(socket);
  await quiesce();
  const buf = memoryDmaBuf(16);
  const fd = a.table.install(buf);
  buf.put();
  await expect(socket.send(a.table, fd)).rejects.toThrow("ENODEV: send: the other end's realm is gone");
  expect(buf.refCount, "the table's only").toBe(1);
});
