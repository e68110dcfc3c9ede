import { afterEach, describe, expect, test } from 'vitest';
import { atomicKmapsHeld } from '../../src/atomic-kmap-slots.js';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { DmaBufError } from '../../src/error.js';
import { exportDmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import { memoryDmaBuf, memoryStorage, standInDevice, NOTHING_OPS } from './memory-exporter.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
  expect(atomicKmapsHeld()).toBe(0);
});

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DmaBufError) return error.code;
    throw error;
  }
  return 'no error';
}

const ops = NOTHING_OPS;

describe('exportDmaBuf', () => {
  test('the new buffer holds one reference, its creator\'s, and is listed', () => {
    const buf = exportDmaBuf({ priv: {}, ops, size: 10, name: 'ten', exporter: 'test' });
    expect(buf.refCount).toBe(1);
    expect([buf.size, buf.name, buf.exporter]).toEqual([10, 'ten', 'test']);
    expect(bufinfoEntries()).toHaveLength(1);
    buf.put();
  });

  test.each([undefined, null])('throws EINVAL without priv (%s) and creates nothing', (priv) => {
    expect(codeOf(() => exportDmaBuf({ priv, ops, size: 4 }))).toBe('EINVAL');
    expect(bufinfoEntries()).toEqual([]);
  });

  test.each(['mapDmaBuf', 'unmapDmaBuf', 'release', 'kmap', 'kmapAtomic'] as const)('throws EINVAL when the required op %s is missing', (op) => {
    const partial: Partial<DmaBufOps<object>> = { ...ops };
    Reflect.deleteProperty(partial, op);
    expect(() => exportDmaBuf({ priv: {}, ops: partial as DmaBufOps<object>, size: 4 })).toThrow(new RegExp(`EINVAL: exportDmaBuf: the required op ${op} is missing`));
  });

  test('accepts an exporter with none of the optional ops', () => {
    const buf = exportDmaBuf({ priv: {}, ops, size: 4 });
    buf.put();
    expect(buf.released).toBe(true);
  });

  test.each([0, -1, 1.5, Number.NaN, Infinity, 2 ** 53, '4'])('throws EINVAL for size %s', (size) => {
    expect(codeOf(() => exportDmaBuf({ priv: {}, ops, size: size as number }))).toBe('EINVAL');
  });

  test('a buffer exported without a layout has the free one; a given layout is kept, frozen', () => {
    const free = exportDmaBuf({ priv: {}, ops, size: 4 });
    const shaped = exportDmaBuf({ priv: {}, ops, size: 4, layout: { contiguous: true, align: 12 } });
    expect(free.layout).toEqual({ contiguous: false, align: 1 });
    expect(shaped.layout).toEqual({ contiguous: true, align: 12 });
    expect(Object.isFrozen(shaped.layout)).toBe(true);
    free.put();
    shaped.put();
  });

  test.each([5, null, { contiguous: 'yes' }, { align: 0 }, { align: 1.5 }])('throws EINVAL for layout %o, and creates nothing', (layout) => {
    expect(codeOf(() => exportDmaBuf({ priv: {}, ops, size: 4, layout: layout as never }))).toBe('EINVAL');
    expect(bufinfoEntries()).toEqual([]);
  });

  test('a size of 1 and of 2^53 - 1 are accepted', () => {
    for (const size of [1, Number.MAX_SAFE_INTEGER]) exportDmaBuf({ priv: {}, ops, size }).put();
    expect(bufinfoEntries()).toEqual([]);
  });
});

describe('references and release', () => {
  test('release runs exactly once, when the last reference goes', () => {
    const buf = memoryDmaBuf(8);
    expect(buf.get()).toBe(buf);
    expect(buf.refCount).toBe(2);
    buf.put();
    expect(memoryStorage(buf).calls).not.toContain('release');
    buf.put();
    expect(memoryStorage(buf).calls.filter((c) => c === 'release')).toHaveLength(1);
    expect(buf.refCount).toBe(0);
    expect(buf.released).toBe(true);
  });

  test.each([
    ['get', (b: ReturnType<typeof memoryDmaBuf>) => b.get()],
    ['put', (b: ReturnType<typeof memoryDmaBuf>) => { b.put(); }],
    ['attach', (b: ReturnType<typeof memoryDmaBuf>) => b.attach(standInDevice('late'))],
    ['kmap', (b: ReturnType<typeof memoryDmaBuf>) => b.kmap(0)],
    ['kmapAtomic', (b: ReturnType<typeof memoryDmaBuf>) => b.kmapAtomic(0)],
    ['endCpuAccess', (b: ReturnType<typeof memoryDmaBuf>) => { b.endCpuAccess(0, 1, 'to-device'); }],
    ['name', (b: ReturnType<typeof memoryDmaBuf>) => { b.name = 'late'; }],
  ])('%s on a released buffer throws EINVAL, and release does not run again', (_, run) => {
    const buf = memoryDmaBuf(8);
    buf.put();
    expect(codeOf(() => { run(buf); })).toBe('EINVAL');
    expect(memoryStorage(buf).calls.filter((c) => c === 'release')).toHaveLength(1);
  });

  test('beginCpuAccess on a released buffer rejects with EINVAL', async () => {
    const buf = memoryDmaBuf(8);
    buf.put();
    await expect(buf.beginCpuAccess(0, 8, 'from-device')).rejects.toMatchObject({ code: 'EINVAL' });
  });

  test('a release op that throws is EIO, and the buffer is released all the same', () => {
    const buf = memoryDmaBuf(8, { fail: { release: new Error('broken') } });
    expect(() => { buf.put(); }).toThrow(/^EIO: put: the exporter's release op failed: broken/);
    expect(buf.released).toBe(true);
  });
});

describe('name', () => {
  test('is settable, shown in the listing, and <none> when unset', () => {
    const buf = memoryDmaBuf(8);
    expect(bufinfoEntries()[0]?.name).toBe('<none>');
    buf.name = 'frame';
    expect(bufinfoEntries()[0]?.name).toBe('frame');
    buf.name = undefined;
    expect(bufinfoEntries()[0]?.name).toBe('<none>');
    buf.put();
  });

  test('takes 32 UTF-8 bytes and refuses 33 with EINVAL, keeping the old name', () => {
    const buf = memoryDmaBuf(8, { name: 'old' });
    buf.name = 'x'.repeat(32);
    expect(codeOf(() => { buf.name = 'x'.repeat(33); })).toBe('EINVAL');
    expect(codeOf(() => { buf.name = 'é'.repeat(17); })).toBe('EINVAL');
    expect(buf.name).toBe('x'.repeat(32));
    buf.put();
  });
});
