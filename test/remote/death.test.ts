import { describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { memoryDmaBuf, memoryStorage, standInDevice } from '../src/memory-exporter.js';
import { quiesce, realmsFixture, type TestRealm } from './realms.js';

const realms = realmsFixture();

function exported(realm: TestRealm, size: number) {
  const buf = memoryDmaBuf(size);
  const fd = realm.table.install(buf);
  buf.put();
  return { fd, buf };
}

describe('a realm that dies closes its fds', () => {
  test('the importer\'s realm dies: the exporter drops every reference it held for it, and releases once when its own go', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd, buf } = exported(a, 64);
    const received = ba.receive(b.table);
    await ab.send(a.table, fd);
    await ab.send(a.table, fd);
    await received;
    expect(buf.refCount).toBe(2);
    realms.kill(b);
    expect(buf.refCount).toBe(1);
    a.table.close(fd);
    expect(memoryStorage(buf).calls.filter((call) => call === 'release')).toEqual(['release']);
    // The exporter's socket to the dead realm: sends and receives fail, nothing hangs.
    const again = exported(a, 4);
    await expect(ab.send(a.table, again.fd)).rejects.toThrow(/^ENODEV: send: the other end's realm is gone/);
    expect(again.buf.refCount).toBe(1);
    await expect(ab.receive(a.table)).rejects.toThrow(/^ENODEV: receive: the other end's realm is gone/);
  });

  test('the importer dies with a CPU access begun and a map outstanding: nothing stays open in the exporter\'s realm', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd, buf } = exported(a, 5000);
    await ab.send(a.table, fd);
    const remote = b.table.get(await ba.receive(b.table));
    await remote.beginCpuAccess(0, 5000, 'bidirectional');
    const attachment = remote.attach(standInDevice('b-device'));
    await attachment.map('bidirectional');
    // A write in flight when b dies: it lands whole or not at all.
    remote.kmap(0).fill(5);
    remote.endCpuAccess(0, 5000, 'bidirectional');
    realms.kill(b);
    await quiesce();
    const bytes = memoryStorage(buf).bytes;
    expect(new Set(bytes).size).toBe(1);
    expect(buf.refCount).toBe(1);
    expect(bufinfoEntries().find((entry) => entry.id === buf.id)?.cpuAccess).toEqual([]);
    // The dead realm's own objects, gone with it in a browser; here the test drops them.
    remote.put();
  });

  test('the exporter\'s realm dies: every operation on its buffers fails ENODEV, pending ones too, and put and close still work', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd } = exported(a, 64);
    await ab.send(a.table, fd);
    const theirs = await ba.receive(b.table);
    const remote = b.table.get(theirs);
    const pendingReceive = ba.receive(b.table);
    const attachment = remote.attach(standInDevice('b-device'));
    const pendingBegin = remote.beginCpuAccess(0, 64, 'from-device');
    const pendingMap = attachment.map('to-device');
    const pendingSend = ba.send(b.table, theirs);
    realms.kill(a);
    await expect(pendingBegin).rejects.toThrow(/^ENODEV: read or write: the other end's realm is gone/);
    await expect(pendingMap).rejects.toThrow(/^ENODEV: /);
    await expect(pendingSend).rejects.toThrow(/^ENODEV: send: the other end's realm is gone/);
    await expect(pendingReceive).rejects.toThrow(/^ENODEV: receive: the other end's realm is gone/);
    await expect(remote.beginCpuAccess(0, 64, 'from-device')).rejects.toThrow(/^ENODEV: beginCpuAccess: the realm that exports this buffer is gone/);
    await expect(attachment.map('to-device')).rejects.toThrow(/^ENODEV: map: the realm that exports this buffer is gone/);
    expect(() => remote.attach(standInDevice('b-device'))).toThrow(/^ENODEV: attach: the realm that exports this buffer is gone/);
    remote.detach(attachment);
    remote.put();
    b.table.close(theirs);
    expect(remote.released).toBe(true);
  });

  test('a relay\'s realm dies: the third realm\'s buffer fails ENODEV; the exporter drops the relay\'s reference', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const c = realms.realm('c');
    const ab = realms.link(a, b);
    const bc = realms.link(b, c);
    const { fd, buf } = exported(a, 16);
    await ab.ab.send(a.table, fd);
    const inB = await ab.ba.receive(b.table);
    await bc.ab.send(b.table, inB);
    const inC = c.table.get(await bc.ba.receive(c.table));
    expect(buf.refCount).toBe(2);
    realms.kill(b);
    expect(buf.refCount).toBe(1);
    await expect(inC.beginCpuAccess(0, 16, 'from-device')).rejects.toThrow(/^ENODEV: /);
    inC.put();
  });
});
