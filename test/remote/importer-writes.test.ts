// What the exporting realm does with an importer's write whose bytes come through the
// importer's shared ring (remote/ring-stream.ts, remote/serve-requests.ts): the chunks are put
// together and written once they add up to exactly what the write says; a write whose chunks do
// not add up (a chunk past the total, totals that disagree, fewer or more bytes than announced,
// none at all) is answered EIO and changes no byte of the buffer. The importing side is played
// by hand over a raw port, with a ring of its own, as the protocol has it; a run of writes of
// growing and shrinking sizes lands exactly, whichever array the exporter puts them together
// in.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { FdSocket } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
import { newRing, RingWriter } from '../../remote/shared-ring.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, TestRealms } from './realms.js';

let realms = new TestRealms();
// What the importer played by hand gives back at the end: its grant.
const drops: (() => void)[] = [];

afterEach(async () => {
  for (const drop of drops.splice(0)) drop();
  await quiesce();
  await realms.closeAll();
  realms = new TestRealms();
  expect(bufinfoEntries()).toEqual([]);
});

const SIZE = 64;
const never = new Promise<never>(() => undefined);

interface Reply {
  readonly call: number;
  readonly error: { readonly code: string; readonly call: string; readonly reason: string } | null;
}

/**
 * Realm `a` exports SIZE bytes of 1s and sends them to an importer played by hand on a raw
 * port, which has said hello with a ring of its own and acknowledged the fd.
 */
async function exportedToHand() {
  const a = realms.realm('a');
  const { port1: port, port2 } = new MessageChannel();
  a.ports.push(port, port2);
  const replies: Reply[] = [];
  let grant = 0;
  const post = (fields: Record<string, unknown>) => { port.postMessage({ dmabuf: MARKER, ...fields }); };
  port.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { kind?: unknown; seq?: number; info?: { grant: number } } & Reply;
    if (data.kind === 'fd' && data.info) {
      grant = data.info.grant;
      post({ kind: 'ack', seq: data.seq, ok: true });
    }
    if (data.kind === 'reply') replies.push({ call: data.call, error: data.error });
  });
  port.start();
  const ring = newRing();
  post({ kind: 'hello', realm: 'by hand', reply: false, inherit: false, ring });
  const socket = new FdSocket(port2, { liveness: a.liveness, deviceAccess: memoryDeviceAccess(), transport: 'shared-memory' });
  a.sockets.push(socket);
  const buf = memoryDmaBuf(SIZE);
  const bytes = memoryStorage(buf).bytes;
  bytes.fill(1);
  const fd = a.table.install(buf);
  buf.put();
  await socket.send(a.table, fd);
  expect(grant, 'the importer holds a grant').toBeGreaterThan(0);
  drops.push(() => { post({ kind: 'drop', grant, count: 1 }); });
  const writer = new RingWriter(ring);
  let nextCall = 1;
  /**
   * Posts `chunks` through the ring as pieces of one write at `start`, each chunk saying the
   * write is `total` bytes in all (or its own `total`), then the write saying `shared` bytes came.
   */
  const write = async (start: number, chunks: readonly (Uint8Array | { bytes: Uint8Array; total: number })[], total: number, shared = total) => {
    const call = nextCall++;
    for (const chunk of chunks) {
      const [piece, says] = chunk instanceof Uint8Array ? [chunk, total] : [chunk.bytes, chunk.total];
      await writer.write(piece, (slot, len) => { post({ kind: 'chunk', slot, len, call, reply: false, total: says }); }, never);
    }
    post({ kind: 'write', call, grant, start, bytes: null, shared });
    await quiesce();
    return replies.find((r) => r.call === call);
  };
  return { bytes, write };
}

const filled = (length: number, value: number) => new Uint8Array(length).fill(value);

test('a write whose chunks add up to what it says lands, and is answered without an error', async () => {
  const { bytes, write } = await exportedToHand();
  expect(await write(8, [filled(3, 7), filled(5, 8)], 8)).toEqual({ call: 1, error: null });
  expect([...bytes.subarray(6, 18)]).toEqual([1, 1, 7, 7, 7, 8, 8, 8, 8, 8, 1, 1]);
});

test('writes of growing and shrinking sizes one after another each land exactly', async () => {
  const { bytes, write } = await exportedToHand();
  let value = 10;
  for (const size of [8, 8, 4, 16, 2, 32, 3]) {
    value += 1;
    expect(await write(0, [filled(size, value)], size), `a write of ${String(size)}`).toEqual({ call: value - 10, error: null });
    expect(bytes.subarray(0, size).every((b) => b === value), `bytes of the write of ${String(size)}`).toBe(true);
  }
});

test.each<[string, readonly (Uint8Array | { bytes: Uint8Array; total: number })[], number, number]>([
  ['a chunk past the total', [filled(4, 9), filled(4, 9)], 4, 4],
  ['chunks that disagree on the total', [filled(2, 9), { bytes: filled(2, 9), total: 8 }], 4, 4],
  ['chunks that say more bytes in all than the write', [filled(4, 9)], 8, 4],
  ['fewer bytes than the write says', [filled(4, 9)], 8, 8],
  ['a write that says more bytes came than its chunks carried', [filled(4, 9)], 4, 8],
  ['a write that says fewer bytes came than its chunks carried', [filled(8, 9)], 8, 4],
  ['no chunks at all', [], 4, 4],
])('a write with %s is answered EIO and changes no byte', async (_what, chunks, total, shared) => {
  const { bytes, write } = await exportedToHand();
  expect(await write(0, chunks, total, shared)).toEqual({ call: 1, error: { code: 'EIO', call: 'write', reason: "the bytes did not come through the sender's ring" } });
  expect(bytes.every((b) => b === 1)).toBe(true);
});

test('a write announcing more bytes than this realm can hold is answered EIO and changes no byte', async () => {
  const { bytes, write } = await exportedToHand();
  expect(await write(0, [{ bytes: filled(4, 9), total: 2 ** 50 }], 4)).toEqual({ call: 1, error: { code: 'EIO', call: 'write', reason: "the bytes did not come through the sender's ring" } });
  expect(bytes.every((b) => b === 1)).toBe(true);
});
