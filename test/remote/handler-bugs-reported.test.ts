// A bug while a connection handles a well-formed message (an error that is not a DmaBufError)
// is reported with console.warn, naming the message's kind, once per kind; the message is
// dropped and the connection goes on: later messages are handled as ever. A message that
// fails with a DmaBufError (something released meanwhile) is dropped without a word, as a
// malformed one is: neither is a bug.
import { afterEach, expect, test, vi } from 'vitest';
import { DmaBufError } from '../../src/error.js';
import type { RemoteDeviceAccess } from '../../remote/device-access.js';
import { MARKER } from '../../remote/protocol.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture, track } from './realms.js';

const realms = realmsFixture();

afterEach(() => {
  vi.restoreAllMocks();
});

/** Device access whose first `failures` proxies fail to be made, with `error` (a TypeError: a bug). */
function failingAccess(failures: number, error: () => Error = () => new TypeError('a bug in the device access')): RemoteDeviceAccess {
  const access = memoryDeviceAccess();
  let left = failures;
  return {
    forBuffer: (bytes) => {
      if (left > 0) {
        left -= 1;
        throw error();
      }
      return access.forBuffer(bytes);
    },
  };
}

test("a bug while handling a message is reported once per kind, naming it; the message is dropped and the connection goes on", async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b, { deviceAccess: failingAccess(2) });
  const buf = memoryDmaBuf(4096);
  memoryStorage(buf).bytes.fill(7);
  const fd = a.table.install(buf);
  buf.put();
  const first = track(ab.send(a.table, fd));
  const second = track(ab.send(a.table, fd));
  await quiesce();
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0]?.[0])).toContain("'fd'");
  expect(warn.mock.calls[0]?.[1]).toBeInstanceOf(TypeError);
  expect([first.state, second.state], 'the dropped fd messages are never answered').toEqual(['pending', 'pending']);
  // The connection goes on: the next fd is taken, and its byte RPCs run.
  const received = ba.receive(b.table);
  await ab.send(a.table, fd);
  const theirs = b.table.get(await received);
  expect([...(await theirs.read(Uint8Array, 0, 4))]).toEqual([7, 7, 7, 7]);
  theirs.put();
  expect(warn).toHaveBeenCalledTimes(1);
  // The sends whose fd messages were dropped wait until the peer's realm is gone.
  realms.kill(b);
  await quiesce();
  expect([first.state, second.state]).toEqual(['rejected', 'rejected']);
});

test('a message whose handling fails with a DmaBufError is dropped without a warning', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab } = realms.link(a, b, { deviceAccess: failingAccess(1, () => new DmaBufError('ENOMEM', 'forBuffer', 'no room for a mirror')) });
  const buf = memoryDmaBuf(4096);
  const fd = a.table.install(buf);
  buf.put();
  const sent = track(ab.send(a.table, fd));
  await quiesce();
  expect(sent.state).toBe('pending');
  expect(warn).not.toHaveBeenCalled();
  realms.kill(b);
  await quiesce();
  expect(sent.state).toBe('rejected');
});

test.each(['message', 'shared-memory'] as const)('well-formed messages that name nothing this end gave are dropped without a warning (%s transport)', async (transport) => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { portB } = realms.link(a, b, { transport });
  await quiesce();
  const forged = [
    { kind: 'drop', grant: 9, count: 1 },
    { kind: 'ack', seq: 9, ok: true },
    { kind: 'reply', call: 9, bytes: null, shared: 0, error: null },
    { kind: 'fence', grant: 9, mine: true, fence: { id: 1, usage: 'read', back: false } },
    { kind: 'fence', grant: 9, mine: false, fence: { id: 1, usage: 'read', back: true } },
    { kind: 'signal', fence: 9, error: null },
    { kind: 'chunk', slot: 0, len: 1, call: 9, reply: true, total: 1 },
    { kind: 'chunk', slot: 0, len: 1, call: 9, reply: false, total: 1 },
    { kind: 'inherit', seq: 9, fds: [] },
    { kind: 'read', call: 9, grant: 9, start: 0, len: 1 },
  ];
  for (const message of forged) portB.postMessage({ dmabuf: MARKER, ...message });
  await quiesce();
  expect(warn).not.toHaveBeenCalled();
});
