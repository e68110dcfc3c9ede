// The fds a spawned worker starts with come once, to the end that waits for them
// (remote/inheritance.ts, remote/spawn-worker.ts): an `inherit` message to an end that waits for
// none is refused (a negative ack) and takes nothing, and a child still waiting when its
// parent's realm dies fails with ENODEV naming inheritedFdTable instead of waiting for ever.
// The parent's side is played by hand over a raw port, as the protocol has it.
import { expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { FdSocket, type MessageEndpoint, type FdSocketOptions } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
import { inheritedFdTableWith } from '../../remote/spawn-worker.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

const info = { grant: 1, key: 'inherited-key', size: 16, name: null, exporter: 'by hand', fences: [], layout: { contiguous: false, align: 1 } };

/** A raw port playing the other end: what it hears, and how it posts. */
function byHand(port: MessagePort) {
  const heard: { kind?: unknown }[] = [];
  port.addEventListener('message', (event: MessageEvent) => { heard.push(event.data as { kind?: unknown }); });
  port.start();
  const post = (fields: Record<string, unknown>) => { port.postMessage({ dmabuf: MARKER, ...fields }); };
  return { heard, post };
}

test('an inherit message to an end that waits for no fds is refused with a negative ack, and takes nothing', async () => {
  const b = realms.realm('b');
  const { port1, port2 } = realms.channel(b);
  const { heard, post } = byHand(port1);
  b.sockets.push(new FdSocket(port2, { liveness: b.liveness, deviceAccess: memoryDeviceAccess() }));
  post({ kind: 'hello', realm: 'parent', reply: false, inherit: true, ring: null });
  post({ kind: 'inherit', seq: 1, fds: [{ fd: 0, info }] });
  await quiesce();
  expect(heard.filter((m) => m.kind === 'ack')).toMatchObject([{ kind: 'ack', seq: 1, ok: false }]);
  expect(bufinfoEntries(), 'no proxy made for the refused fds').toEqual([]);
  expect(heard.filter((m) => m.kind === 'drop'), 'nothing to give back').toEqual([]);
});

test("a child waiting for its fds when its parent's realm dies fails with ENODEV naming inheritedFdTable", async () => {
  const parent = realms.realm('parent');
  const child = realms.realm('child');
  const { port1, port2 } = realms.channel(parent, child);
  const { post } = byHand(port1);
  // The parent says fds will come, and dies before it sends them.
  post({ kind: 'hello', realm: 'parent', reply: false, inherit: true, ring: null });
  const connect = (endpoint: MessageEndpoint, options?: FdSocketOptions) => {
    const socket = new FdSocket(endpoint, options);
    child.sockets.push(socket);
    return socket;
  };
  let outcome: unknown = 'pending';
  inheritedFdTableWith(connect, port2, { liveness: child.liveness, deviceAccess: memoryDeviceAccess() }).then(
    () => { outcome = 'resolved'; },
    (error: unknown) => { outcome = error; },
  );
  await quiesce();
  expect(outcome, 'waits while the parent lives').toBe('pending');
  realms.kill(parent);
  await quiesce();
  expect(outcome).toMatchObject({ code: 'ENODEV', message: "ENODEV: inheritedFdTable: the other end's realm is gone" });
});
