// A remote buffer's bytes as its device access sees them (RemoteBytes, remote/device-access.ts):
// a write lands exactly the bytes of the view it is given, wherever that view lies in its
// array, and leaves the caller's array as it was once it settles (the bytes are copied, never
// transferred away), over either transport; a read whose taker throws rejects with that error
// and hands over nothing more; a write place given up lets the operations behind it go.
import { expect, test } from 'vitest';
import type { RemoteBytes, RemoteDeviceAccess } from '../../remote/device-access.js';
import type { FdSocketTransport } from '../../remote/fd-socket.js';
import { SLOT_BYTES } from '../../remote/shared-ring.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture, track } from './realms.js';

const realms = realmsFixture();

test.each<FdSocketTransport>(['message', 'shared-memory'])("a write lands exactly its view's bytes and leaves the caller's array as it was (%s)", async (transport) => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  // b's device access, as a WebGPU one is given each remote buffer's bytes.
  const given: RemoteBytes[] = [];
  const memory = memoryDeviceAccess();
  const access: RemoteDeviceAccess = { forBuffer: (bytes) => { given.push(bytes); return memory.forBuffer(bytes); } };
  const { ab, ba } = realms.link(a, b, { transport, deviceAccess: access });
  const buf = memoryDmaBuf(64);
  const exporter = memoryStorage(buf).bytes;
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  const received = await ba.receive(b.table);
  const [bytes] = given;
  if (!bytes) throw new Error('no bytes given to the device access');
  const array = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  await bytes.reserveWrite().write(8, array.subarray(4, 12));
  expect(array, "the caller's array").toEqual(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
  expect([...exporter.subarray(0, 24)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0]);
  b.table.close(received);
  await quiesce();
});

test.each<FdSocketTransport>(['message', 'shared-memory'])('a read whose taker throws rejects with that error, and hands over no later piece (%s)', async (transport) => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const given: RemoteBytes[] = [];
  const memory = memoryDeviceAccess();
  const { ab, ba } = realms.link(a, b, { transport, deviceAccess: { forBuffer: (bytes) => { given.push(bytes); return memory.forBuffer(bytes); } } });
  // Two slots' worth: the bytes come in two pieces through the ring.
  const buf = memoryDmaBuf(2 * SLOT_BYTES);
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  const received = await ba.receive(b.table);
  const [bytes] = given;
  if (!bytes) throw new Error('no bytes given to the device access');
  const failure = new Error('the device is lost');
  const pieces: number[] = [];
  await expect(bytes.read(0, 2 * SLOT_BYTES, (at) => {
    pieces.push(at);
    throw failure;
  })).rejects.toBe(failure);
  expect(pieces).toEqual([0]);
  b.table.close(received);
  await quiesce();
});

test("a write place given up lets the operations behind it go: a read after it completes", async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const given: RemoteBytes[] = [];
  const memory = memoryDeviceAccess();
  const { ab, ba } = realms.link(a, b, { deviceAccess: { forBuffer: (bytes) => { given.push(bytes); return memory.forBuffer(bytes); } } });
  const buf = memoryDmaBuf(16);
  memoryStorage(buf).bytes.fill(3);
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  const received = await ba.receive(b.table);
  const [bytes] = given;
  if (!bytes) throw new Error('no bytes given to the device access');
  const place = bytes.reserveWrite();
  const seen = new Uint8Array(16);
  const reading = track(bytes.read(0, 16, (at, chunk) => { seen.set(chunk, at); }));
  await quiesce();
  expect(reading.state, 'behind the write place').toBe('pending');
  place.cancel();
  await quiesce();
  expect(reading.state).toBe('resolved');
  expect(seen).toEqual(new Uint8Array(16).fill(3));
  b.table.close(received);
  await quiesce();
});
