// What one realm granted the other on one connection (remote/grants.ts) and what a realm knows
// of the buffers that cross its sockets (remote/realm-state.ts): a buffer's first send makes
// its grant, with one reference for all its sends; sends given back count down, and the last
// ends the grant, puts its reference once (even when the exporter's release fails) and lets
// the buffer's key go; a key finds a buffer only while a peer holds a grant of it or a proxy
// stands for it, and never a released one.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { exportDmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import { Grants } from '../../remote/grants.js';
import { RealmState, realmOf } from '../../remote/realm-state.js';
import type { RealmLiveness } from '../../remote/liveness.js';
import { memoryDmaBuf } from '../src/memory-exporter.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
});

const liveness: RealmLiveness = { ready: () => Promise.resolve('r'), watch: () => () => undefined };

/** Grants of a realm of their own, recording which grants opened and closed. */
function grantsOf() {
  const realm = new RealmState(liveness);
  const log: string[] = [];
  const grants = new Grants(realm, (buf, id) => {
    log.push(`opened ${String(id)} (${String(buf.size)})`);
    return () => log.push(`closed ${String(id)}`);
  });
  return { realm, grants, log };
}

test("a buffer's first send makes its grant with one reference; later sends count on it; each buffer has a grant of its own", () => {
  const { grants, log } = grantsOf();
  const a = memoryDmaBuf(8);
  const b = memoryDmaBuf(16);
  const first = grants.take(a);
  expect([first.id, first.count, a.refCount]).toEqual([1, 1, 2]);
  expect(grants.take(a)).toBe(first);
  expect([first.count, a.refCount], 'one reference for all its sends').toEqual([2, 2]);
  const other = grants.take(b);
  expect(other.id).toBe(2);
  expect(grants.size).toBe(2);
  expect(grants.find(1)).toBe(first);
  expect(grants.find(3)).toBeUndefined();
  expect(log).toEqual(['opened 1 (8)', 'opened 2 (16)']);
  grants.releaseAll();
  a.put();
  b.put();
});

test('sends given back count down; the last ends the grant, closes it and puts its reference once', () => {
  const { realm, grants, log } = grantsOf();
  const buf = memoryDmaBuf(8);
  const grant = grants.take(buf);
  grants.take(buf);
  grants.take(buf);
  const key = realm.keyOf(buf);
  grants.release(grant, 2);
  expect([grant.count, buf.refCount, grants.size]).toEqual([1, 2, 1]);
  expect(realm.find(key), 'found while a grant lasts').toBe(buf);
  grants.release(grant, 1);
  expect([buf.refCount, grants.size]).toEqual([1, 0]);
  expect(grants.find(grant.id)).toBeUndefined();
  expect(realm.find(key), 'its key lets it go').toBeUndefined();
  expect(log).toEqual(['opened 1 (8)', 'closed 1']);
  const again = grants.take(buf);
  expect(again.id, 'a new grant, under a new number').toBe(2);
  grants.releaseAll();
  expect(buf.refCount).toBe(1);
  buf.put();
});

test("a grant whose buffer's release fails (the exporter's EIO) still ends", () => {
  const { grants } = grantsOf();
  const buf = memoryDmaBuf(8, { fail: { release: new Error('release failed') } });
  const grant = grants.take(buf);
  buf.put();
  expect(() => { grants.release(grant, 1); }).not.toThrow();
  expect(grants.size).toBe(0);
  expect(buf.released).toBe(true);
});

test("what the peer learns of a grant's buffer: its number, key, size, name, exporter (cut at 128 characters), fences and layout", () => {
  const { realm, grants } = grantsOf();
  const ops: DmaBufOps = {
    mapDmaBuf: () => Promise.resolve({ segments: [] }),
    unmapDmaBuf: () => undefined,
    release: () => undefined,
    kmap: () => new Uint8Array(0),
    kmapAtomic: () => new Uint8Array(0),
  };
  const long = exportDmaBuf({ priv: {}, ops, size: 4, exporter: 'e'.repeat(200) });
  const named = memoryDmaBuf(8, { name: 'frame', layout: { contiguous: true, align: 256 } });
  const fences = [{ id: 3, usage: 'write' as const, back: false }];
  expect(grants.info(grants.take(long), fences)).toEqual({
    grant: 1,
    key: realm.keyOf(long),
    size: 4,
    name: null,
    exporter: 'e'.repeat(128),
    fences,
    layout: { contiguous: false, align: long.layout.align },
  });
  expect(grants.info(grants.take(named), [])).toMatchObject({ grant: 2, name: 'frame', exporter: 'memory', layout: { contiguous: true, align: 256 } });
  grants.releaseAll();
  long.put();
  named.put();
});

test("a key is random and the buffer's own for good; it finds the buffer only while granted, never once released", () => {
  const realm = new RealmState(liveness);
  const buf = memoryDmaBuf(8);
  const key = realm.keyOf(buf);
  expect(key).toMatch(/^buf:/);
  expect(realm.keyOf(buf)).toBe(key);
  const other = memoryDmaBuf(8);
  expect(realm.keyOf(other), "another buffer's").not.toBe(key);
  other.put();
  expect(realm.find(key), 'not before a grant').toBeUndefined();
  realm.granted(buf);
  realm.granted(buf);
  realm.ungranted(buf);
  expect(realm.find(key), 'while one of two grants lasts').toBe(buf);
  realm.ungranted(buf);
  expect(realm.find(key)).toBeUndefined();
  realm.granted(buf);
  buf.put();
  expect(realm.find(key), 'released').toBeUndefined();
  realm.ungranted(buf);
});

test('a proxy is found by its key until forgotten; grants of it on other connections neither replace nor end that', () => {
  const realm = new RealmState(liveness);
  const proxy = memoryDmaBuf(8);
  realm.addProxy('buf:remote', proxy);
  expect(realm.keyOf(proxy), 'the key it came with').toBe('buf:remote');
  expect(realm.find('buf:remote')).toBe(proxy);
  realm.granted(proxy);
  realm.ungranted(proxy);
  expect(realm.find('buf:remote'), 'a relay keeps finding it').toBe(proxy);
  const newer = memoryDmaBuf(8);
  realm.addProxy('buf:remote', newer);
  realm.granted(proxy);
  expect(realm.find('buf:remote'), 'a grant of the older proxy does not take the key back').toBe(newer);
  realm.ungranted(proxy);
  realm.forgetProxy(proxy);
  expect(realm.find('buf:remote'), 'forgetting an older proxy leaves the newer one').toBe(newer);
  realm.forgetProxy(newer);
  expect(realm.find('buf:remote')).toBeUndefined();
  proxy.put();
  newer.put();
});

test('each liveness stands for one realm: the same state for the same object, another for another', () => {
  const other: RealmLiveness = { ...liveness };
  expect(realmOf(liveness)).toBe(realmOf(liveness));
  expect(realmOf(other)).not.toBe(realmOf(liveness));
  expect(realmOf(other).liveness).toBe(other);
});
