// Once the socket on top of an end is closed, its connection takes no send (remote/connection.ts,
// connection-state.ts): not after the handshake (closing), not before it (opening-closed). A
// send refused takes no grant: the buffer's references stay as they were, and the connection
// still ends once nothing else is held across.
import { expect, test } from 'vitest';
import { connectionOf } from '../../remote/fd-socket.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

test.each([
  { when: 'after the handshake', handshake: true },
  { when: 'before the handshake', handshake: false },
])('an end whose socket is closed refuses a send with EBADF, $when, and holds nothing for it', async ({ handshake }) => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab } = realms.link(a, b);
  if (handshake) await quiesce();
  ab.close();
  const buf = memoryDmaBuf(4096);
  await expect(connectionOf(ab).send(buf)).rejects.toMatchObject({ code: 'EBADF', call: 'send', reason: 'this end of the socket is closed' });
  expect(buf.refCount).toBe(1);
  await quiesce();
  expect(realms.watched(a), "a's end ended: nothing was held across").toEqual([]);
  buf.put();
});

test("an end whose peer's socket is closed refuses a send with EBADF naming the other end", async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  await quiesce();
  ba.close();
  await quiesce();
  const buf = memoryDmaBuf(4096);
  await expect(connectionOf(ab).send(buf)).rejects.toMatchObject({ code: 'EBADF', reason: 'the other end of the socket is closed' });
  expect(buf.refCount).toBe(1);
  buf.put();
});
