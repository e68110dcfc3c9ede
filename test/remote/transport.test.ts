import { afterEach, describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import type { FdSocketTransport } from '../../remote/fd-socket.js';
import { PAGE_SIZE } from '../../src/page.js';
import { MARKER } from '../../remote/protocol.js';
import { SLOT_BYTES } from '../../remote/shared-ring.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { quiesce, TestRealms } from './realms.js';

let realms = new TestRealms();

/** The first index where `x` and `y` differ, or -1 (vitest's deep equality is too slow for MiBs). */
function firstDifference(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

afterEach(async () => {
  await realms.closeAll();
  realms = new TestRealms();
  expect(bufinfoEntries()).toEqual([]);
});

/** Realms `a` and `b` with a buffer of `size` bytes of a's received by b, each end offering `offers`. */
async function remoteOf(size: number, offers: [FdSocketTransport, FdSocketTransport]) {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { port1, port2 } = new MessageChannel();
  a.ports.push(port1);
  b.ports.push(port2);
  const { FdSocket } = await import('../../remote/fd-socket.js');
  const ab = new FdSocket(port1, { liveness: a.liveness, transport: offers[0] });
  const ba = new FdSocket(port2, { liveness: b.liveness, transport: offers[1] });
  a.sockets.push(ab);
  b.sockets.push(ba);
  const buf = memoryDmaBuf(size);
  const bytes = memoryStorage(buf).bytes;
  for (let i = 0; i < size; i++) bytes[i] = (i * 11 + 5) & 0xff;
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  const remote = b.table.get(await ba.receive(b.table));
  return { a, b, ab, ba, buf, remote, portB: port2 };
}

describe('transports', () => {
  test.each([
    [['shared-memory', 'shared-memory'], 'shared-memory'],
    [['shared-memory', 'message'], 'message'],
    [['message', 'shared-memory'], 'message'],
    [['message', 'message'], 'message'],
  ] as const)('ends offering %j run on %s', async (offers, expected) => {
    const { ab, ba, remote } = await remoteOf(10, [...offers]);
    expect([ab.transport, ba.transport]).toEqual([expected, expected]);
    remote.put();
  });

  test.each(['shared-memory', 'message'] as const)('over %s, a buffer larger than the ring reads and writes exactly, and streams through the same ring', async (transport) => {
    const size = 4 * SLOT_BYTES + 2 * PAGE_SIZE + 3;
    const { buf, remote } = await remoteOf(size, [transport, transport]);
    const storage = memoryStorage(buf).bytes;
    const before = storage.slice();
    for (let round = 0; round < 2; round++) {
      await remote.beginCpuAccess(0, size, 'bidirectional');
      const view = remote.vmap();
      expect(firstDifference(view, storage)).toBe(-1);
      view.fill(round + 1, 1, size - 1);
      remote.vunmap(view);
      remote.endCpuAccess(0, size, 'bidirectional');
      await remote.beginCpuAccess(0, 1, 'from-device');
      remote.endCpuAccess(0, 1, 'from-device');
      const expected = before.slice();
      expected.fill(round + 1, 1, size - 1);
      expect(firstDifference(storage, expected)).toBe(-1);
    }
    remote.put();
  });

  test('chunk messages that name no full slot, or lie about the length, are ignored and a write they claim to carry is EIO', async () => {
    const { buf, remote, portB } = await remoteOf(64, ['shared-memory', 'shared-memory']);
    const replies: unknown[] = [];
    portB.addEventListener('message', (event) => { replies.push(event.data); });
    const chunk = { dmabuf: MARKER, kind: 'chunk', call: 4242, reply: false, total: 8 };
    portB.postMessage({ ...chunk, slot: 0, len: 8 });
    portB.postMessage({ ...chunk, slot: 9, len: 8 });
    portB.postMessage({ ...chunk, slot: 0, len: SLOT_BYTES + 1, total: SLOT_BYTES + 1 });
    portB.postMessage({ ...chunk, slot: 0, len: 8, total: 4 });
    portB.postMessage({ dmabuf: MARKER, kind: 'write', call: 4242, grant: 1, start: 0, bytes: null, shared: 8 });
    await quiesce();
    expect(replies).toContainEqual(expect.objectContaining({ kind: 'reply', call: 4242, error: expect.objectContaining({ code: 'EIO' }) as unknown }));
    expect(new Set(memoryStorage(buf).bytes.subarray(0, 8)).size).toBeGreaterThan(1);
    remote.put();
  });

  test('a realm that dies in the middle of a payload streaming to it: the sender drops its references for it and its socket fails ENODEV', async () => {
    const size = 6 * SLOT_BYTES;
    const { a, b, ab, buf, remote, portB } = await remoteOf(size, ['shared-memory', 'shared-memory']);
    // b dies right after taking the first chunk of a's answer (its socket listened first):
    // a has filled every slot and waits for one that will never be freed.
    const died = new Promise<void>((resolve) => {
      portB.addEventListener('message', (event) => {
        if ((event.data as { kind?: unknown }).kind !== 'chunk' || !b.alive) return;
        realms.kill(b);
        resolve();
      });
    });
    const read = remote.beginCpuAccess(0, size, 'from-device');
    read.catch(() => undefined);
    await died;
    await quiesce();
    expect(buf.refCount).toBe(1);
    const again = memoryDmaBuf(4);
    const fd = a.table.install(again);
    again.put();
    await expect(ab.send(a.table, fd)).rejects.toThrow(/^ENODEV: /);
    remote.put();
  });

  test('an unknown transport is EINVAL', () => {
    const { port1, port2 } = new MessageChannel();
    return import('../../remote/fd-socket.js').then(({ FdSocket }) => {
      expect(() => new FdSocket(port1, { transport: 'pigeon' as FdSocketTransport })).toThrow(/^EINVAL: new FdSocket: transport must be 'message' or 'shared-memory', got "pigeon"/);
      port1.close();
      port2.close();
    });
  });
});
