// What an importing realm does with the answers of the realm that exports a buffer
// (remote/pending-calls.ts). The exporting side here is played by hand over a raw port, as the
// protocol has it (hello, fd, then replies to the proxy's reads), so that it can answer wrong:
// a read answered with fewer or more bytes than asked, with none, or with an error, fails with
// EIO or that error and names the counts; an answer to a call never made is ignored.
import { expect, test } from 'vitest';
import { MARKER } from '../../remote/protocol.js';
import { FdSocket } from '../../remote/fd-socket.js';
import type { DmaBuf } from '../../src/dma-buf.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

const SIZE = 16;

interface ReadRequest {
  readonly call: number;
  readonly start: number;
  readonly len: number;
}

/**
 * A realm `b` with a socket whose other end is played by the test on `port`: it has said
 * hello (no shared ring: bytes travel in messages) and sent one buffer of SIZE bytes, which
 * `b` has received as `buf` (one reference, the test's). `reads` collects the read requests.
 */
async function importedFromHand() {
  const b = realms.realm('b');
  const { port1: port, port2 } = new MessageChannel();
  b.ports.push(port, port2);
  const reads: ReadRequest[] = [];
  port.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { kind?: unknown } & ReadRequest;
    if (data.kind === 'read') reads.push({ call: data.call, start: data.start, len: data.len });
  });
  port.start();
  const socket = new FdSocket(port2, { liveness: b.liveness, deviceAccess: memoryDeviceAccess(), transport: 'message' });
  b.sockets.push(socket);
  const post = (fields: Record<string, unknown>, transfer: Transferable[] = []) => { port.postMessage({ dmabuf: MARKER, ...fields }, transfer); };
  post({ kind: 'hello', realm: 'by hand', reply: false, inherit: false, ring: null });
  post({
    kind: 'fd',
    seq: 1,
    info: { grant: 1, key: 'by-hand-key', size: SIZE, name: null, exporter: 'by hand', fences: [], layout: { contiguous: false, align: 1 } },
  });
  const fd = await socket.receive(b.table);
  const buf = b.table.get(fd);
  b.table.close(fd);
  /** Answers `call` with `bytes` in the message, or with `error`. */
  const reply = (call: number, answer: { bytes: Uint8Array } | { error: { code: string; call: string; reason: string } }) => {
    if ('bytes' in answer) {
      const out = answer.bytes.slice().buffer;
      post({ kind: 'reply', call, bytes: out, shared: 0, error: null }, [out]);
    } else {
      post({ kind: 'reply', call, bytes: null, shared: 0, error: answer.error });
    }
  };
  return { buf, reads, reply, post };
}

/** Begins a CPU read of the whole buffer and waits for its read request to arrive by hand. */
async function readRequested(buf: DmaBuf, reads: readonly ReadRequest[]) {
  let settled: { error: unknown } | 'resolved' | 'pending' = 'pending';
  buf.beginCpuAccess(0, SIZE, 'from-device').then(
    () => { settled = 'resolved'; },
    (error: unknown) => { settled = { error }; },
  );
  await quiesce();
  expect(reads, 'the proxy asked for the bytes').toHaveLength(1);
  const [request] = reads;
  if (!request) throw new Error('no read request');
  return { request, settled: () => settled };
}

test.each([
  ['fewer', SIZE - 1, `EIO: read: the exporter's realm sent ${String(SIZE - 1)} bytes for ${String(SIZE)}`],
  ['more', SIZE + 1, `EIO: read: the exporter's realm sent ${String(SIZE + 1)} bytes for ${String(SIZE)}`],
])('a read answered with %s bytes than asked fails with EIO naming both counts', async (_what, count, message) => {
  const { buf, reads, reply } = await importedFromHand();
  const { request, settled } = await readRequested(buf, reads);
  expect(request).toEqual({ call: request.call, start: 0, len: SIZE });
  reply(request.call, { bytes: new Uint8Array(count).fill(3) });
  await quiesce();
  expect(settled()).toMatchObject({ error: { code: 'EIO', message: expect.stringContaining(message) as string } });
  buf.put();
});

test('a read answered with no bytes and no error fails with EIO saying how many bytes came', async () => {
  const { buf, reads, post } = await importedFromHand();
  const { request, settled } = await readRequested(buf, reads);
  post({ kind: 'reply', call: request.call, bytes: null, shared: 0, error: null });
  await quiesce();
  expect(settled()).toMatchObject({ error: { code: 'EIO', message: expect.stringContaining(`EIO: read: the exporter's realm answered 0 bytes for ${String(SIZE)}`) as string } });
  buf.put();
});

test("a read answered with an error fails with the error's code and message", async () => {
  const { buf, reads, reply } = await importedFromHand();
  const { request, settled } = await readRequested(buf, reads);
  reply(request.call, { error: { code: 'ENOMEM', call: 'beginCpuAccess', reason: 'no staging left' } });
  await quiesce();
  expect(settled()).toMatchObject({ error: { code: 'ENOMEM', message: expect.stringContaining('ENOMEM: beginCpuAccess: no staging left') as string } });
  buf.put();
});

test('an answer to a call never made is ignored, and the real answer still counts', async () => {
  const { buf, reads, reply } = await importedFromHand();
  const { request, settled } = await readRequested(buf, reads);
  reply(request.call + 1000, { bytes: new Uint8Array(SIZE).fill(9) });
  await quiesce();
  expect(settled()).toBe('pending');
  reply(request.call, { bytes: new Uint8Array(SIZE).fill(5) });
  await quiesce();
  expect(settled()).toBe('resolved');
  const page = buf.kmap(0);
  expect([...page.subarray(0, SIZE)]).toEqual(new Array<number>(SIZE).fill(5));
  buf.kunmap(0, page);
  buf.endCpuAccess(0, SIZE, 'from-device');
  buf.put();
});
