import { afterEach, describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { FdTable } from '../../src/fd-table.js';
import { memoryDmaBuf, memoryStorage } from './memory-exporter.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
});

describe('FdTable', () => {
  test('install returns the lowest free fd from 0 and takes its own reference', () => {
    const table = new FdTable();
    const buf = memoryDmaBuf(8);
    expect([table.install(buf), table.install(buf), table.install(buf)]).toEqual([0, 1, 2]);
    expect(buf.refCount).toBe(4);
    table.close(1);
    expect(table.install(buf)).toBe(1);
    buf.put();
    expect(buf.released).toBe(false);
    table.closeAll();
    expect(buf.released).toBe(true);
  });

  test('get gives the caller one more reference; close drops the table\'s', () => {
    const table = new FdTable();
    const buf = memoryDmaBuf(8);
    const fd = table.install(buf);
    buf.put();
    const got = table.get(fd);
    expect(got).toBe(buf);
    expect(buf.refCount).toBe(2);
    table.close(fd);
    expect(buf.refCount).toBe(1);
    got.put();
    expect(memoryStorage(buf).calls).toEqual(['release']);
  });

  test.each([-1, 0, 1, 0.5, Number.NaN, '0', null])('get, close and send of fd %s not open throw EBADF', (fd) => {
    const table = new FdTable();
    expect(() => table.get(fd as number)).toThrow(/^EBADF: get: fd .* is not open/);
    expect(() => { table.close(fd as number); }).toThrow(/^EBADF: close: /);
    expect(() => table.send(fd as number, new FdTable())).toThrow(/^EBADF: send: /);
  });

  test('an fd means something only in its own table', () => {
    const a = new FdTable();
    const b = new FdTable();
    const buf = memoryDmaBuf(8);
    const fd = a.install(buf);
    expect(() => b.get(fd)).toThrow(/^EBADF: /);
    buf.put();
    a.closeAll();
  });

  test('send passes the buffer to another table, which takes its own reference under its lowest free fd', () => {
    const a = new FdTable();
    const b = new FdTable();
    const buf = memoryDmaBuf(8);
    b.install(buf);
    const fd = a.install(buf);
    buf.put();
    expect(a.send(fd, b)).toBe(1);
    expect(buf.refCount).toBe(3);
    a.closeAll();
    expect(b.get(1)).toBe(buf);
    buf.put();
    b.closeAll();
    expect(buf.released).toBe(true);
  });

  test('send to something that is not an FdTable throws EINVAL and takes no reference', () => {
    const a = new FdTable();
    const buf = memoryDmaBuf(8);
    const fd = a.install(buf);
    expect(() => a.send(fd, Object.create(null) as FdTable)).toThrow(/^EINVAL: send: /);
    expect(buf.refCount).toBe(2);
    buf.put();
    a.closeAll();
  });

  test('install is close-on-exec by default; spawn inherits exactly the others, under the same numbers, with their own references', () => {
    const parent = new FdTable();
    const secret = memoryDmaBuf(8);
    const shared = memoryDmaBuf(8);
    const secretFd = parent.install(secret);
    const sharedFd = parent.install(shared, { cloexec: false });
    expect([parent.isCloexec(secretFd), parent.isCloexec(sharedFd)]).toEqual([true, false]);
    const child = parent.spawn();
    expect(child.openFds()).toEqual([sharedFd]);
    expect(() => child.get(secretFd)).toThrow(/^EBADF: /);
    expect(shared.refCount).toBe(3);
    parent.closeAll();
    expect(shared.released).toBe(false);
    expect(secret.refCount).toBe(1);
    child.closeAll();
    secret.put();
    shared.put();
  });

  test.each([null, 'yes', 1])('install with cloexec %s throws EINVAL and takes no reference', (cloexec) => {
    const table = new FdTable();
    const buf = memoryDmaBuf(8);
    expect(() => table.install(buf, { cloexec: cloexec as unknown as boolean })).toThrow(/^EINVAL: install: cloexec must be a boolean/);
    expect(buf.refCount).toBe(1);
    expect(table.openFds()).toEqual([]);
    buf.put();
  });

  test('install of a released buffer or of something else throws EINVAL', () => {
    const table = new FdTable();
    const buf = memoryDmaBuf(8);
    buf.put();
    expect(() => table.install(buf)).toThrow(/^EINVAL: install: the buffer .* is already released/);
    expect(() => table.install({ size: 8 } as never)).toThrow(/^EINVAL: install: expected a DmaBuf/);
  });
});
