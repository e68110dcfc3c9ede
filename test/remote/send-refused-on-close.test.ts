// One buffer sent twice on a socket whose other end closes between the sends
// (remote/connection.ts rules 1 to 3, remote/grants.ts): the sending realm holds one
// reference for all the sends of a buffer, and a refused send gives back its own send only,
// never the reference an accepted send still needs. So the receiving realm keeps reading
// the bytes it took, and the buffer is released once, when every realm's references are
// gone. No timers: how a send settled is a flag, read after the realms' messages went round.
import { describe, expect, test } from 'vitest';
import type { DmaBuf } from '../../src/dma-buf.js';
import { memoryDmaBuf, memoryStorage, type MemoryStorage } from '../src/memory-exporter.js';
import { quiesce, realmsFixture, track } from './realms.js';

const realms = realmsFixture();

/** Realms `a` and `b`, joined and past their first exchange; `a` exports 5000 bytes of 7s. */
async function linked() {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const link = realms.link(a, b);
  const buf = memoryDmaBuf(5000);
  memoryStorage(buf).bytes.fill(7);
  const fd = a.table.install(buf);
  buf.put();
  await quiesce();
  return { a, b, buf, fd, ...link };
}

/**
 * Runs `then` once the realm at `port` has handled the first `fd` message that comes to it
 * (taken the fd: installed or queued, and acked), before it handles the next. The
 * connection listened on the port first, so it hears each message before this listener.
 */
function afterFirstFd(port: MessagePort, then: () => void): void {
  const listener = (event: MessageEvent) => {
    if ((event.data as { kind?: unknown }).kind !== 'fd') return;
    port.removeEventListener('message', listener);
    then();
  };
  port.addEventListener('message', listener);
}

function releases(buf: DmaBuf<MemoryStorage>): string[] {
  return memoryStorage(buf).calls.filter((call) => call === 'release');
}

/** The exporter's realm closes its fd, the last reference: the buffer is released, once. */
function closeLast(table: { close(fd: number): void }, buf: DmaBuf<MemoryStorage>, fd: number): void {
  expect(buf.refCount).toBe(1);
  expect(releases(buf)).toEqual([]);
  table.close(fd);
  expect(buf.released).toBe(true);
  expect(releases(buf)).toEqual(['release']);
}

describe('the same buffer sent twice while the other end closes', () => {
  test('the other end closes before either send reaches it: both fail EBADF and the sender\'s one reference for them is put once', async () => {
    const { a, buf, fd, ab, ba } = await linked();
    const first = track(ab.send(a.table, fd));
    const second = track(ab.send(a.table, fd));
    // a's fd, and one reference for every send of the buffer on this socket.
    expect(buf.refCount).toBe(2);
    ba.close();
    await quiesce();
    expect(first.state).toBe('rejected');
    expect(first.error).toMatchObject({ code: 'EBADF', message: 'EBADF: send: the other end of the socket is closed' });
    expect(second.state).toBe('rejected');
    expect(second.error).toMatchObject({ code: 'EBADF' });
    expect(buf.refCount, 'two refused sends of one buffer give back the one reference they shared, once').toBe(1);
    closeLast(a.table, buf, fd);
  });

  test('the other end closes after taking the first, before the second: the first resolves, the second fails EBADF, and the receiver still reads the bytes', async () => {
    const { a, b, buf, fd, ab, ba, portB } = await linked();
    const received = track(ba.receive(b.table));
    afterFirstFd(portB, () => { ba.close(); });
    const first = track(ab.send(a.table, fd));
    const second = track(ab.send(a.table, fd));
    expect(buf.refCount).toBe(2);
    await quiesce();
    expect(first.state, 'the send the other end took resolves').toBe('resolved');
    expect(second.state).toBe('rejected');
    expect(second.error).toMatchObject({ code: 'EBADF', message: 'EBADF: send: the other end of the socket is closed' });
    expect(received.state).toBe('resolved');
    const fdB = received.value ?? -1;
    const proxy = b.table.get(fdB);
    proxy.put();
    expect(proxy.refCount).toBe(1);
    expect(buf.refCount, 'the refused second send leaves the reference the accepted first one needs').toBe(2);
    const begun = track(proxy.beginCpuAccess(0, 5000, 'from-device'));
    await quiesce();
    expect(begun.state, 'the receiver reads the buffer it took through its proxy').toBe('resolved');
    expect(begun.error).toBeUndefined();
    expect([proxy.kmap(0)[0], proxy.kmap(1)[903]]).toEqual([7, 7]);
    proxy.endCpuAccess(0, 5000, 'from-device');
    expect(buf.refCount).toBe(2);
    b.table.close(fdB);
    await quiesce();
    expect(proxy.released).toBe(true);
    closeLast(a.table, buf, fd);
  });

  test('the other end closes with the first still in its queue, before the second: the first resolves, the second fails EBADF, and the dropped fd gives its reference back once', async () => {
    const { a, buf, fd, ab, ba, portB } = await linked();
    afterFirstFd(portB, () => { ba.close(); });
    const first = track(ab.send(a.table, fd));
    const second = track(ab.send(a.table, fd));
    expect(buf.refCount).toBe(2);
    await quiesce();
    expect(first.state, 'the send the other end took resolves, though its queue was dropped after').toBe('resolved');
    expect(second.state).toBe('rejected');
    expect(second.error).toMatchObject({ code: 'EBADF' });
    expect(buf.refCount, 'the dropped receipt and the refused send give back the one reference, once').toBe(1);
    closeLast(a.table, buf, fd);
  });

  test('the other end closes after the first send resolved, before the second reaches it: the receiver still reads the bytes', async () => {
    const { a, b, buf, fd, ab, ba } = await linked();
    const received = ba.receive(b.table);
    await ab.send(a.table, fd);
    const fdB = await received;
    const proxy = b.table.get(fdB);
    proxy.put();
    const second = track(ab.send(a.table, fd));
    ba.close();
    await quiesce();
    expect(second.state).toBe('rejected');
    expect(second.error).toMatchObject({ code: 'EBADF' });
    expect(buf.refCount, 'the refused send leaves the reference the first one needs').toBe(2);
    const begun = track(proxy.beginCpuAccess(0, 5000, 'from-device'));
    await quiesce();
    expect(begun.state, 'the receiver reads the buffer it took through its proxy').toBe('resolved');
    expect(proxy.kmap(1)[0]).toBe(7);
    proxy.endCpuAccess(0, 5000, 'from-device');
    b.table.close(fdB);
    await quiesce();
    closeLast(a.table, buf, fd);
  });

  test('the other end\'s realm dies after taking the first, before the second: both fail ENODEV and the sender\'s reference is put once', async () => {
    const { a, b, buf, fd, ab, portB } = await linked();
    afterFirstFd(portB, () => { realms.kill(b); });
    const first = track(ab.send(a.table, fd));
    const second = track(ab.send(a.table, fd));
    await quiesce();
    // Its ack never came: the realm that took it is gone, and its reference with it.
    expect(first.state).toBe('rejected');
    expect(first.error).toMatchObject({ code: 'ENODEV' });
    expect(second.state).toBe('rejected');
    expect(second.error).toMatchObject({ code: 'ENODEV' });
    expect(buf.refCount).toBe(1);
    closeLast(a.table, buf, fd);
  });
});
