// The bookkeeping of CPU access: every window kmap or kmapAtomic hands out is ended by its
// own kunmap, whatever else is outstanding and whenever its range ended; endCpuAccess ends
// the range it names and no other; vmap needs ranges that reach the buffer's last byte.
import { afterEach, describe, expect, test } from 'vitest';
import { atomicKmapsHeld } from '../../src/atomic-kmap-slots.js';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { CpuAccessState } from '../../src/cpu-access.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf } from './memory-exporter.js';
import { thrown } from './refusal.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
  expect(atomicKmapsHeld()).toBe(0);
});

const SIZE = 3 * PAGE_SIZE; // three whole pages


describe('windows of one page', () => {
  test.each([
    ['the first first', [0, 1, 2]],
    ['the middle first', [1, 0, 2]],
    ['the last first', [2, 1, 0]],
  ])('three kmaps of one page are each ended by their own kunmap, %s', async (_order, order) => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const views = [buf.kmap(1), buf.kmap(1), buf.kmap(1)];
    expect(new Set(views).size).toBe(3);
    for (const [done, i] of order.entries()) {
      buf.kunmap(1, views[i] as Uint8Array);
      expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 2 - done });
    }
    for (const view of views) expect(() => { buf.kunmap(1, view); }).toThrow(/^EINVAL: kunmap: /);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('two atomic kmaps of one page are each ended by their own kunmapAtomic, the first first', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const first = buf.kmapAtomic(2);
    const second = buf.kmapAtomic(2);
    buf.kunmapAtomic(2, first);
    buf.kunmapAtomic(2, second);
    expect(bufinfoEntries()[0]).toMatchObject({ atomicKmaps: 0 });
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('kunmap of a page never mapped is EINVAL naming the page', () => {
    const buf = memoryDmaBuf(SIZE);
    const error = thrown(() => { buf.kunmap(2, new Uint8Array(PAGE_SIZE)); });
    expect({ code: error.code, call: error.call, reason: error.reason }).toEqual({
      code: 'EINVAL',
      call: 'kunmap',
      reason: 'page 2 with that view is not an outstanding kmap of this buffer',
    });
    const atomic = thrown(() => { buf.kunmapAtomic(2, new Uint8Array(PAGE_SIZE)); });
    expect({ code: atomic.code, call: atomic.call, reason: atomic.reason }).toEqual({
      code: 'EINVAL',
      call: 'kunmapAtomic',
      reason: 'page 2 with that view is not an outstanding kmapAtomic of this buffer',
    });
    buf.put();
  });
});

describe('windows outlive the range they were mapped in', () => {
  test('a kmap outstanding when its only range ends is still ended by its kunmap', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const view = buf.kmap(0);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.kunmap(0, view);
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 0, cpuAccess: [] });
    buf.put();
  });

  test('an atomic kmap outstanding when its only range ends is still ended by its kunmapAtomic', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const view = buf.kmapAtomic(0);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.kunmapAtomic(0, view);
    expect(bufinfoEntries()[0]).toMatchObject({ atomicKmaps: 0 });
    expect(atomicKmapsHeld()).toBe(0);
    buf.put();
  });

  test('a kmap outstanding when one of two ranges ends is still ended by its kunmap', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    await buf.beginCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
    const view = buf.kmap(0);
    buf.endCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
    buf.kunmap(0, view);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 0, cpuAccess: [] });
    buf.put();
  });

  test('windows mapped after all CPU access ended once are ended by their kunmaps again', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, SIZE, 'to-device');
    buf.kunmap(1, buf.kmap(1));
    buf.endCpuAccess(0, SIZE, 'to-device');
    await buf.beginCpuAccess(0, SIZE, 'to-device');
    const plain = buf.kmap(1);
    const atomic = buf.kmapAtomic(1);
    buf.kunmap(1, plain);
    buf.kunmapAtomic(1, atomic);
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 0, atomicKmaps: 0 });
    buf.endCpuAccess(0, SIZE, 'to-device');
    buf.put();
  });
});

describe('endCpuAccess', () => {
  test('ends the range with its start, not another of the same length and direction', async () => {
    const buf = memoryDmaBuf(SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    await buf.beginCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
    buf.endCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
    expect(bufinfoEntries()[0]?.cpuAccess).toEqual([{ start: 0, len: PAGE_SIZE, direction: 'from-device' }]);
    buf.kunmap(0, buf.kmap(0));
    expect(() => buf.kmap(1)).toThrow(/^ERANGE: kmap: page 1 /);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });
});

describe('CpuAccessState.coversRange', () => {
  test('a range is covered when the ranges reach exactly its last byte, and not when they stop one short', () => {
    const state = new CpuAccessState();
    state.begin({ start: 0, len: 99, direction: 'to-device' });
    expect(state.coversRange(0, 100)).toBe(false);
    state.begin({ start: 99, len: 1, direction: 'none' });
    expect(state.coversRange(0, 100)).toBe(true);
    expect(state.coversRange(0, 101)).toBe(false);
  });

  test('ranges before a gap cover what ends before it, however many ranges lie beyond it', () => {
    const state = new CpuAccessState();
    for (const start of [0, 10, 20, 40, 50]) state.begin({ start, len: 10, direction: 'from-device' });
    expect(state.coversRange(0, 30)).toBe(true);
    expect(state.coversRange(5, 20)).toBe(true);
    expect(state.coversRange(0, 31)).toBe(false);
    expect(state.coversRange(40, 20)).toBe(true);
  });

  test('an empty range is covered, with or without active ranges', () => {
    const state = new CpuAccessState();
    expect(state.coversRange(7, 0)).toBe(true);
    state.begin({ start: 20, len: 5, direction: 'none' });
    expect(state.coversRange(7, 0)).toBe(true);
  });
});
