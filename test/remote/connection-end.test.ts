// When a connection ends (remote/connection.ts): each end watches the other's realm from the
// handshake on, and stops once its own socket is closed and nothing of either realm is held
// across it any more (a buffer sent, a send waiting for its answer, a read under way); a send
// or a read under way when the socket closes still completes; the same holds after a child
// inherited its parent's fds. An end watches a realm once, however many hellos it hears, and
// never its own realm; a worker that said hello before this realm knew its name is watched
// though it threw afterwards, and one that posted only messages of its own is taken for one
// that failed to start.
import { expect, test } from 'vitest';
import { connectionOf, FdSocket, type MessageEndpoint, type FdSocketOptions } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
import { inheritedFdTableWith } from '../../remote/spawn-worker.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

/** Realms `a` and `b` joined by sockets `ab` and `ba`, after their handshake; `a`'s table holds a buffer of 16 bytes of 1s at `fd`. */
async function linked() {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  const buf = memoryDmaBuf(16);
  memoryStorage(buf).bytes.fill(1);
  const fd = a.table.install(buf);
  buf.put();
  await quiesce();
  return { a, b, ab, ba, buf, fd };
}

test("each end watches the other's realm until its own socket is closed, nothing being held across", async () => {
  const { a, b, ab, ba } = await linked();
  expect(realms.watched(a)).toEqual(['b']);
  expect(realms.watched(b)).toEqual(['a']);
  ab.close();
  await quiesce();
  expect(realms.watched(a), "a's socket is closed").toEqual([]);
  expect(realms.watched(b), "b's is open").toEqual(['a']);
  ba.close();
  await quiesce();
  expect(realms.watched(b)).toEqual([]);
});

test('a buffer held across keeps both ends watching after both sockets are closed, until it is given back', async () => {
  const { a, b, ab, ba, buf, fd } = await linked();
  await ab.send(a.table, fd);
  const received = await ba.receive(b.table);
  ab.close();
  ba.close();
  await quiesce();
  expect(realms.watched(a)).toEqual(['b']);
  expect(realms.watched(b)).toEqual(['a']);
  b.table.close(received);
  await quiesce();
  expect(realms.watched(a)).toEqual([]);
  expect(realms.watched(b)).toEqual([]);
  expect(buf.refCount, "a's table's").toBe(1);
});

test('a send whose socket is closed before its answer came still resolves, and the other end holds the buffer', async () => {
  const { a, b, ab, ba, buf, fd } = await linked();
  const sent = ab.send(a.table, fd);
  ab.close();
  await sent;
  const received = await ba.receive(b.table);
  const got = b.table.get(received);
  expect(got.size).toBe(16);
  got.put();
  b.table.close(received);
  await quiesce();
  expect(buf.refCount, "a's table's").toBe(1);
  expect(realms.watched(a)).toEqual([]);
});

test('a read begun on a remote buffer just before its socket is closed completes', async () => {
  const { a, b, ab, ba, fd } = await linked();
  await ab.send(a.table, fd);
  const received = await ba.receive(b.table);
  const proxy = b.table.get(received);
  b.table.close(received);
  const reading = proxy.beginCpuAccess(0, 16, 'from-device');
  ba.close();
  await reading;
  const page = proxy.kmap(0);
  expect([...page]).toEqual(new Array<number>(16).fill(1));
  proxy.kunmap(0, page);
  proxy.endCpuAccess(0, 16, 'from-device');
  proxy.put();
  await quiesce();
  expect(realms.watched(b)).toEqual([]);
});

test("an end watches the other's realm once, however many hellos it hears", async () => {
  const a = realms.realm('a');
  const { port1: port, port2 } = realms.channel(a);
  port.start();
  const socket = new FdSocket(port2, { liveness: a.liveness, deviceAccess: memoryDeviceAccess() });
  a.sockets.push(socket);
  const hello = () => { port.postMessage({ dmabuf: MARKER, kind: 'hello', realm: 'by hand', reply: false, inherit: false, ring: null }); };
  hello();
  hello();
  await quiesce();
  expect(realms.watched(a)).toEqual(['by hand']);
  socket.close();
  await quiesce();
  expect(realms.watched(a)).toEqual([]);
});

test('the two ends of a socket in one realm watch nothing, carry fds and close', async () => {
  const a = realms.realm('a');
  const { port1, port2 } = realms.channel(a);
  const access = memoryDeviceAccess();
  const one = new FdSocket(port1, { liveness: a.liveness, deviceAccess: access });
  const other = new FdSocket(port2, { liveness: a.liveness, deviceAccess: access });
  const buf = memoryDmaBuf(16);
  const fd = a.table.install(buf);
  buf.put();
  await one.send(a.table, fd);
  const received = await other.receive(a.table);
  expect(a.table.get(received)).toBe(buf);
  buf.put();
  expect(realms.watched(a)).toEqual([]);
  one.close();
  other.close();
  a.table.closeAll();
  await quiesce();
  expect(buf.released).toBe(true);
});

test("after a child inherited its parent's fds and gave them back, with both sockets closed neither end watches the other", async () => {
  const parent = realms.realm('parent');
  const child = realms.realm('child');
  const { port1, port2 } = realms.channel(parent, child);
  const socket = new FdSocket(port1, { liveness: parent.liveness, deviceAccess: memoryDeviceAccess() });
  parent.sockets.push(socket);
  const buf = memoryDmaBuf(16);
  parent.table.install(buf, { cloexec: false });
  buf.put();
  connectionOf(socket).inheritFrom(parent.table.spawn());
  const connect = (endpoint: MessageEndpoint, options?: FdSocketOptions) => new FdSocket(endpoint, options);
  const inherited = await inheritedFdTableWith(connect, port2, { liveness: child.liveness, deviceAccess: memoryDeviceAccess() });
  child.sockets.push(inherited.socket);
  expect(inherited.table.openFds()).toEqual([0]);
  inherited.table.closeAll();
  socket.close();
  inherited.socket.close();
  await quiesce();
  expect(buf.refCount, "the parent's table's").toBe(1);
  expect(realms.watched(parent)).toEqual([]);
  expect(realms.watched(child)).toEqual([]);
});

test("a worker that said hello before this realm knew its name, then threw, is not taken for one that failed to start", async () => {
  const a = realms.realm('a');
  let named: (name: string) => void = () => undefined;
  const ready = new Promise<string>((resolve) => { named = resolve; });
  const { port1: port, port2 } = realms.channel(a);
  const heard: { kind?: unknown; reply?: unknown }[] = [];
  port.addEventListener('message', (event: MessageEvent) => { heard.push(event.data as { kind?: unknown }); });
  port.start();
  const socket = new FdSocket(port2, { liveness: { ready: () => ready, watch: (peer, onDeath) => a.liveness.watch(peer, onDeath) }, deviceAccess: memoryDeviceAccess() });
  a.sockets.push(socket);
  port.postMessage({ dmabuf: MARKER, kind: 'hello', realm: 'worker', reply: false, inherit: false, ring: null });
  await quiesce();
  // The worker's error event, as spawnWorker passes it on: here it threw after its hello.
  connectionOf(socket).peerFailedToStart();
  named('a');
  await quiesce();
  expect(realms.watched(a), 'the worker is watched as a live peer').toEqual(['worker']);
  expect(heard.filter((m) => m.kind === 'hello').map((m) => m.reply), 'its hello answered').toContain(true);
  socket.close();
  await quiesce();
  expect(realms.watched(a)).toEqual([]);
});

test("a worker that posted only messages of its own before it failed, this realm's name not known yet, is taken for one that failed to start", async () => {
  const a = realms.realm('a');
  let named: (name: string) => void = () => undefined;
  const ready = new Promise<string>((resolve) => { named = resolve; });
  const { port1: port, port2 } = realms.channel(a);
  port.start();
  const socket = new FdSocket(port2, { liveness: { ready: () => ready, watch: (peer, onDeath) => a.liveness.watch(peer, onDeath) }, deviceAccess: memoryDeviceAccess() });
  a.sockets.push(socket);
  port.postMessage({ progress: 'loading' });
  await quiesce();
  connectionOf(socket).peerFailedToStart();
  named('a');
  const buf = memoryDmaBuf(16);
  const fd = a.table.install(buf);
  buf.put();
  await expect(socket.send(a.table, fd)).rejects.toThrow("ENODEV: send: the other end's realm is gone");
  expect(realms.watched(a)).toEqual([]);
});
