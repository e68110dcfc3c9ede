// A buffer that comes back to the realm that exported it is the buffer itself, found by its key
// (remote/realm-state.ts, remote/connection.ts rule 2), and the receipt is given back at once;
// a receipt that names the key with another size is not that buffer (a peer's slip or a
// forgery): it becomes a proxy of its own and hides nothing, so the buffer still comes home as
// itself afterwards; a receipt of that grant again is the same proxy, with one more receipt. The
// other realm is played by hand over a raw port, as the protocol has it.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { FdSocket } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, TestRealms } from './realms.js';

let realms = new TestRealms();
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await quiesce();
  await realms.closeAll();
  realms = new TestRealms();
  expect(bufinfoEntries()).toEqual([]);
});

interface GrantInfo {
  readonly grant: number;
  readonly key: string;
  readonly size: number;
}

/** Realm `a` has sent a buffer of 32 bytes to a realm played by hand, which heard its grant info. */
async function sentAway() {
  const a = realms.realm('a');
  const { port1: port, port2 } = new MessageChannel();
  a.ports.push(port, port2);
  const heard: { kind?: unknown; seq?: number; info?: GrantInfo; ok?: boolean; grant?: number; count?: number }[] = [];
  const post = (fields: Record<string, unknown>) => { port.postMessage({ dmabuf: MARKER, ...fields }); };
  port.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as (typeof heard)[number];
    heard.push(data);
    if (data.kind === 'fd') post({ kind: 'ack', seq: data.seq, ok: true });
  });
  port.start();
  post({ kind: 'hello', realm: 'by hand', reply: false, inherit: false, ring: null });
  const socket = new FdSocket(port2, { liveness: a.liveness, deviceAccess: memoryDeviceAccess(), transport: 'message' });
  a.sockets.push(socket);
  const buf = memoryDmaBuf(32, { name: 'home' });
  const fd = a.table.install(buf);
  buf.put();
  await socket.send(a.table, fd);
  const info = heard.find((m) => m.kind === 'fd')?.info;
  if (!info) throw new Error('the grant info did not come');
  cleanups.push(() => { post({ kind: 'drop', grant: info.grant, count: 1 }); });
  let seq = 0;
  /** Sends the realm `a` a receipt of grant `grant` naming `key` with `size`; resolves to what `a` received. */
  const sendBack = async (grant: number, size: number) => {
    seq += 1;
    post({ kind: 'fd', seq, info: { grant, key: info.key, size, name: null, exporter: 'by hand', fences: [], layout: { contiguous: false, align: 1 } } });
    const received = await socket.receive(a.table);
    await quiesce();
    return { fd: received, buf: a.table.get(received) };
  };
  return { a, buf, info, heard, sendBack };
}

test('a buffer sent back to its own realm is the buffer itself, and the receipt is given back at once', async () => {
  const { buf, heard, sendBack } = await sentAway();
  const back = await sendBack(7, buf.size);
  expect(back.buf, 'the buffer itself, not a proxy').toBe(buf);
  expect(heard.filter((m) => m.kind === 'drop'), 'the receipt given back').toMatchObject([{ kind: 'drop', grant: 7, count: 1 }]);
  back.buf.put();
});

test('a receipt naming a buffer\'s key with another size is a proxy of its own, and the buffer still comes home as itself afterwards', async () => {
  const { a, buf, heard, sendBack } = await sentAway();
  const forged = await sendBack(8, buf.size + 1);
  expect(forged.buf).not.toBe(buf);
  expect(forged.buf.size).toBe(buf.size + 1);
  expect(heard.filter((m) => m.kind === 'drop'), 'a proxy keeps its receipt').toEqual([]);
  const back = await sendBack(9, buf.size);
  expect(back.buf, 'the buffer itself, not the other proxy').toBe(buf);
  back.buf.put();
  forged.buf.put();
  a.table.close(forged.fd);
});

test('a receipt of the same grant again, naming the key with another size, is the same proxy with one more receipt', async () => {
  const { a, buf, heard, sendBack } = await sentAway();
  const first = await sendBack(8, buf.size + 1);
  const again = await sendBack(8, buf.size + 1);
  expect(again.buf, 'the same proxy').toBe(first.buf);
  expect(heard.filter((m) => m.kind === 'drop'), 'the proxy keeps both receipts').toEqual([]);
  first.buf.put();
  again.buf.put();
  a.table.close(first.fd);
  a.table.close(again.fd);
  await quiesce();
  expect(heard.filter((m) => m.kind === 'drop'), 'both given back together once the proxy goes').toMatchObject([{ kind: 'drop', grant: 8, count: 2 }]);
});
