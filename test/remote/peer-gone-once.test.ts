// The peer's realm is gone once, however the connection hears of it (remote/connection.ts,
// connection-state.ts): told again (its name could not be had, and then the peer "failed to
// start"), it does nothing more; told within the liveness watch itself, as a liveness that
// knows at once may, the handshake opens nothing. Either way no bug is reported, and what
// waited on the peer fails with ENODEV naming the call that waited.
import { afterEach, expect, test, vi } from 'vitest';
import type { RealmLiveness } from '../../remote/liveness.js';
import { connectionOf, FdSocket } from '../../remote/fd-socket.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

afterEach(() => {
  vi.restoreAllMocks();
});

test('a connection told twice that its peer is gone does its part once', async () => {
  const a = realms.realm('a');
  const { port1 } = realms.channel(a);
  const socket = new FdSocket(port1, { liveness: { ready: () => Promise.reject(new Error('no lock manager')), watch: (peer, onDeath) => a.liveness.watch(peer, onDeath) }, deviceAccess: memoryDeviceAccess() });
  a.sockets.push(socket);
  await quiesce();
  expect(() => { connectionOf(socket).peerFailedToStart(); }).not.toThrow();
  const buf = memoryDmaBuf(16);
  const fd = a.table.install(buf);
  buf.put();
  await expect(socket.send(a.table, fd)).rejects.toMatchObject({ code: 'ENODEV', call: 'send' });
});

test('a peer whose death the liveness tells within watch itself opens nothing: sends fail with ENODEV, and no bug is reported', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { port1, port2 } = realms.channel(a, b);
  // It knows at once that every peer is gone.
  const knowing: RealmLiveness = { ready: () => a.liveness.ready(), watch: (_peer, onDeath) => { onDeath(); return () => undefined; } };
  const ab = new FdSocket(port1, { liveness: knowing, deviceAccess: memoryDeviceAccess() });
  const ba = new FdSocket(port2, { liveness: b.liveness, deviceAccess: memoryDeviceAccess() });
  a.sockets.push(ab);
  b.sockets.push(ba);
  const buf = memoryDmaBuf(16);
  const fd = a.table.install(buf);
  buf.put();
  const sent = ab.send(a.table, fd).then(() => 'sent', (error: unknown) => error);
  await quiesce();
  expect(await sent).toMatchObject({ code: 'ENODEV', call: 'send' });
  expect(buf.refCount, "the table's only").toBe(1);
  expect(warn).not.toHaveBeenCalled();
});
