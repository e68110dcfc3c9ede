// How the exporting realm serves an importer's reads and writes (remote/serve.ts): a read
// answers exactly the bytes of its range, wherever in a page it begins and ends; the RPCs take
// effect in the order their messages came, even when the exporter is slow to begin a write's
// CPU access: a read that came after a write sees the write's bytes, and writes land in the
// order they came; a read of part of the buffer takes no turn of its own in the reservation
// (the exporter's beginCpuAccess places it). The importing side is played by hand over a raw
// port (bytes in the messages, no ring), as the protocol has it; the exporter here holds the
// bytes in plain memory and begins CPU access in the directions a test gates only when the test
// lets it.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import type { DmaDirection } from '../../src/direction.js';
import { exportDmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import { PAGE_SIZE } from '../../src/page.js';
import { FdSocket } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
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

const SIZE = 3 * PAGE_SIZE;
const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 13 + seed) % 251);

interface Reply {
  readonly bytes: Uint8Array | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/**
 * Realm `a` exports SIZE bytes of `pattern(SIZE, 1)` (`buf`, its table's reference) and sends
 * them to an importer played by hand. The exporter's beginCpuAccess in the directions `gated`
 * waits for the test: `writesBegun` counts the writes' that have begun to begin, and
 * `letBegin()` lets the oldest waiting one go on.
 */
async function exportedToHand(gated: readonly DmaDirection[] = ['to-device']) {
  const a = realms.realm('a');
  const { port1: port, port2 } = new MessageChannel();
  a.ports.push(port, port2);
  const replies = new Map<number, Reply>();
  let grant = 0;
  const post = (fields: Record<string, unknown>, transfer: Transferable[] = []) => { port.postMessage({ dmabuf: MARKER, ...fields }, transfer); };
  port.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { kind?: unknown; seq?: number; info?: { grant: number }; call: number; bytes: ArrayBuffer | null; error: Reply['error'] };
    if (data.kind === 'fd' && data.info) {
      grant = data.info.grant;
      post({ kind: 'ack', seq: data.seq, ok: true });
    }
    if (data.kind === 'reply') replies.set(data.call, { bytes: data.bytes ? new Uint8Array(data.bytes) : null, error: data.error });
  });
  port.start();
  post({ kind: 'hello', realm: 'by hand', reply: false, inherit: false, ring: null });
  const socket = new FdSocket(port2, { liveness: a.liveness, deviceAccess: memoryDeviceAccess(), transport: 'message' });
  a.sockets.push(socket);

  const storage = pattern(SIZE, 1);
  const waiting: (() => void)[] = [];
  let writesBegun = 0;
  const page = (n: number) => storage.subarray(n * PAGE_SIZE, (n + 1) * PAGE_SIZE);
  const ops: DmaBufOps = {
    mapDmaBuf: () => Promise.resolve({ segments: [] }),
    unmapDmaBuf: () => undefined,
    release: () => undefined,
    beginCpuAccess: (_priv, _buf, _start, _len, dir) => {
      if (!gated.includes(dir)) return Promise.resolve();
      if (dir === 'to-device') writesBegun += 1;
      return new Promise<void>((resolve) => { waiting.push(resolve); });
    },
    kmap: (_priv, _buf, n) => page(n),
    kmapAtomic: (_priv, _buf, n) => page(n),
  };
  const buf = exportDmaBuf({ priv: {}, ops, size: SIZE, exporter: 'gated' });
  const fd = a.table.install(buf);
  buf.put();
  await socket.send(a.table, fd);
  expect(grant, 'the importer holds a grant').toBeGreaterThan(0);
  drops.push(() => { post({ kind: 'drop', grant, count: 1 }); });

  let nextCall = 1;
  return {
    buf,
    storage,
    replies,
    writesBegun: () => writesBegun,
    letBegin: () => { waiting.shift()?.(); },
    /** Posts a read of `[start, start + len)`; returns its call number. */
    read: (start: number, len: number) => {
      const call = nextCall++;
      post({ kind: 'read', call, grant, start, len });
      return call;
    },
    /** Posts a write of `bytes` at `start`; returns its call number. */
    write: (start: number, bytes: Uint8Array) => {
      const call = nextCall++;
      const out = bytes.slice().buffer;
      post({ kind: 'write', call, grant, start, bytes: out, shared: 0 }, [out]);
      return call;
    },
  };
}

test.each([
  ['inside one page', PAGE_SIZE + 5, 20],
  ['from inside a page to inside the next', PAGE_SIZE - 7, 30],
  ['from inside the first page to inside the last', 11, 2 * PAGE_SIZE + 9],
])('a read of a range %s is answered with exactly its bytes', async (_where, start, len) => {
  const { replies, read } = await exportedToHand();
  const call = read(start, len);
  await quiesce();
  expect(replies.get(call)).toEqual({ bytes: pattern(SIZE, 1).subarray(start, start + len), error: null });
});

test('a read that came after a write still beginning waits for the write to end, and sees its bytes', async () => {
  const { replies, read, write, writesBegun, letBegin } = await exportedToHand();
  const written = write(PAGE_SIZE, pattern(10, 7));
  const after = read(PAGE_SIZE, 10);
  await quiesce();
  expect(writesBegun(), 'the write is beginning').toBe(1);
  expect(replies.has(after), 'the read waits for the write').toBe(false);
  letBegin();
  await quiesce();
  expect(replies.get(written)).toEqual({ bytes: null, error: null });
  expect(replies.get(after)).toEqual({ bytes: pattern(10, 7), error: null });
});

test('writes of the same bytes land in the order they came, even while the first is slow to begin', async () => {
  const { replies, storage, write, writesBegun, letBegin } = await exportedToHand();
  const first = write(0, pattern(16, 3));
  const second = write(8, pattern(16, 4));
  await quiesce();
  expect(writesBegun(), 'the second begins once the first has ended').toBe(1);
  letBegin();
  await quiesce();
  expect(writesBegun()).toBe(2);
  expect(replies.get(first)).toEqual({ bytes: null, error: null });
  expect(replies.has(second)).toBe(false);
  letBegin();
  await quiesce();
  expect(replies.get(second)).toEqual({ bytes: null, error: null });
  const expected = pattern(SIZE, 1);
  expected.set(pattern(16, 3), 0);
  expected.set(pattern(16, 4), 8);
  expect(storage.subarray(0, 32)).toEqual(expected.subarray(0, 32));
});

test('a read that came once the first of two writes had ended waits for the second', async () => {
  const { replies, read, write, writesBegun, letBegin } = await exportedToHand();
  write(0, pattern(4, 5));
  write(4, pattern(4, 6));
  await quiesce();
  letBegin();
  await quiesce();
  expect(writesBegun(), 'the second write is beginning').toBe(2);
  const after = read(0, 8);
  await quiesce();
  expect(replies.has(after), 'the read waits for the second write').toBe(false);
  letBegin();
  await quiesce();
  expect(replies.get(after)).toEqual({ bytes: Uint8Array.of(...pattern(4, 5), ...pattern(4, 6)), error: null });
});

test("a read of part of the buffer takes no turn of its own in the reservation: the exporter's own write called while the read begins goes first", async () => {
  const { buf, storage, replies, read, letBegin } = await exportedToHand(['from-device']);
  const call = read(PAGE_SIZE, 10);
  await quiesce();
  expect(replies.has(call), 'the read is beginning').toBe(false);
  // A write of the exporter's own device, entered as the exporter's writes are.
  const turn = buf.resv.enter('write');
  expect(turn.ready, 'nothing to wait for').toBeUndefined();
  storage.fill(9, PAGE_SIZE, PAGE_SIZE + 10);
  turn.done();
  letBegin();
  await quiesce();
  expect(replies.get(call)).toEqual({ bytes: new Uint8Array(10).fill(9), error: null });
});
