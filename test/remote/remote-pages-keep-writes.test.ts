// A remote buffer's CPU pages in the importing realm (remote/proxy-pages.ts): a reading
// beginCpuAccess refreshes its page cover from the exporter, except the bytes that a writing
// range active now covers, which keep the CPU's writes: exactly the overlap, at either edge,
// and nothing outside it. The writes then go back at the writing range's end as they were.
import { expect, test } from 'vitest';
import type { DmaBuf } from '../../src/dma-buf.js';
import type { DmaDirection } from '../../src/direction.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

const SIZE = 2 * PAGE_SIZE;

/** Realm `b` holds a remote buffer of realm `a`'s, whose bytes are all 1. */
async function remote() {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  const buf = memoryDmaBuf(SIZE);
  const exporter = memoryStorage(buf).bytes;
  exporter.fill(1);
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  const proxy = b.table.get(await ba.receive(b.table));
  return { exporter, proxy };
}

/** Runs `use` on a view of each page `[start, end)` touches, through kmap: (view, offset of the page). */
function eachPage(proxy: DmaBuf, start: number, end: number, use: (view: Uint8Array, base: number) => void): void {
  for (let page = Math.floor(start / PAGE_SIZE); page * PAGE_SIZE < end; page += 1) {
    const view = proxy.kmap(page);
    use(view, page * PAGE_SIZE);
    proxy.kunmap(page, view);
  }
}

/** Writes `value` over `[start, end)` of the proxy's pages, as the CPU does. */
function write(proxy: DmaBuf, start: number, end: number, value: number): void {
  eachPage(proxy, start, end, (view, base) => { view.fill(value, Math.max(start, base) - base, Math.min(end, base + view.length) - base); });
}

/** The byte values of `[start, end)`, run-length encoded: [value, count][]. */
function runs(bytes: ArrayLike<number>, start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = start; i < end; i += 1) {
    const last = out.at(-1);
    const value = bytes[i] ?? -1;
    if (last?.[0] === value) last[1] += 1;
    else out.push([value, 1]);
  }
  return out;
}

/** The proxy's pages over `[start, end)` as the CPU sees them, run-length encoded. */
function seen(proxy: DmaBuf, start: number, end: number): [number, number][] {
  const copy = new Uint8Array(SIZE);
  eachPage(proxy, start, end, (view, base) => { copy.set(view, base); });
  return runs(copy, start, end);
}

test.each<[string, number, number, number, number, DmaDirection]>([
  // [what, writing range start, length, reading range start, length, writing direction]
  ['inside the read', 100, 50, 0, SIZE, 'to-device'],
  ['over the read\'s start', PAGE_SIZE - 10, 30, PAGE_SIZE + 5, 100, 'to-device'],
  ['over the read\'s end', PAGE_SIZE + 90, 40, PAGE_SIZE, 100, 'bidirectional'],
])('a reading begin over a writing range %s keeps exactly the overlap\'s CPU writes; the rest is the exporter\'s', async (_what, wStart, wLen, rStart, rLen, wDir) => {
  const { exporter, proxy } = await remote();
  await proxy.beginCpuAccess(wStart, wLen, wDir);
  write(proxy, wStart, wStart + wLen, 7);
  // The exporter's bytes change meanwhile: the read brings them, but not over the CPU's writes.
  exporter.fill(2);
  await proxy.beginCpuAccess(rStart, rLen, 'from-device');
  const pageFrom = Math.floor(rStart / PAGE_SIZE) * PAGE_SIZE;
  const pageTo = Math.min(SIZE, Math.ceil((rStart + rLen) / PAGE_SIZE) * PAGE_SIZE);
  const expected: [number, number][] = [];
  const push = (value: number, count: number) => { if (count > 0) expected.push([value, count]); };
  // Within the read's page cover: the exporter's 2s, except the writing range's 7s.
  const keepFrom = Math.max(wStart, pageFrom);
  const keepTo = Math.min(wStart + wLen, pageTo);
  push(2, keepFrom - pageFrom);
  push(7, keepTo - keepFrom);
  push(2, pageTo - keepTo);
  expect(seen(proxy, pageFrom, pageTo)).toEqual(expected);
  proxy.endCpuAccess(rStart, rLen, 'from-device');
  proxy.endCpuAccess(wStart, wLen, wDir);
  await quiesce();
  expect(runs(exporter, wStart, wStart + wLen), 'the CPU writes went back as they were').toEqual([[7, wLen]]);
  expect(exporter[wStart - 1], 'and nothing before them').toBe(2);
  expect(exporter[wStart + wLen], 'nor after').toBe(2);
  proxy.put();
});

test("a reading begin beside a writing range that does not overlap it refreshes all its cover, and keeps the writing range's bytes outside it", async () => {
  const { exporter, proxy } = await remote();
  await proxy.beginCpuAccess(PAGE_SIZE, 16, 'to-device');
  write(proxy, PAGE_SIZE, PAGE_SIZE + 16, 7);
  exporter.fill(2);
  await proxy.beginCpuAccess(0, PAGE_SIZE, 'from-device');
  expect(seen(proxy, 0, PAGE_SIZE)).toEqual([[2, PAGE_SIZE]]);
  expect(seen(proxy, PAGE_SIZE, PAGE_SIZE + 16)).toEqual([[7, 16]]);
  proxy.endCpuAccess(0, PAGE_SIZE, 'from-device');
  proxy.endCpuAccess(PAGE_SIZE, 16, 'to-device');
  await quiesce();
  proxy.put();
});

test("a reading begin over a reading range brings the exporter's bytes over it: only writing ranges keep theirs", async () => {
  const { exporter, proxy } = await remote();
  await proxy.beginCpuAccess(0, 16, 'from-device');
  expect(seen(proxy, 0, 16)).toEqual([[1, 16]]);
  exporter.fill(2);
  await proxy.beginCpuAccess(0, 32, 'from-device');
  expect(seen(proxy, 0, PAGE_SIZE)).toEqual([[2, PAGE_SIZE]]);
  proxy.endCpuAccess(0, 32, 'from-device');
  proxy.endCpuAccess(0, 16, 'from-device');
  await quiesce();
  proxy.put();
});

test("an end forgets exactly its own range: a reading begin afterwards refreshes the bytes only it covered and keeps the other writing ranges' bytes", async () => {
  const { exporter, proxy } = await remote();
  // Begun in this order; each range before the one ended matches it in all but one of start, length and direction.
  const ranges: [number, number, DmaDirection][] = [
    [300, 5, 'to-device'], // its start and direction
    [320, 10, 'to-device'], // its length and direction
    [300, 10, 'from-device'], // its start and length
    [300, 10, 'to-device'], // the range ended
    [400, 10, 'from-device'], // one begun after it
  ];
  for (const [start, len, dir] of ranges) await proxy.beginCpuAccess(start, len, dir);
  write(proxy, 300, 330, 7);
  proxy.endCpuAccess(300, 10, 'to-device');
  await quiesce();
  expect(runs(exporter, 298, 312), 'the range ended went back').toEqual([[1, 2], [7, 10], [1, 2]]);
  exporter.fill(2);
  await proxy.beginCpuAccess(0, 16, 'from-device');
  expect(seen(proxy, 300, 330)).toEqual([[7, 5], [2, 15], [7, 10]]);
  proxy.endCpuAccess(0, 16, 'from-device');
  for (const [start, len, dir] of ranges.filter((_, i) => i !== 3)) proxy.endCpuAccess(start, len, dir);
  await quiesce();
  proxy.put();
});
