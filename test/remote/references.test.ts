import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import type { DmaBuf } from '../../src/dma-buf.js';
import type { FdSocket } from '../../remote/fd-socket.js';
import { memoryDmaBuf, memoryStorage, type MemoryStorage } from '../src/memory-exporter.js';
import { quiesce, realmsFixture, type TestRealm } from './realms.js';

const realms = realmsFixture();

/** Three realms, each pair joined: sockets[from][to]. */
function threeRealms(): { a: TestRealm; b: TestRealm; c: TestRealm; sockets: Map<TestRealm, Map<TestRealm, FdSocket>> } {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const c = realms.realm('c');
  const sockets = new Map<TestRealm, Map<TestRealm, FdSocket>>([a, b, c].map((r) => [r, new Map()]));
  for (const [x, y] of [[a, b], [b, c], [a, c]] as const) {
    const { ab, ba } = realms.link(x, y);
    sockets.get(x)?.set(y, ab);
    sockets.get(y)?.set(x, ba);
  }
  return { a, b, c, sockets };
}

function socket(sockets: Map<TestRealm, Map<TestRealm, FdSocket>>, from: TestRealm, to: TestRealm): FdSocket {
  const found = sockets.get(from)?.get(to);
  if (!found) throw new Error(`no socket from ${from.name} to ${to.name}`);
  return found;
}

/** Sends `fd` of `from` to `to` and receives it there; the fd in `to`'s table. */
async function pass(sockets: Map<TestRealm, Map<TestRealm, FdSocket>>, from: TestRealm, fd: number, to: TestRealm): Promise<number> {
  const received = socket(sockets, to, from).receive(to.table, { cloexec: false });
  await socket(sockets, from, to).send(from.table, fd);
  return received;
}

function exported(realm: TestRealm, size: number): { fd: number; buf: DmaBuf<MemoryStorage> } {
  const buf = memoryDmaBuf(size);
  const fd = realm.table.install(buf);
  buf.put();
  return { fd, buf };
}

/** The buffer behind `fd` in `realm`, without keeping a reference. */
function peek(realm: TestRealm, fd: number): DmaBuf {
  const buf = realm.table.get(fd);
  buf.put();
  return buf;
}

describe('references across realms', () => {
  test('a buffer received twice in one realm is one proxy: one more local reference, not one more remote one', async () => {
    const { a, b, sockets } = threeRealms();
    const { fd, buf } = exported(a, 16);
    const first = await pass(sockets, a, fd, b);
    const second = await pass(sockets, a, fd, b);
    expect(peek(b, first)).toBe(peek(b, second));
    expect(peek(b, first).refCount).toBe(2);
    expect(buf.refCount).toBe(2);
    b.table.close(first);
    await quiesce();
    expect(buf.refCount).toBe(2);
    b.table.close(second);
    await expect.poll(() => buf.refCount).toBe(1);
  });

  test('a buffer sent back to its exporter\'s realm is the buffer itself', async () => {
    const { a, b, sockets } = threeRealms();
    const { fd, buf } = exported(a, 16);
    const theirs = await pass(sockets, a, fd, b);
    const back = await pass(sockets, b, theirs, a);
    expect(peek(a, back)).toBe(buf);
    await quiesce();
    expect(buf.refCount).toBe(3);
  });

  test('a proxy sent on to a third realm is relayed: exact references, bytes through the relay, released once when the last goes', async () => {
    const { a, b, c, sockets } = threeRealms();
    const { fd, buf } = exported(a, 5000);
    const storage = memoryStorage(buf);
    storage.bytes.fill(3);
    const inB = await pass(sockets, a, fd, b);
    const inC = await pass(sockets, b, inB, c);
    const proxyB = peek(b, inB);
    // a holds one reference for b; b's proxy one for b's fd and one for c.
    expect(buf.refCount).toBe(2);
    expect(proxyB.refCount).toBe(2);
    // The same buffer straight from a: c keeps its proxy and gives the new receipt back.
    const direct = await pass(sockets, a, fd, c);
    expect(peek(c, direct)).toBe(peek(c, inC));
    await quiesce();
    expect(buf.refCount).toBe(2);
    b.table.close(inB);
    a.table.close(fd);
    await quiesce();
    expect(buf.released).toBe(false);
    const remote = c.table.get(inC);
    await remote.beginCpuAccess(4000, 1000, 'bidirectional');
    const page = remote.kmap(0 + 1);
    expect(page[4000 - 4096 + 100]).toBe(3);
    page.fill(8, 0, 4);
    remote.kunmap(1, page);
    remote.endCpuAccess(4000, 1000, 'bidirectional');
    await expect.poll(() => [...storage.bytes.subarray(4095, 4101)]).toEqual([3, 8, 8, 8, 8, 3]);
    remote.put();
    c.table.close(inC);
    c.table.close(direct);
    await expect.poll(() => buf.released).toBe(true);
    expect(storage.calls.filter((call) => call === 'release')).toEqual(['release']);
  });

  test('random sends, gets, puts and closes in three realms: a buffer lives exactly while some realm holds it, one proxy per realm, released once', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), from: fc.nat(2), pick: fc.nat(20), to: fc.nat(2) }),
      fc.record({ kind: fc.constant('close' as const), realm: fc.nat(2), pick: fc.nat(20) }),
      fc.record({ kind: fc.constant('dup' as const), realm: fc.nat(2), pick: fc.nat(20) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 16 }), async (steps) => {
        const { a, b, c, sockets } = threeRealms();
        const all = [a, b, c];
        const origins = [
          { realm: a, ...exported(a, 64) },
          { realm: a, ...exported(a, 100) },
          { realm: b, ...exported(b, 7) },
        ];
        // Which origin each open fd of each realm holds.
        const model = new Map<TestRealm, Map<number, number>>(all.map((r) => [r, new Map()]));
        origins.forEach((origin, i) => model.get(origin.realm)?.set(origin.fd, i));
        const fdsOf = (realm: TestRealm) => [...(model.get(realm) ?? new Map<number, number>()).keys()].sort((x, y) => x - y);
        for (const s of steps) {
          if (s.kind === 'send') {
            const from = all[s.from];
            const to = all[s.to];
            if (!from || !to || from === to) continue;
            const fds = fdsOf(from);
            const fd = fds[s.pick % Math.max(1, fds.length)];
            if (fd === undefined) continue;
            const got = await pass(sockets, from, fd, to);
            model.get(to)?.set(got, model.get(from)?.get(fd) ?? -1);
          } else {
            const realm = all[s.realm];
            if (!realm) continue;
            const fds = fdsOf(realm);
            const fd = fds[s.pick % Math.max(1, fds.length)];
            if (fd === undefined) continue;
            if (s.kind === 'close') {
              realm.table.close(fd);
              model.get(realm)?.delete(fd);
            } else {
              const buf = realm.table.get(fd);
              const dup = realm.table.install(buf, { cloexec: false });
              buf.put();
              model.get(realm)?.set(dup, model.get(realm)?.get(fd) ?? -1);
            }
          }
          await quiesce();
          origins.forEach((origin, i) => {
            const holders = all.filter((r) => [...(model.get(r)?.values() ?? [])].includes(i));
            expect(origin.buf.released).toBe(holders.length === 0);
            for (const realm of holders) {
              const bufs = new Set(fdsOf(realm).filter((fd) => model.get(realm)?.get(fd) === i).map((fd) => peek(realm, fd)));
              // One object per realm; the buffer itself in its own realm.
              expect(bufs.size).toBe(1);
              if (realm === origin.realm) expect([...bufs][0]).toBe(origin.buf);
              else expect([...bufs][0]).not.toBe(origin.buf);
            }
            // The exporter's realm holds its own fds' references and at most one per other realm.
            if (!origin.buf.released) {
              const own = fdsOf(origin.realm).filter((fd) => model.get(origin.realm)?.get(fd) === i).length;
              const elsewhere = holders.filter((r) => r !== origin.realm).length;
              expect(origin.buf.refCount - own).toBeGreaterThanOrEqual(elsewhere > 0 ? 1 : 0);
              expect(origin.buf.refCount - own).toBeLessThanOrEqual(2);
            }
          });
        }
        await realms.closeAll();
        for (const origin of origins) {
          expect(origin.buf.released).toBe(true);
          expect(memoryStorage(origin.buf).calls.filter((call) => call === 'release')).toEqual(['release']);
        }
        expect(bufinfoEntries()).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });
});
