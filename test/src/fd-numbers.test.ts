// The numbers of an FdTable (src/fd-table.ts): `openFds` lists them in increasing order
// whatever order they were opened in; an inherited fd (what a spawned worker's table starts
// with) is opened at exactly its number, and never over one already open.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { FdTable, installInherited } from '../../src/fd-table.js';
import { memoryDmaBuf } from './memory-exporter.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
});

test('openFds lists the fds in increasing numeric order after freed numbers are reused out of order', () => {
  const table = new FdTable();
  const buf = memoryDmaBuf(8);
  for (let i = 0; i < 12; i += 1) table.install(buf);
  for (const fd of [3, 0, 1, 10]) table.close(fd);
  expect(table.openFds()).toEqual([2, 4, 5, 6, 7, 8, 9, 11]);
  expect([table.install(buf), table.install(buf), table.install(buf), table.install(buf)]).toEqual([0, 1, 3, 10]);
  expect(table.openFds()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  buf.put();
  table.closeAll();
});

test('an inherited fd opens at its own number, not close-on-exec, with the table\'s own reference', () => {
  const table = new FdTable();
  const buf = memoryDmaBuf(8);
  installInherited(table, 7, buf);
  expect(table.openFds()).toEqual([7]);
  expect(table.isCloexec(7)).toBe(false);
  expect(buf.refCount).toBe(2);
  expect(table.install(buf), 'install still takes the lowest free number').toBe(0);
  buf.put();
  table.closeAll();
  expect(buf.released).toBe(true);
});

test('an inherited fd at a number already open is EINVAL naming it, and takes no reference', () => {
  const table = new FdTable();
  const first = memoryDmaBuf(8);
  const second = memoryDmaBuf(8);
  installInherited(table, 2, first);
  expect(() => { installInherited(table, 2, second); }).toThrow('EINVAL: inherit: fd 2 is already open');
  expect(second.refCount).toBe(1);
  expect(table.get(2)).toBe(first);
  first.put();
  first.put();
  second.put();
  table.closeAll();
});

test('install with options that are not an object, or a cloexec that is not a boolean, is EINVAL naming install, and opens nothing', () => {
  const table = new FdTable();
  const buf = memoryDmaBuf(8);
  expect(() => table.install(buf, { cloexec: 'yes' as unknown as boolean })).toThrow('EINVAL: install: cloexec must be a boolean, got "yes"');
  expect(() => table.install(buf, 'no' as never)).toThrow('EINVAL: install: options must be an object, got "no"');
  expect(table.openFds()).toEqual([]);
  expect(buf.refCount).toBe(1);
  buf.put();
});

test("a spawned table's inherited fds are not close-on-exec: a table it spawns inherits them in turn", () => {
  const parent = new FdTable();
  const buf = memoryDmaBuf(8);
  const fd = parent.install(buf, { cloexec: false });
  buf.put();
  const child = parent.spawn();
  expect(child.isCloexec(fd)).toBe(false);
  const grandchild = child.spawn();
  expect(grandchild.openFds()).toEqual([fd]);
  expect(buf.refCount).toBe(3);
  for (const table of [grandchild, child, parent]) table.closeAll();
  expect(buf.released).toBe(true);
});

test('isCloexec of an fd not open is EBADF naming isCloexec and the fd', () => {
  expect(() => new FdTable().isCloexec(9)).toThrow('EBADF: isCloexec: fd 9 is not open in this table');
});
