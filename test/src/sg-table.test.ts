// The table an importer gets from map, in Node: what the contract accepts from an exporter's
// mapDmaBuf (segments in order, covering the buffer), and entries() for one bind group.
import { describe, expect, test } from 'vitest';
import { DmaBufError } from '../../src/error.js';
import { tableOfList } from '../../src/sg-table.js';

const buffer = (label: string) => ({ label }) as GPUBuffer;
const a = buffer('a');
const b = buffer('b');
const device = { label: 'importer' } as GPUDevice;

describe('tableOfList', () => {
  test('makes a frozen table of segments in order, with the bytes the map moved', () => {
    const { table, bytesMoved } = tableOfList('map', { segments: [{ buffer: a, offset: 0, start: 0, length: 256 }, { buffer: b, offset: 16, start: 256, length: 10 }], bytesMoved: 266 }, 266, device);
    expect(bytesMoved).toBe(266);
    expect(table.segments).toEqual([{ buffer: a, offset: 0, start: 0, length: 256 }, { buffer: b, offset: 16, start: 256, length: 10 }]);
    expect(Object.isFrozen(table)).toBe(true);
    expect(Object.isFrozen(table.segments)).toBe(true);
    expect(table.segments.every((s) => Object.isFrozen(s))).toBe(true);
  });

  test('bytesMoved defaults to 0 (zero-copy)', () => {
    expect(tableOfList('map', { segments: [{ buffer: a, offset: 0, start: 0, length: 4 }] }, 4, device).bytesMoved).toBe(0);
  });

  test('copies the segments, so that the exporter changing its list later changes nothing', () => {
    const segments = [{ buffer: a, offset: 0, start: 0, length: 4 }];
    const { table } = tableOfList('map', { segments }, 4, device);
    segments[0] = { buffer: b, offset: 0, start: 0, length: 4 };
    expect(table.segments[0]?.buffer).toBe(a);
  });

  test.each([
    ['no list', undefined, /returned no segments array/],
    ['no segments array', { segments: 'x' }, /returned no segments array/],
    ['a segment without a buffer', { segments: [{ offset: 0, start: 0, length: 8 }] }, /segment 0 without a buffer/],
    ['a segment whose buffer is null', { segments: [{ buffer: null, offset: 0, start: 0, length: 8 }] }, /segment 0 without a buffer/],
    ['a segment that is not an object', { segments: [8] }, /segment 0 without a buffer/],
    ['a zero length', { segments: [{ buffer: a, offset: 0, start: 0, length: 0 }, { buffer: b, offset: 0, start: 0, length: 8 }] }, /segment 0 without a buffer, an offset and a positive length/],
    ['a fractional offset', { segments: [{ buffer: a, offset: 0.5, start: 0, length: 8 }] }, /segment 0 without/],
    ['a start that is not where the one before ends', { segments: [{ buffer: a, offset: 0, start: 0, length: 4 }, { buffer: b, offset: 0, start: 8, length: 4 }] }, /segment 1 starting at 8, not at 4/],
    ['no start', { segments: [{ buffer: a, offset: 0, length: 8 }] }, /segment 0 starting at undefined, not at 0/],
    ['segments short of the size', { segments: [{ buffer: a, offset: 0, start: 0, length: 4 }] }, /segments covering 4 bytes, not the buffer's 8/],
    ['a negative bytesMoved', { segments: [{ buffer: a, offset: 0, start: 0, length: 8 }], bytesMoved: -1 }, /bytesMoved -1, not a non-negative integer/],
  ])('%s is EIO naming the fault', (_, list, message) => {
    let error: unknown;
    try {
      tableOfList('map', list, 8, device);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(DmaBufError);
    expect(error).toMatchObject({ code: 'EIO', call: 'map' });
    expect((error as DmaBufError).reason).toMatch(/^the exporter's mapDmaBuf returned /);
    expect((error as DmaBufError).reason).toMatch(message);
  });
});

describe('device and buffer', () => {
  test("device is the attachment's device the table was made for", () => {
    expect(tableOfList('map', { segments: [{ buffer: a, offset: 0, start: 0, length: 4 }] }, 4, device).table.device).toBe(device);
  });

  test('buffer is the one GPUBuffer of a table of one segment', () => {
    expect(tableOfList('map', { segments: [{ buffer: a, offset: 0, start: 0, length: 4 }] }, 4, device).table.buffer).toBe(a);
  });

  test('buffer of a table of two segments throws EINVAL naming the count and what to do', () => {
    const { table } = tableOfList('map', { segments: [{ buffer: a, offset: 0, start: 0, length: 256 }, { buffer: b, offset: 0, start: 256, length: 4 }] }, 260, device);
    expect(() => table.buffer).toThrow(/^EINVAL: buffer: the table has 2 segments, not one; bind them with entries\(\), or allocate the buffer with contiguous: true$/);
  });

  test('buffer read on a look-alike of a table throws EINVAL', () => {
    const { table } = tableOfList('map', { segments: [{ buffer: a, offset: 0, start: 0, length: 4 }] }, 4, device);
    const lookAlike = Object.create(table) as typeof table;
    expect(() => lookAlike.buffer).toThrow(/^EINVAL: buffer: .*look-alike of an SgTable/);
  });
});

describe('entries', () => {
  const { table } = tableOfList('map', { segments: [{ buffer: a, offset: 0, start: 0, length: 256 }, { buffer: b, offset: 512, start: 256, length: 7 }] }, 263, device);

  test('one storage entry per segment, bindings from firstBinding on, sizes rounded up to whole words', () => {
    expect(table.entries(2)).toEqual([
      { binding: 2, resource: { buffer: a, offset: 0, size: 256 } },
      { binding: 3, resource: { buffer: b, offset: 512, size: 8 } },
    ]);
  });

  test('firstBinding defaults to 0, and each call returns a new array the caller owns', () => {
    expect(table.entries().map((e) => e.binding)).toEqual([0, 1]);
    expect(table.entries()).not.toBe(table.entries());
  });

  test.each([-1, 1.5, Number.NaN, '1', null])('firstBinding %s is EINVAL', (first) => {
    expect(() => table.entries(first as number)).toThrow(/^EINVAL: entries: firstBinding must be a non-negative integer/);
  });
});
