// What an importing realm does with the bytes the exporting realm streams through its shared
// ring (remote/ring-stream.ts, remote/pending-calls.ts, remote/proxy-pages.ts): a chunk for a
// call never made is taken all the same, its slot freed, so the ring keeps flowing; chunks that
// add up past the read fail it with EIO saying so, and once a read has failed none of its bytes
// land; the bytes of a reading begin that came before another range ended are kept, though no
// range was active in between. The exporting side is played by hand over a raw port, with a
// ring of its own, as the protocol has it.
import { expect, test } from 'vitest';
import { PAGE_SIZE } from '../../src/page.js';
import { FdSocket } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
import { newRing, RING_SLOTS, RingWriter } from '../../remote/shared-ring.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture, track } from './realms.js';

const realms = realmsFixture();

const SIZE = 2 * PAGE_SIZE;
const never = new Promise<never>(() => undefined);
const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 11 + seed) % 253);

interface ReadRequest {
  readonly call: number;
  readonly start: number;
  readonly len: number;
}

/**
 * A realm `b` with a 'shared-memory' socket whose other end is played by the test: it has
 * said hello with a ring of its own and sent one buffer of SIZE bytes, which `b` holds as
 * `proxy` (its only reference). `reads` collects the read requests; `chunk` streams bytes
 * through the ring as a piece of the reply to `call`, and `reply` ends it.
 */
async function importedFromHand() {
  const b = realms.realm('b');
  const { port1: port, port2 } = realms.channel(b);
  const reads: ReadRequest[] = [];
  port.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { kind?: unknown } & ReadRequest;
    if (data.kind === 'read') reads.push({ call: data.call, start: data.start, len: data.len });
  });
  port.start();
  const socket = new FdSocket(port2, { liveness: b.liveness, deviceAccess: memoryDeviceAccess(), transport: 'shared-memory' });
  b.sockets.push(socket);
  const post = (fields: Record<string, unknown>) => { port.postMessage({ dmabuf: MARKER, ...fields }); };
  const ring = newRing();
  post({ kind: 'hello', realm: 'by hand', reply: false, inherit: false, ring });
  post({
    kind: 'fd',
    seq: 1,
    info: { grant: 1, key: 'by-hand-key', size: SIZE, name: null, exporter: 'by hand', fences: [], layout: { contiguous: false, align: 1 } },
  });
  const fd = await socket.receive(b.table);
  const proxy = b.table.get(fd);
  b.table.close(fd);
  expect(socket.transport).toBe('shared-memory');
  const writer = new RingWriter(ring);
  return {
    proxy,
    reads,
    chunk: (call: number, bytes: Uint8Array, total: number) => writer.write(bytes, (slot, len) => { post({ kind: 'chunk', slot, len, call, reply: true, total }); }, never),
    reply: (call: number, shared: number) => { post({ kind: 'reply', call, bytes: null, shared, error: null }); },
  };
}

/** The one read request not yet answered, once it has come. */
async function nextRead(reads: ReadRequest[]): Promise<ReadRequest> {
  await quiesce();
  const request = reads.shift();
  if (!request) throw new Error('no read request came');
  return request;
}

test('a chunk for a call never made is taken and its slot freed: the ring keeps flowing', async () => {
  const { proxy, reads, chunk, reply } = await importedFromHand();
  await chunk(999, pattern(8, 1), 8);
  const reading = track(proxy.beginCpuAccess(0, 16, 'from-device'));
  const { call, len } = await nextRead(reads);
  expect(len).toBe(PAGE_SIZE);
  // One chunk a slot, round the ring back to the slot the stray chunk took.
  const piece = PAGE_SIZE / RING_SLOTS;
  const streamed = track((async () => {
    for (let at = 0; at < PAGE_SIZE; at += piece) await chunk(call, pattern(PAGE_SIZE, 2).subarray(at, at + piece), PAGE_SIZE);
    reply(call, PAGE_SIZE);
  })());
  await quiesce();
  expect(streamed.state, 'every slot came free').toBe('resolved');
  expect(reading.state).toBe('resolved');
  const page = proxy.kmap(0);
  expect(page).toEqual(pattern(PAGE_SIZE, 2));
  proxy.kunmap(0, page);
  proxy.endCpuAccess(0, 16, 'from-device');
  proxy.put();
});

test('chunks that add up past the read fail it with EIO saying how many bytes it was sent', async () => {
  const { proxy, reads, chunk, reply } = await importedFromHand();
  const reading = track(proxy.beginCpuAccess(0, 16, 'from-device'));
  const { call } = await nextRead(reads);
  await chunk(call, pattern(PAGE_SIZE, 3), PAGE_SIZE);
  await chunk(call, pattern(10, 4), PAGE_SIZE);
  reply(call, PAGE_SIZE + 10);
  await quiesce();
  expect(reading).toMatchObject({ state: 'rejected', error: { code: 'EIO', message: `EIO: read: the exporter's realm sent ${String(PAGE_SIZE)} bytes for ${String(PAGE_SIZE)}` } });
  proxy.put();
});

test('the bytes a reading begin got before another range ended are kept, though no range was active in between', async () => {
  const { proxy, reads, chunk, reply } = await importedFromHand();
  // A range over the second page, its bytes all come.
  const other = track(proxy.beginCpuAccess(PAGE_SIZE, 10, 'from-device'));
  const first = await nextRead(reads);
  await chunk(first.call, pattern(PAGE_SIZE, 5), PAGE_SIZE);
  reply(first.call, PAGE_SIZE);
  await quiesce();
  expect(other.state).toBe('resolved');
  // A read of the first page: half its bytes come, the other range ends, then the rest come.
  const reading = track(proxy.beginCpuAccess(0, 10, 'from-device'));
  const { call } = await nextRead(reads);
  await chunk(call, pattern(PAGE_SIZE, 6).subarray(0, PAGE_SIZE / 2), PAGE_SIZE);
  await quiesce();
  proxy.endCpuAccess(PAGE_SIZE, 10, 'from-device');
  await chunk(call, pattern(PAGE_SIZE, 6).subarray(PAGE_SIZE / 2), PAGE_SIZE);
  reply(call, PAGE_SIZE);
  await quiesce();
  expect(reading.state).toBe('resolved');
  const page = proxy.kmap(0);
  expect(page).toEqual(pattern(PAGE_SIZE, 6));
  proxy.kunmap(0, page);
  proxy.endCpuAccess(0, 10, 'from-device');
  proxy.put();
});

test('once a read has failed, no later chunk of it changes the bytes another range shows', async () => {
  const { proxy, reads, chunk, reply } = await importedFromHand();
  const other = track(proxy.beginCpuAccess(0, 10, 'from-device'));
  const first = await nextRead(reads);
  await chunk(first.call, pattern(PAGE_SIZE, 7), PAGE_SIZE);
  reply(first.call, PAGE_SIZE);
  await quiesce();
  expect(other.state).toBe('resolved');
  const reading = track(proxy.beginCpuAccess(0, 20, 'from-device'));
  const { call } = await nextRead(reads);
  // A chunk that says the read is longer than it is, then the bytes of the whole page.
  await chunk(call, pattern(8, 8), PAGE_SIZE + 1);
  await chunk(call, pattern(PAGE_SIZE, 8), PAGE_SIZE);
  reply(call, PAGE_SIZE + 8);
  await quiesce();
  expect(reading).toMatchObject({ state: 'rejected', error: { code: 'EIO', message: `EIO: read: the exporter's realm sent ${String(PAGE_SIZE + 1)} bytes for ${String(PAGE_SIZE)}` } });
  const page = proxy.kmap(0);
  expect(page).toEqual(pattern(PAGE_SIZE, 7));
  proxy.kunmap(0, page);
  proxy.endCpuAccess(0, 10, 'from-device');
  proxy.put();
});
