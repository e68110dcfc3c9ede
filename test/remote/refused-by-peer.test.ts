// What an end does when the other end refuses what it sent with a negative ack
// (remote/pending-sends.ts, inheritance.ts): a send of an fd fails with EBADF and gives its
// reference back, and the fds a parent sent its child to inherit are given back. The other end
// is played by hand over a raw port, as the protocol has it.
import { expect, test } from 'vitest';
import { connectionOf, FdSocket } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture, track } from './realms.js';

const realms = realmsFixture();

/**
 * Realm `a`'s socket, whose other end is played by hand: it says hello as `realm`, and
 * answers each fd or inherit message with a negative ack. `a`'s table holds two buffers
 * (not close-on-exec), with the table's references only.
 */
function refusingPeer(realm: string) {
  const a = realms.realm('a');
  const { port1: port, port2 } = realms.channel(a);
  const heard: { kind?: unknown }[] = [];
  const post = (fields: Record<string, unknown>) => { port.postMessage({ dmabuf: MARKER, ...fields }); };
  port.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { kind?: unknown; seq?: number };
    heard.push(data);
    if (data.kind === 'fd' || data.kind === 'inherit') post({ kind: 'ack', seq: data.seq, ok: false });
  });
  port.start();
  const socket = new FdSocket(port2, { liveness: a.liveness, deviceAccess: memoryDeviceAccess() });
  a.sockets.push(socket);
  const bufs = [16, 32].map((size) => memoryDmaBuf(size));
  for (const buf of bufs) {
    a.table.install(buf, { cloexec: false });
    buf.put();
  }
  return { a, socket, bufs, heard, hello: () => { post({ kind: 'hello', realm, reply: false, inherit: false, ring: null }); } };
}

test('a send the other end refuses fails with EBADF, and its reference is given back', async () => {
  const { a, socket, bufs, hello } = refusingPeer('b');
  hello();
  const sent = track(socket.send(a.table, 0));
  await quiesce();
  expect(sent).toMatchObject({ state: 'rejected', error: { code: 'EBADF', message: 'EBADF: send: the other end of the socket is closed' } });
  expect(bufs.map((buf) => buf.refCount), "the table's only").toEqual([1, 1]);
});

test("the fds a child refuses to inherit are given back to the parent's buffers", async () => {
  const { a, socket, bufs, heard, hello } = refusingPeer('child');
  connectionOf(socket).inheritFrom(a.table.spawn());
  expect(bufs.map((buf) => buf.refCount), "the table's and the child's to come").toEqual([2, 2]);
  hello();
  await quiesce();
  expect(heard.filter((m) => m.kind === 'inherit')).toHaveLength(1);
  expect(bufs.map((buf) => buf.refCount), "the table's only").toEqual([1, 1]);
});
