// The fences two realms mirror for each other outlive the sockets they crossed
// (remote/fence-link.ts, remote/connection.ts): a connection whose socket is closed, on
// either side, keeps listening until every mirrored fence has signalled, so a mirror signals
// as its original does; a realm that dies signals the mirrors of its fences with ENODEV,
// even when nothing but that fence held the connection open. Nothing waiting on a mirror
// hangs. No timers: whether something settled is a flag, read after the realms' messages
// went round.
import { describe, expect, test } from 'vitest';
import type { DmaBuf } from '../../src/dma-buf.js';
import { DmaFence } from '../../src/dma-fence.js';
import { memoryDmaBuf, memoryStorage, type MemoryStorage } from '../src/memory-exporter.js';
import { quiesce, realmsFixture, track } from './realms.js';

const realms = realmsFixture();

/** Realm `a` exports a buffer of 5000 bytes of 7s, with `before` run on it, and sends it to `b`. */
async function shared(before: (buf: DmaBuf<MemoryStorage>) => void = () => undefined) {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const link = realms.link(a, b);
  const buf = memoryDmaBuf(5000);
  memoryStorage(buf).bytes.fill(7);
  before(buf);
  const fdA = a.table.install(buf);
  buf.put();
  const received = link.ba.receive(b.table);
  await link.ab.send(a.table, fdA);
  const fdB = await received;
  const proxy = b.table.get(fdB);
  proxy.put();
  // a's fd and the grant b's proxy stands for.
  expect(buf.refCount).toBe(2);
  return { a, b, buf, proxy, fdA, fdB, ...link };
}

/** The exporter's realm `a` closes its fd: the last reference, the buffer is released once. */
function closeExporterFd(a: { table: { close(fd: number): void } }, buf: DmaBuf<MemoryStorage>, fdA: number): void {
  expect(buf.refCount).toBe(1);
  a.table.close(fdA);
  expect(buf.released).toBe(true);
  expect(memoryStorage(buf).calls.filter((call) => call === 'release')).toEqual(['release']);
}

describe('an exporter\'s fence mirrored into an importer\'s proxy, pending as a socket closes', () => {
  test.each(['importer', 'exporter'] as const)(
    'the %s closing its socket, then the importer its fd: the mirror signals when the original does, and what waits on it resolves',
    async (closer) => {
      const fence = new DmaFence();
      const { a, b, buf, proxy, fdA, fdB, ab, ba } = await shared((x) => { x.resv.addFence(fence, 'write'); });
      const exported = proxy.exportSyncFile('read');
      const fenceWait = track(exported.wait());
      const resvWait = track(proxy.resv.wait('write'));
      (closer === 'importer' ? ba : ab).close();
      await quiesce();
      // Nothing but the pending fence keeps the connection now.
      b.table.close(fdB);
      await quiesce();
      expect(proxy.released).toBe(true);
      expect(buf.refCount, 'the importer\'s reference is given back while the fence is pending').toBe(1);
      expect(exported.signaled).toBe(false);
      expect(resvWait.state).toBe('pending');
      fence.signal();
      await quiesce();
      expect(exported.signaled, 'the mirror of a fence pending as the socket closed signals when its original does').toBe(true);
      expect(exported.error).toBeUndefined();
      expect(fenceWait).toMatchObject({ state: 'resolved', value: true });
      expect(resvWait).toMatchObject({ state: 'resolved', value: true });
      expect(buf.resv.testSignaled('bookkeep')).toBe(true);
      closeExporterFd(a, buf, fdA);
    },
  );

  test.each(['importer', 'exporter'] as const)(
    'the %s closing its socket while the importer holds its fd: the importer\'s CPU read, exportSyncFile and reservation wait go on once the original signals',
    async (closer) => {
      const fence = new DmaFence();
      const { a, b, buf, proxy, fdA, fdB, ab, ba } = await shared((x) => { x.resv.addFence(fence, 'write'); });
      (closer === 'importer' ? ba : ab).close();
      await quiesce();
      const exported = proxy.exportSyncFile('read');
      const resvWait = track(proxy.resv.wait('write'));
      const begun = track(proxy.beginCpuAccess(0, 5000, 'from-device'));
      await quiesce();
      expect(exported.signaled).toBe(false);
      expect(resvWait.state).toBe('pending');
      expect(begun.state, 'a read waits for the exporter\'s write').toBe('pending');
      fence.signal();
      await quiesce();
      expect(exported.signaled, 'the mirror signals after the socket\'s close').toBe(true);
      expect(exported.error).toBeUndefined();
      expect(resvWait).toMatchObject({ state: 'resolved', value: true });
      expect(begun.state).toBe('resolved');
      expect(proxy.kmap(1)[0]).toBe(7);
      proxy.endCpuAccess(0, 5000, 'from-device');
      expect(buf.refCount).toBe(2);
      b.table.close(fdB);
      await quiesce();
      closeExporterFd(a, buf, fdA);
    },
  );

  test('the exporter\'s realm dying signals the mirror with ENODEV: a CPU read waiting on it fails, exportSyncFile and reservation waits resolve', async () => {
    const fence = new DmaFence();
    const { a, b, buf, proxy, fdA, fdB } = await shared((x) => { x.resv.addFence(fence, 'write'); });
    const exported = proxy.exportSyncFile('read');
    const fenceWait = track(exported.wait());
    const resvWait = track(proxy.resv.wait('write'));
    const begun = track(proxy.beginCpuAccess(0, 5000, 'from-device'));
    await quiesce();
    expect(begun.state).toBe('pending');
    realms.kill(a);
    await quiesce();
    expect(exported.signaled, 'the mirror of a dead realm\'s fence signals').toBe(true);
    expect(exported.error?.code).toBe('ENODEV');
    expect(fenceWait).toMatchObject({ state: 'resolved', value: true });
    expect(resvWait).toMatchObject({ state: 'resolved', value: true });
    expect(begun.state).toBe('rejected');
    expect(begun.error).toMatchObject({ code: 'ENODEV' });
    // The dead realm's connection dropped the grant it held for b.
    expect(buf.refCount).toBe(1);
    b.table.close(fdB);
    expect(proxy.released).toBe(true);
    // Gone with the realm in a browser; here the test closes it.
    closeExporterFd(a, buf, fdA);
  });

  test('both sockets closed and the importer\'s fd closed: the exporter\'s realm dying still signals the mirror with ENODEV', async () => {
    const fence = new DmaFence();
    const { a, b, buf, proxy, fdA, fdB, ab, ba } = await shared((x) => { x.resv.addFence(fence, 'write'); });
    const exported = proxy.exportSyncFile('read');
    const resvWait = track(proxy.resv.wait('write'));
    ba.close();
    ab.close();
    b.table.close(fdB);
    await quiesce();
    expect(buf.refCount).toBe(1);
    expect(exported.signaled).toBe(false);
    realms.kill(a);
    await quiesce();
    expect(exported.signaled, 'the mirror signals when the realm of its original dies, though nothing else was held across').toBe(true);
    expect(exported.error?.code).toBe('ENODEV');
    expect(resvWait).toMatchObject({ state: 'resolved', value: true });
    closeExporterFd(a, buf, fdA);
  });
});

describe('an importer\'s importSyncFile fence mirrored into the exporter\'s reservation, pending as the importer\'s end goes', () => {
  test.each(['importer', 'exporter'] as const)(
    'the %s closing its socket, then the importer its fd: the exporter\'s readers wait until the importer\'s fence signals, then go on',
    async (closer) => {
      const { a, b, buf, proxy, fdA, fdB, ab, ba } = await shared();
      const theirs = new DmaFence();
      proxy.importSyncFile(theirs, 'write');
      await quiesce();
      (closer === 'importer' ? ba : ab).close();
      b.table.close(fdB);
      await quiesce();
      expect(buf.refCount).toBe(1);
      const held = buf.resv.waitFor('read');
      expect(held, 'the importer\'s fence is in the exporter\'s reservation').toBeDefined();
      const readers = track(held ?? Promise.resolve());
      const exported = buf.exportSyncFile('read');
      const resvWait = track(buf.resv.wait('write'));
      await quiesce();
      expect(readers.state).toBe('pending');
      expect(exported.signaled).toBe(false);
      theirs.signal();
      await quiesce();
      expect(readers.state, 'the exporter\'s readers go on once the importer\'s fence signals after its socket closed').toBe('resolved');
      expect(exported.signaled).toBe(true);
      expect(exported.error).toBeUndefined();
      expect(resvWait).toMatchObject({ state: 'resolved', value: true });
      expect(proxy.released).toBe(true);
      closeExporterFd(a, buf, fdA);
    },
  );

  test('both sockets closed and the importer\'s fd closed: the importer\'s realm dying signals the exporter\'s mirror with ENODEV', async () => {
    const { a, b, buf, proxy, fdA, fdB, ab, ba } = await shared();
    proxy.importSyncFile(new DmaFence(), 'write');
    await quiesce();
    ba.close();
    ab.close();
    b.table.close(fdB);
    await quiesce();
    expect(buf.refCount).toBe(1);
    const readers = track(buf.resv.waitFor('read') ?? Promise.resolve());
    const exported = buf.exportSyncFile('read');
    await quiesce();
    expect(readers.state).toBe('pending');
    realms.kill(b);
    await quiesce();
    expect(exported.signaled, 'the exporter\'s mirror of a dead importer\'s fence signals').toBe(true);
    expect(exported.error?.code).toBe('ENODEV');
    expect(readers.state).toBe('rejected');
    expect(readers.error).toMatchObject({ code: 'ENODEV' });
    expect(buf.resv.testSignaled('bookkeep')).toBe(true);
    closeExporterFd(a, buf, fdA);
  });
});
