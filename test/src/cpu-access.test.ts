import { afterEach, describe, expect, test } from 'vitest';
import { atomicKmapsHeld } from '../../src/atomic-kmap-slots.js';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { CpuAccessState } from '../../src/cpu-access.js';
import { DmaBufError } from '../../src/error.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf, memoryStorage } from './memory-exporter.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
  expect(atomicKmapsHeld()).toBe(0);
});

const SIZE = 3 * PAGE_SIZE + 100; // four pages, the last one short

describe('beginCpuAccess', () => {
  test.each([
    [0, SIZE],
    [SIZE - 1, 1],
    [PAGE_SIZE - 1, 2],
  ])('accepts the range start %s, len %s', async (start, len) => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(start, len, 'bidirectional');
    expect(bufinfoEntries()[0]?.cpuAccess).toEqual([{ start, len, direction: 'bidirectional' }]);
    buf.endCpuAccess(start, len, 'bidirectional');
    buf.put();
  });

  test.each([
    ['start + len one past the end', 1, SIZE],
    ['len 0', 0, 0],
    ['negative start', -1, 4],
    ['fractional len', 0, 1.5],
    ['NaN start', Number.NaN, 4],
  ])('rejects %s with EINVAL, records nothing and does not call the exporter', async (_, start, len) => {
    const buf = memoryDmaBuf(SIZE);
    await expect(buf.beginCpuAccess(start, len, 'from-device')).rejects.toMatchObject({ code: 'EINVAL' });
    expect(memoryStorage(buf).calls).toEqual([]);
    expect(bufinfoEntries()[0]?.cpuAccess).toEqual([]);
    buf.put();
  });

  test('rejects an unknown direction with EINVAL', async () => {
    const buf = memoryDmaBuf(SIZE);
    await expect(buf.beginCpuAccess(0, 4, 'sideways' as never)).rejects.toThrow(/^EINVAL: beginCpuAccess: unknown direction "sideways"/);
    buf.put();
  });

  test("when the exporter's begin fails, its error reaches the caller and no kmap may follow", async () => {
    const buf = memoryDmaBuf(SIZE, { fail: { beginCpuAccess: new DmaBufError('ENOMEM', 'beginCpuAccess', 'no staging') } });
    await expect(buf.beginCpuAccess(0, SIZE, 'from-device')).rejects.toMatchObject({ code: 'ENOMEM' });
    expect(() => buf.kmap(0)).toThrow(/^ERANGE: /);
    buf.put();
  });
});

describe('kmap and kunmap', () => {
  test('a page of the range maps to its bytes, the last one short, as often as asked', async () => {
    const buf = memoryDmaBuf(SIZE);
    memoryStorage(buf).bytes.fill(7, 3 * PAGE_SIZE);
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    for (let i = 0; i < 3; i++) {
      const view = buf.kmap(3);
      expect(view).toEqual(new Uint8Array(100).fill(7));
      buf.kunmap(3, view);
    }
    expect(buf.kmap(0)).toHaveLength(PAGE_SIZE);
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 1 });
    buf.put();
  });

  test('the partial first and last pages of an unaligned range map', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(PAGE_SIZE - 1, 2, 'to-device');
    const first = buf.kmap(0);
    const second = buf.kmap(1);
    expect(() => buf.kmap(2)).toThrow(/^ERANGE: kmap: page 2 /);
    buf.kunmap(0, first);
    buf.kunmap(1, second);
    buf.endCpuAccess(PAGE_SIZE - 1, 2, 'to-device');
    buf.put();
  });

  test('a page beyond the buffer is EINVAL even with no range active; one no range covers is ERANGE', () => {
    const buf = memoryDmaBuf(SIZE);
    expect(() => buf.kmap(4)).toThrow(/^EINVAL: kmap: page 4 is beyond the buffer's 4 pages/);
    expect(() => buf.kmap(3)).toThrow(/^ERANGE: /);
    expect(() => buf.kmapAtomic(4)).toThrow(/^EINVAL: /);
    buf.put();
  });

  test.each([-1, 0.5, Number.NaN, '0'])('kmap(%s) throws EINVAL', async (page) => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    expect(() => buf.kmap(page as number)).toThrow(/^EINVAL: kmap: page must be a non-negative integer/);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('kunmap must name the page and view an outstanding kmap returned together', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const view = buf.kmap(1);
    expect(() => { buf.kunmap(2, view); }).toThrow(/^EINVAL: kunmap: /);
    expect(() => { buf.kunmap(1, new Uint8Array(PAGE_SIZE)); }).toThrow(/^EINVAL: /);
    expect(() => { buf.kunmapAtomic(1, view); }).toThrow(/^EINVAL: kunmapAtomic: /);
    buf.kunmap(1, view);
    expect(() => { buf.kunmap(1, view); }).toThrow(/^EINVAL: /);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('kunmap of an exporter without a kunmap op is a no-op', async () => {
    const buf = memoryDmaBuf(SIZE, { omit: ['kunmap', 'kunmapAtomic'] });
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.kunmap(0, buf.kmap(0));
    buf.kunmapAtomic(0, buf.kmapAtomic(0));
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 0, atomicKmaps: 0 });
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });
});

describe('the atomic kmap limit', () => {
  test('kmapAtomic throws EBUSY on the third concurrent map, across buffers, until one is unmapped', async () => {
    const a = memoryDmaBuf(SIZE);
    const b = memoryDmaBuf(SIZE);
    await a.beginCpuAccess(0, SIZE, 'from-device');
    await b.beginCpuAccess(0, SIZE, 'from-device');
    const one = a.kmapAtomic(0);
    const two = b.kmapAtomic(1);
    expect(() => a.kmapAtomic(2)).toThrow(/^EBUSY: kmapAtomic: /);
    expect(atomicKmapsHeld()).toBe(2);
    b.kunmapAtomic(1, two);
    const three = a.kmapAtomic(2);
    a.kunmapAtomic(0, one);
    a.kunmapAtomic(2, three);
    a.endCpuAccess(0, SIZE, 'from-device');
    b.endCpuAccess(0, SIZE, 'from-device');
    a.put();
    b.put();
  });

  test('plain kmaps do not count against the limit', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const plain = [0, 1, 2, 3].map((page) => buf.kmap(page));
    const atomics = [buf.kmapAtomic(0), buf.kmapAtomic(1)];
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 4, atomicKmaps: 2 });
    plain.forEach((view, page) => { buf.kunmap(page, view); });
    atomics.forEach((view, page) => { buf.kunmapAtomic(page, view); });
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('releasing a buffer gives its atomic slots back', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    buf.kmapAtomic(0);
    buf.kmapAtomic(1);
    buf.put();
    expect(atomicKmapsHeld()).toBe(0);
  });
});

describe('endCpuAccess', () => {
  test('must match an active begin with the same range and direction', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'to-device');
    expect(() => { buf.endCpuAccess(0, PAGE_SIZE, 'from-device'); }).toThrow(/^EINVAL: endCpuAccess: no active/);
    expect(() => { buf.endCpuAccess(0, PAGE_SIZE - 1, 'to-device'); }).toThrow(/^EINVAL: /);
    buf.endCpuAccess(0, PAGE_SIZE, 'to-device');
    expect(() => { buf.endCpuAccess(0, PAGE_SIZE, 'to-device'); }).toThrow(/^EINVAL: /);
    expect(memoryStorage(buf).calls.filter((c) => c.startsWith('endCpuAccess'))).toEqual([`endCpuAccess 0 ${PAGE_SIZE} to-device`]);
    buf.put();
  });

  test('afterwards pages only that range covered are ERANGE, pages another range covers still map', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, 2 * PAGE_SIZE, 'from-device');
    await buf.beginCpuAccess(PAGE_SIZE, PAGE_SIZE, 'to-device');
    buf.endCpuAccess(0, 2 * PAGE_SIZE, 'from-device');
    expect(() => buf.kmap(0)).toThrow(/^ERANGE: /);
    buf.kunmap(1, buf.kmap(1));
    buf.endCpuAccess(PAGE_SIZE, PAGE_SIZE, 'to-device');
    expect(() => buf.kmap(1)).toThrow(/^ERANGE: /);
    buf.put();
  });
});

describe('CpuAccessState.coversRange (what vmap asks)', () => {
  test('ranges that together cover every byte cover the range, in any order; a gap does not', () => {
    const state = new CpuAccessState();
    state.begin({ start: 4096, len: 4096, direction: 'from-device' });
    expect(state.coversRange(0, 8192)).toBe(false);
    state.begin({ start: 0, len: 4000, direction: 'to-device' });
    expect(state.coversRange(0, 8192)).toBe(false); // bytes 4000..4095 are not covered
    state.begin({ start: 3000, len: 2000, direction: 'none' });
    expect(state.coversRange(0, 8192)).toBe(true);
    expect(state.end(3000, 2000, 'none')).toBe(true);
    expect(state.coversRange(0, 8192)).toBe(false);
  });
});

describe('vmap on the contract', () => {
  test('an exporter without a vmap op gives EINVAL; without CPU access over the buffer, ERANGE comes first', async () => {
    const buf = memoryDmaBuf(100);
    expect(() => buf.vmap()).toThrow(/^ERANGE: vmap/);
    await buf.beginCpuAccess(0, 100, 'from-device');
    expect(() => buf.vmap()).toThrow(/^EINVAL: vmap: the exporter 'memory' has no vmap op/);
    expect(() => { buf.vunmap(new Uint8Array(100)); }).toThrow(/^EINVAL: vunmap/);
    buf.endCpuAccess(0, 100, 'from-device');
    buf.put();
  });
});
