// A peer that never started (a worker whose script failed to load: spawnWorker hears its
// error event) is gone as a dead peer is: what waited for its hello fails with ENODEV, and
// what was held for it is given back. Once the peer has said hello, the same word changes
// nothing: a running worker's later errors are its own.
import { expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { connectionOf, FdSocket } from '../../remote/fd-socket.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

test('a send to a peer that never started fails with ENODEV once it is said so, and gives its reference back', async () => {
  const page = realms.realm('page');
  const { port1 } = realms.channel(page);
  const socket = new FdSocket(port1, { liveness: page.liveness, deviceAccess: memoryDeviceAccess() });
  page.sockets.push(socket);
  const buf = memoryDmaBuf(4096);
  const fd = page.table.install(buf);
  buf.put();
  const sent = socket.send(page.table, fd).then(() => 'sent', (error: unknown) => error);
  await quiesce();
  expect(bufinfoEntries().map(({ refCount }) => refCount), 'held for the send').toEqual([2]);
  connectionOf(socket).peerFailedToStart();
  expect(await sent).toMatchObject({ code: 'ENODEV' });
  expect(bufinfoEntries().map(({ refCount }) => refCount)).toEqual([1]);
  await expect(socket.send(page.table, fd)).rejects.toMatchObject({ code: 'ENODEV' });
});

test('once the peer has said hello, being told it failed to start changes nothing', async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  await quiesce();
  connectionOf(ab).peerFailedToStart();
  const buf = memoryDmaBuf(4096);
  const fd = a.table.install(buf);
  buf.put();
  const received = ba.receive(b.table);
  await ab.send(a.table, fd);
  const got = b.table.get(await received);
  expect(got.size).toBe(4096);
  got.put();
});
