// Close-on-exec: a spawned table cannot reach a cloexec buffer by any route.
import { expect, test } from 'vitest';
import { bufinfo, bufinfoEntries, DmaBuf, FdTable, PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture } from '../gpu/gpu-helpers.js';

const f = heapFixture();

/** Every object reachable from `root` through own properties, prototypes aside. */
function reachable(root: unknown, seen = new Set<unknown>()): Set<unknown> {
  if (typeof root !== 'object' || root === null || seen.has(root)) return seen;
  seen.add(root);
  for (const key of Reflect.ownKeys(root)) reachable((root as Record<PropertyKey, unknown>)[key], seen);
  return seen;
}

test('a spawned table reaches no cloexec buffer: not by fd number, not by send, not through the listings', () => {
  const parent = new FdTable();
  const secret = f.heap.allocate(PAGE_SIZE, { name: 'secret' });
  const shared = f.heap.allocate(PAGE_SIZE, { name: 'shared' });
  const secretFd = parent.install(secret);
  const sharedFd = parent.install(shared, { cloexec: false });
  secret.put();
  shared.put();

  const child = parent.spawn();
  expect(child.openFds()).toEqual([sharedFd]);
  expect(() => child.get(secretFd)).toThrow(/^EBADF: get: fd 0 is not open/);
  for (let fd = 0; fd < 8; fd++) {
    if (fd === sharedFd) continue;
    expect(() => child.get(fd)).toThrow(/^EBADF: /);
    expect(() => child.send(fd, new FdTable())).toThrow(/^EBADF: /);
  }
  const grandchild = child.spawn();
  expect(grandchild.openFds()).toEqual([sharedFd]);

  // The listings name the buffer but lead back to nothing: no buffer, no function.
  expect(bufinfo()).toContain('secret');
  const objects = reachable(bufinfoEntries());
  expect([...objects].some((o) => o instanceof DmaBuf || typeof o === 'function')).toBe(false);

  // The inherited fd holds its own reference: the parent closing leaves the child's buffer live.
  const inherited = child.get(sharedFd);
  parent.closeAll();
  expect(inherited.released).toBe(false);
  inherited.put();
  grandchild.closeAll();
  child.closeAll();
});

test('send with cloexec marks the copy so that the receiver\'s children do not inherit it', () => {
  const from = new FdTable();
  const to = new FdTable();
  const buf = f.heap.allocate(PAGE_SIZE);
  const fd = from.install(buf, { cloexec: false });
  const sent = from.send(fd, to, { cloexec: true });
  const kept = from.send(fd, to, { cloexec: false });
  expect([to.isCloexec(sent), to.isCloexec(kept)]).toEqual([true, false]);
  const child = to.spawn();
  expect(child.openFds()).toEqual([kept]);
  buf.put();
  for (const table of [from, to, child]) table.closeAll();
});
