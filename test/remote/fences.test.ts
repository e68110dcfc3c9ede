import { describe, expect, test } from 'vitest';

import type { DmaBuf } from '../../src/dma-buf.js';
import { DmaFence } from '../../src/dma-fence.js';
import { MARKER } from '../../remote/protocol.js';
import { memoryDmaBuf, type MemoryStorage } from '../src/memory-exporter.js';
import { quiesce, realmsFixture, type TestRealm } from './realms.js';

const realms = realmsFixture();

/** Realm `a` exports a buffer; `before` runs on it before it is sent to `b`. */
async function shared(before: (buf: DmaBuf<MemoryStorage>) => void = () => undefined) {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const link = realms.link(a, b);
  const buf = memoryDmaBuf(5000);
  before(buf);
  const fd = a.table.install(buf);
  buf.put();
  const received = link.ba.receive(b.table);
  await link.ab.send(a.table, fd);
  const theirs = await received;
  const proxy = peek(b, theirs);
  return { a, b, buf, proxy, ...link };
}

/** The buffer behind `fd` in `realm`, without keeping a reference. */
function peek(realm: TestRealm, fd: number): DmaBuf {
  const buf = realm.table.get(fd);
  buf.put();
  return buf;
}

describe('fences across realms', () => {
  test('a fence pending on a buffer when it is sent signals in the importing realm when it signals in the exporter\'s', async () => {
    const fence = new DmaFence();
    const { proxy } = await shared((buf) => { buf.resv.addFence(fence, 'write'); });
    const theirs = proxy.exportSyncFile('read');
    expect(theirs.signaled).toBe(false);
    expect(proxy.resv.testSignaled('write')).toBe(false);
    await quiesce();
    expect(theirs.signaled).toBe(false);
    fence.signal();
    await quiesce();
    expect(theirs.signaled).toBe(true);
    expect(theirs.error).toBeUndefined();
    expect(proxy.resv.testSignaled('bookkeep')).toBe(true);
  });

  test('a fence added in the exporter\'s realm after the send joins the proxy\'s reservation in its usage class', async () => {
    const { buf, proxy } = await shared();
    const reader = new DmaFence();
    buf.resv.addFence(reader, 'read');
    await quiesce();
    // A read fence holds writers back, not readers.
    expect(proxy.resv.testSignaled('write')).toBe(true);
    expect(proxy.resv.testSignaled('read')).toBe(false);
    expect(proxy.exportSyncFile('write').signaled).toBe(false);
    reader.signal();
    await quiesce();
    expect(proxy.resv.testSignaled('read')).toBe(true);
  });

  test('the error a fence signals with crosses with it', async () => {
    const fence = new DmaFence();
    const { proxy } = await shared((buf) => { buf.resv.addFence(fence, 'write'); });
    const theirs = proxy.exportSyncFile('rw');
    fence.setError('EIO');
    fence.signal();
    await quiesce();
    expect(theirs.signaled).toBe(true);
    expect(theirs.error?.code).toBe('EIO');
  });

  test('an importer\'s importSyncFile holds the exporter\'s readers back until its fence signals', async () => {
    const { buf, proxy } = await shared();
    const fence = new DmaFence();
    proxy.importSyncFile(fence, 'write');
    await quiesce();
    expect(buf.resv.testSignaled('write')).toBe(false);
    const held = buf.resv.waitFor('read');
    expect(held).toBeDefined();
    let ready = false;
    void held?.then(() => { ready = true; });
    await quiesce();
    expect(ready).toBe(false);
    fence.signal();
    await quiesce();
    expect(ready).toBe(true);
    expect(buf.resv.testSignaled('bookkeep')).toBe(true);
  });

  test('a fence sent back to the realm it came from is the original there, not a copy', async () => {
    const fence = new DmaFence();
    const { buf, proxy } = await shared((b) => { b.resv.addFence(fence, 'write'); });
    proxy.importSyncFile(proxy.exportSyncFile('rw'), 'write');
    await quiesce();
    expect(buf.resv.getFences('bookkeep')).toEqual([fence]);
    fence.signal();
    await quiesce();
    expect(proxy.resv.testSignaled('bookkeep')).toBe(true);
  });

  test('a third realm sees the fences of a buffer relayed to it, and its own reach the exporter', async () => {
    const fence = new DmaFence();
    const { a, b, proxy } = await shared((buf) => { buf.resv.addFence(fence, 'write'); });
    const c = realms.realm('c');
    const bc = realms.link(b, c);
    const received = bc.ba.receive(c.table);
    await bc.ab.send(b.table, b.table.openFds()[0] ?? -1);
    const third = peek(c, await received);
    expect(third.exportSyncFile('read').signaled).toBe(false);
    const theirs = new DmaFence();
    third.importSyncFile(theirs, 'read');
    await quiesce();
    const original = peek(a, a.table.openFds()[0] ?? -1);
    expect(original.resv.testSignaled('read')).toBe(false);
    expect(proxy.resv.testSignaled('read')).toBe(false);
    fence.signal();
    theirs.signal();
    await quiesce();
    expect(third.resv.testSignaled('bookkeep')).toBe(true);
    expect(original.resv.testSignaled('bookkeep')).toBe(true);
  });

  test('the exporter\'s realm dying signals the mirrors of its fences with ENODEV', async () => {
    const fence = new DmaFence();
    const { a, proxy } = await shared((buf) => { buf.resv.addFence(fence, 'write'); });
    const theirs = proxy.exportSyncFile('read');
    realms.kill(a);
    await quiesce();
    expect(theirs.signaled).toBe(true);
    expect(theirs.error?.code).toBe('ENODEV');
  });

  test('an importing realm dying signals the mirrors of its fences with ENODEV, so the exporter\'s readers stop waiting', async () => {
    const { b, buf, proxy } = await shared();
    proxy.importSyncFile(new DmaFence(), 'write');
    await quiesce();
    const held = buf.resv.waitFor('read');
    realms.kill(b);
    await expect(held).rejects.toMatchObject({ code: 'ENODEV' });
    expect(buf.resv.testSignaled('bookkeep')).toBe(true);
  });

  test('forged fence and signal messages change nothing', async () => {
    const fence = new DmaFence();
    const { buf, portB } = await shared((b) => { b.resv.addFence(fence, 'write'); });
    const before = buf.resv.getFences('bookkeep');
    // A grant never given, a fence of the receiver's it never sent, and signals of fences never sent.
    portB.postMessage({ dmabuf: MARKER, kind: 'fence', grant: 99, mine: false, fence: { id: 1, usage: 'write', back: false } });
    portB.postMessage({ dmabuf: MARKER, kind: 'fence', grant: 1, mine: false, fence: { id: 77, usage: 'write', back: true } });
    portB.postMessage({ dmabuf: MARKER, kind: 'signal', fence: 1, error: null });
    portB.postMessage({ dmabuf: MARKER, kind: 'signal', fence: 5, error: 'NOPE' });
    portB.postMessage({ dmabuf: MARKER, kind: 'fence', grant: 1, mine: false, fence: { id: 3, usage: 'everything', back: false } });
    await quiesce();
    expect(buf.resv.getFences('bookkeep')).toEqual(before);
    expect(fence.signaled).toBe(false);
    fence.signal();
  });
});
