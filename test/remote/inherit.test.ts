import { describe, expect, test } from 'vitest';

import { connectionOf, FdSocket, type MessageEndpoint, type FdSocketOptions } from '../../remote/fd-socket.js';
import { inheritedFdTableWith } from '../../remote/spawn-worker.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

const connect = (endpoint: MessageEndpoint, options?: FdSocketOptions) => new FdSocket(endpoint, options);

// spawnWorker needs a browser's Worker: here its two halves run over a MessageChannel, the
// parent's as spawnWorker sets it up (a snapshot of the table handed to the connection).
describe('inheritance across spawnWorker, in two realms of one process', () => {
  test('the child begins with the parent\'s fds that are not close-on-exec, at their numbers, each with its own reference', async () => {
    const parent = realms.realm('parent');
    const child = realms.realm('child');
    const bufs = [4, 5, 6, 7].map((size) => memoryDmaBuf(size));
    const fds = bufs.map((buf, i) => parent.table.install(buf, { cloexec: i % 2 === 1 }));
    bufs.forEach((buf) => { buf.put(); });
    parent.table.close(fds[0] ?? -1);
    expect(fds).toEqual([0, 1, 2, 3]);
    const { port1, port2 } = new MessageChannel();
    parent.ports.push(port1);
    child.ports.push(port2);
    const socket = new FdSocket(port1, { liveness: parent.liveness, deviceAccess: memoryDeviceAccess() });
    parent.sockets.push(socket);
    connectionOf(socket).inheritFrom(parent.table.spawn());
    // Changes after the spawn are not the child's.
    parent.table.close(2);
    const { table, socket: childSocket } = await inheritedFdTableWith(connect, port2, { liveness: child.liveness, deviceAccess: memoryDeviceAccess() });
    child.sockets.push(childSocket);
    expect(table.openFds()).toEqual([2]);
    expect(table.isCloexec(2)).toBe(false);
    const inherited = table.get(2);
    expect(inherited.size).toBe(6);
    inherited.put();
    await quiesce();
    // The parent's references: its fds', and one for the child.
    expect(bufs.map((buf) => buf.refCount)).toEqual([0, 1, 1, 1]);
    table.closeAll();
    await expect.poll(() => bufs[2]?.released).toBe(true);
  });

  test('a close-on-exec buffer of the parent is out of the child\'s reach by number, by message and in the listings', async () => {
    const parent = realms.realm('parent');
    const child = realms.realm('child');
    const secret = memoryDmaBuf(16, { name: 'secret' });
    const fd = parent.table.install(secret, { cloexec: true });
    secret.put();
    const { port1, port2 } = new MessageChannel();
    parent.ports.push(port1);
    child.ports.push(port2);
    const socket = new FdSocket(port1, { liveness: parent.liveness });
    parent.sockets.push(socket);
    connectionOf(socket).inheritFrom(parent.table.spawn());
    const replies: unknown[] = [];
    port2.addEventListener('message', (event) => { replies.push(event.data); });
    const { table, socket: childSocket } = await inheritedFdTableWith(connect, port2, { liveness: child.liveness });
    child.sockets.push(childSocket);
    expect(() => table.get(fd)).toThrow(/^EBADF/);
    // Every grant number the child could name: none reaches the buffer.
    for (let grant = 1; grant <= 4; grant++) port2.postMessage({ dmabuf: 'webgpu-dmabuf/fd-socket@1', kind: 'read', call: 500 + grant, grant, start: 0, len: 4 });
    await quiesce();
    const answers = replies.filter((r): r is { kind: string; error: { code: string } | null } => (r as { kind?: unknown }).kind === 'reply');
    expect(answers.map((r) => r.error?.code)).toEqual(['EBADF', 'EBADF', 'EBADF', 'EBADF']);
    expect(table.openFds()).toEqual([]);
    expect(secret.refCount).toBe(1);
  });
});
