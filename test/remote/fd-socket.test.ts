import { describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import type { DmaBuf } from '../../src/dma-buf.js';
import { FdSocket } from '../../remote/fd-socket.js';
import type { FdTable } from '../../src/fd-table.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf, memoryStorage, standInDevice, type MemoryStorage } from '../src/memory-exporter.js';
import { mirrorBytes } from './memory-device-access.js';
import { realmsFixture } from './realms.js';

const realms = realmsFixture();

/** A buffer of `size` bytes in `table` (the table holds the only reference), filled with `(i * 13 + 7) & 0xff`. */
function exported(table: FdTable, size: number): { fd: number; buf: DmaBuf<MemoryStorage> } {
  const buf = memoryDmaBuf(size, { name: 'shared' });
  memoryStorage(buf).bytes.set(Uint8Array.from({ length: size }, (_, i) => (i * 13 + 7) & 0xff));
  const fd = table.install(buf);
  buf.put();
  return { fd, buf };
}

describe('FdSocket between two realms', () => {
  test('send resolves once the other realm holds its own reference; receive installs at the lowest free fd', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd, buf } = exported(a.table, 100);
    const other = memoryDmaBuf(4);
    b.table.install(other);
    other.put();
    const received = ba.receive(b.table);
    await ab.send(a.table, fd);
    // The exporter's realm holds one reference for the other realm, beside its fd's.
    expect(buf.refCount).toBe(2);
    const theirs = await received;
    expect(theirs).toBe(1);
    expect(b.table.isCloexec(theirs)).toBe(true);
    const remote = b.table.get(theirs);
    expect({ size: remote.size, name: remote.name, exporter: remote.exporter }).toEqual({ size: 100, name: 'shared', exporter: 'memory' });
    expect(remote).not.toBe(buf);
    remote.put();
  });

  test("a received buffer keeps its exporter's segment layout, so that mirrors in the receiving realm keep it too", async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const buf = memoryDmaBuf(100, { layout: { contiguous: true, align: 12 } });
    const fd = a.table.install(buf);
    buf.put();
    const received = ba.receive(b.table);
    await ab.send(a.table, fd);
    const remote = b.table.get(await received);
    expect(remote.layout).toEqual({ contiguous: true, align: 12 });
    remote.put();
  });

  test('fds wait in the queue in the order they were sent; cloexec: false is honoured', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const one = exported(a.table, 10);
    const two = exported(a.table, 20);
    await ab.send(a.table, two.fd);
    await ab.send(a.table, one.fd);
    const first = await ba.receive(b.table, { cloexec: false });
    const second = await ba.receive(b.table);
    const sizes = [first, second].map((fd) => {
      const buf = b.table.get(fd);
      buf.put();
      return buf.size;
    });
    expect(sizes).toEqual([20, 10]);
    expect(b.table.isCloexec(first)).toBe(false);
  });

  test('a remote buffer reads the exporter\'s bytes and writes back exactly its range, at odd edges and across pages', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const size = 3 * PAGE_SIZE + 3;
    const { fd, buf } = exported(a.table, size);
    const storage = memoryStorage(buf).bytes;
    const before = storage.slice();
    await ab.send(a.table, fd);
    const remote = b.table.get(await ba.receive(b.table));
    const start = PAGE_SIZE - 5;
    const len = 2 * PAGE_SIZE + 7;
    await remote.beginCpuAccess(start, len, 'bidirectional');
    const seen = new Uint8Array(len);
    for (let page = 0; page < 4; page++) {
      const view = remote.kmap(page);
      const base = page * PAGE_SIZE;
      for (let i = Math.max(start, base); i < Math.min(start + len, base + view.length); i++) {
        seen[i - start] = view[i - base] ?? -1;
        view[i - base] = 0xee;
      }
      // Bytes just outside the range are changed in the window too: they must not travel.
      if (page === 0) view[start - base - 1] = 0x11;
      remote.kunmap(page, view);
    }
    expect(seen).toEqual(before.subarray(start, start + len));
    remote.endCpuAccess(start, len, 'bidirectional');
    await expect.poll(() => storage[start]).toBe(0xee);
    const expected = before.slice();
    expected.fill(0xee, start, start + len);
    expect(storage).toEqual(expected);
    // The last page, 3 bytes long, written alone.
    await remote.beginCpuAccess(3 * PAGE_SIZE, 3, 'to-device');
    const last = remote.kmapAtomic(3);
    expect(last.length).toBe(3);
    last.set([1, 2, 3]);
    remote.kunmapAtomic(3, last);
    remote.endCpuAccess(3 * PAGE_SIZE, 3, 'to-device');
    await expect.poll(() => [...storage.subarray(3 * PAGE_SIZE)]).toEqual([1, 2, 3]);
    remote.put();
  });

  test('vmap gives the whole remote buffer while one range covers it; a view kept past the end is detached', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const size = PAGE_SIZE + 1;
    const { fd, buf } = exported(a.table, size);
    await ab.send(a.table, fd);
    const remote = b.table.get(await ba.receive(b.table));
    await remote.beginCpuAccess(0, size, 'from-device');
    const view = remote.vmap();
    expect(view).toEqual(memoryStorage(buf).bytes);
    remote.vunmap(view);
    remote.endCpuAccess(0, size, 'from-device');
    expect(view.length).toBe(0);
    remote.put();
  });

  test('map and unmap on the importer\'s device move the bytes each direction asks for, and the same buffers every map', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const size = 1001;
    const { fd, buf } = exported(a.table, size);
    const storage = memoryStorage(buf).bytes;
    await ab.send(a.table, fd);
    const remote = b.table.get(await ba.receive(b.table));
    const attachment = remote.attach(standInDevice('b-device'), { usage: 0x20 });
    const sgt = await attachment.map('to-device');
    const segment = sgt.segments[0];
    if (!segment) throw new Error('no segment');
    expect(mirrorBytes(segment.buffer)).toEqual(storage);
    await attachment.unmap(sgt, 'to-device');
    const again = await attachment.map('bidirectional');
    expect(again.segments[0]?.buffer).toBe(segment.buffer);
    mirrorBytes(segment.buffer).fill(9);
    await attachment.unmap(again, 'bidirectional');
    expect(storage).toEqual(new Uint8Array(size).fill(9));
    expect(attachment.stats()).toEqual({ maps: 2, unmaps: 2, bytesToDevice: 2 * size, bytesFromDevice: size });
    expect(bufinfoEntries().find((entry) => entry.id === remote.id)?.attachments).toEqual([{ device: 'b-device', mappings: [] }]);
    remote.detach(attachment);
    remote.put();
  });

  test('an unmap called before a CPU read is seen by it, whatever was awaited (call order in the importing realm)', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd } = exported(a.table, 64);
    await ab.send(a.table, fd);
    const remote = b.table.get(await ba.receive(b.table));
    const attachment = remote.attach(standInDevice('b-device'));
    const sgt = await attachment.map('from-device');
    const segment = sgt.segments[0];
    if (!segment) throw new Error('no segment');
    mirrorBytes(segment.buffer).fill(42);
    const unmapped = attachment.unmap(sgt, 'from-device');
    const read = remote.beginCpuAccess(0, 64, 'from-device');
    await Promise.all([unmapped, read]);
    const view = remote.kmap(0);
    expect([...view].every((byte) => byte === 42)).toBe(true);
    remote.kunmap(0, view);
    remote.endCpuAccess(0, 64, 'from-device');
    remote.detach(attachment);
    remote.put();
  });

  test('a remote buffer is listed in bufinfoEntries of its realm, with its own references', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd, buf } = exported(a.table, 8);
    await ab.send(a.table, fd);
    const theirs = await ba.receive(b.table);
    const remote = b.table.get(theirs);
    expect(bufinfoEntries().map((entry) => ({ id: entry.id, refCount: entry.refCount }))).toEqual([
      { id: buf.id, refCount: 2 },
      { id: remote.id, refCount: 2 },
    ]);
    remote.put();
  });

  test('attach on a socket made without device access is ENODEV', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { port1, port2 } = new MessageChannel();
    a.ports.push(port1);
    b.ports.push(port2);
    const ab = new FdSocket(port1, { liveness: a.liveness });
    const ba = new FdSocket(port2, { liveness: b.liveness });
    const { fd } = exported(a.table, 8);
    await ab.send(a.table, fd);
    const remote = b.table.get(await ba.receive(b.table));
    expect(() => remote.attach(standInDevice('b'))).toThrow(/^ENODEV: attach: this socket was made without device access/);
    remote.put();
  });
});

describe('release of a remote buffer', () => {
  test('put of the last reference with a CPU access and a map in flight: both fail EINVAL, the exporter gets its reference back', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd, buf } = exported(a.table, 64);
    await ab.send(a.table, fd);
    const theirs = await ba.receive(b.table);
    const remote = b.table.get(theirs);
    b.table.close(theirs);
    const attachment = remote.attach(standInDevice('b-device'));
    const begin = remote.beginCpuAccess(0, 64, 'from-device');
    const map = attachment.map('to-device');
    remote.put();
    await expect(begin).rejects.toThrow(/^EINVAL: /);
    await expect(map).rejects.toThrow(/^EINVAL: /);
    await expect.poll(() => buf.refCount).toBe(1);
  });
});

describe('FdSocket arguments and close', () => {
  test.each([undefined, null, 3, {}, { postMessage: () => undefined }])('new FdSocket(%s) is EINVAL', (endpoint) => {
    expect(() => new FdSocket(endpoint as never)).toThrow(/^EINVAL: new FdSocket: expected a MessagePort/);
  });

  const fn = () => undefined;
  test.each<[string, Record<string, unknown>]>([
    ['postMessage', { addEventListener: fn, removeEventListener: fn }],
    ['addEventListener', { postMessage: fn, removeEventListener: fn }],
    ['removeEventListener', { postMessage: fn, addEventListener: fn }],
  ])('new FdSocket of an endpoint without %s (the other two there) is EINVAL, and listens on nothing', (_missing, endpoint) => {
    const added: unknown[] = [];
    const spy = { ...endpoint, ...('addEventListener' in endpoint ? { addEventListener: (...args: unknown[]) => { added.push(args); } } : {}) };
    expect(() => new FdSocket(spy as never)).toThrow(/^EINVAL: new FdSocket: expected a MessagePort/);
    expect(added).toEqual([]);
  });

  test('new FdSocket of an endpoint whose postMessage is not a function is EINVAL', () => {
    expect(() => new FdSocket({ postMessage: 'port', addEventListener: fn, removeEventListener: fn } as never)).toThrow(/^EINVAL: new FdSocket: expected a MessagePort/);
  });

  test('bad options of new FdSocket are EINVAL', () => {
    const { port1, port2 } = new MessageChannel();
    expect(() => new FdSocket(port1, 3 as never)).toThrow(/^EINVAL: new FdSocket: options must be an object/);
    expect(() => new FdSocket(port1, { liveness: {} as never })).toThrow(/^EINVAL: new FdSocket: liveness must have/);
    expect(() => new FdSocket(port1, { deviceAccess: 1 as never })).toThrow(/^EINVAL: new FdSocket: deviceAccess must have/);
    port1.close();
    port2.close();
  });

  test('send of an fd not open is EBADF; a table that is not an FdTable is EINVAL; nothing is sent', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    await expect(ab.send(a.table, 0)).rejects.toThrow(/^EBADF: get: fd 0 is not open/);
    await expect(ab.send({} as unknown as FdTable, 0)).rejects.toThrow(/^EINVAL: send: table must be an FdTable/);
    await expect(ba.receive(null as never)).rejects.toThrow(/^EINVAL: receive: table must be an FdTable/);
    await expect(ba.receive(b.table, { cloexec: 1 as never })).rejects.toThrow(/^EINVAL: receive: cloexec must be a boolean/);
    await expect(ba.receive(b.table, 'x' as never)).rejects.toThrow(/^EINVAL: receive: options must be an object/);
    expect(b.table.openFds()).toEqual([]);
  });

  test('close rejects pending receives with EBADF, drops fds not yet received, and leaves received ones working', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd, buf } = exported(a.table, 8);
    await ab.send(a.table, fd);
    const kept = await ba.receive(b.table);
    await ab.send(a.table, fd);
    const pending = ab.receive(a.table);
    ab.close();
    await expect(pending).rejects.toThrow(/^EBADF: receive: the socket was closed/);
    expect(() => { ab.close(); }).toThrow(/^EBADF: close: the socket is already closed/);
    await expect(ab.send(a.table, fd)).rejects.toThrow(/^EBADF: send: the socket is closed/);
    await expect(ab.receive(a.table)).rejects.toThrow(/^EBADF: receive: the socket is closed/);
    // b's end learns that a's is closed: its sends fail, its receives end once its queue is empty.
    const extra = await ba.receive(b.table);
    await expect(ba.receive(b.table)).rejects.toThrow(/^EBADF: receive: the other end of the socket is closed/);
    const mine = exported(b.table, 4);
    await expect(ba.send(b.table, mine.fd)).rejects.toThrow(/^EBADF: send: the other end of the socket is closed/);
    expect(mine.buf.refCount).toBe(1);
    // What b received still works through the connection.
    const remote = b.table.get(kept);
    await remote.beginCpuAccess(0, 8, 'from-device');
    expect(remote.kmap(0)).toEqual(memoryStorage(buf).bytes);
    remote.kunmap(0, remote.kmap(0));
    remote.endCpuAccess(0, 8, 'from-device');
    remote.put();
    b.table.close(extra);
    b.table.close(kept);
    await expect.poll(() => buf.refCount).toBe(1);
    ba.close();
  });

  test('fds sent to a closed end are refused: the sender\'s send is EBADF and keeps no reference', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { fd, buf } = exported(a.table, 8);
    ba.close();
    await expect(ab.send(a.table, fd)).rejects.toThrow(/^EBADF: send: the other end of the socket is closed/);
    expect(buf.refCount).toBe(1);
  });
});
