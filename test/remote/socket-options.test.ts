// The options of `new FdSocket` (remote/fd-socket.ts): a liveness needs both ready() and
// watch() and must be an object, a device access needs forBuffer() and must be an object, and
// the 'shared-memory' transport is refused where this realm cannot share memory; each mistake is
// EINVAL naming the option, before the socket listens. An end that asks for 'message' gets it
// even when the other end could share memory.
import { afterEach, expect, test, vi } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { FdSocket, type FdSocketOptions } from '../../remote/fd-socket.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, TestRealms } from './realms.js';

let realms = new TestRealms();

afterEach(async () => {
  vi.unstubAllGlobals();
  await realms.closeAll();
  realms = new TestRealms();
  expect(bufinfoEntries()).toEqual([]);
});

const ready = () => Promise.resolve('r');
const watch = () => () => undefined;
// Never called: the socket refuses the object before it could be.
const forBuffer = () => undefined;

test.each<[string, FdSocketOptions, RegExp]>([
  ['a liveness without watch()', { liveness: { ready } as never }, /^EINVAL: new FdSocket: liveness must have ready\(\) and watch\(\), got an object$/],
  ['a liveness without ready()', { liveness: { watch } as never }, /^EINVAL: new FdSocket: liveness must have ready\(\) and watch\(\), got an object$/],
  ['a liveness that is a function with both', { liveness: Object.assign(() => undefined, { ready, watch }) }, /^EINVAL: new FdSocket: liveness must have ready\(\) and watch\(\), got a function$/],
  ['a device access without forBuffer()', { deviceAccess: {} as never }, /^EINVAL: new FdSocket: deviceAccess must have forBuffer\(\), got an object$/],
  ['a device access that is a function with forBuffer()', { deviceAccess: Object.assign(() => undefined, { forBuffer }) as never }, /^EINVAL: new FdSocket: deviceAccess must have forBuffer\(\), got a function$/],
])('new FdSocket with %s is EINVAL naming the option, and the socket does not listen', async (_what, options, message) => {
  const { port1, port2 } = new MessageChannel();
  const heard: unknown[] = [];
  port2.addEventListener('message', (event: MessageEvent) => heard.push(event.data));
  port2.start();
  expect(() => new FdSocket(port1, options)).toThrow(message);
  await quiesce();
  expect(heard, 'no hello went out').toEqual([]);
  port1.close();
  port2.close();
});

test("the 'shared-memory' transport is EINVAL where this realm cannot share memory, saying what it needs", () => {
  vi.stubGlobal('crossOriginIsolated', false);
  const { port1, port2 } = new MessageChannel();
  expect(() => new FdSocket(port1, { transport: 'shared-memory' })).toThrow(
    "EINVAL: new FdSocket: the 'shared-memory' transport needs SharedArrayBuffer and Atomics.waitAsync (a cross-origin isolated page or worker)",
  );
  expect(() => new FdSocket(port1, { transport: 'message', liveness: realms.realm('m').liveness }), "'message' works there").not.toThrow();
  port1.close();
  port2.close();
});

test("an end that asks for 'message' gets it, even when the other end could share memory; both ends agree", async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { port1, port2 } = realms.channel(a, b);
  const ab = new FdSocket(port1, { liveness: a.liveness, deviceAccess: memoryDeviceAccess(), transport: 'message' });
  const ba = new FdSocket(port2, { liveness: b.liveness, deviceAccess: memoryDeviceAccess() });
  a.sockets.push(ab);
  b.sockets.push(ba);
  const buf = memoryDmaBuf(8);
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  await ba.receive(b.table);
  expect([ab.transport, ba.transport]).toEqual(['message', 'message']);
});

test("by default an end offers 'shared-memory' where it can, and two such ends run it", async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  const buf = memoryDmaBuf(8);
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  await ba.receive(b.table);
  expect([ab.transport, ba.transport]).toEqual(['shared-memory', 'shared-memory']);
});
