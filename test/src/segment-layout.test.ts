// A buffer's segment layout as the contract reads it (src/segment-layout.ts): what
// exportDmaBuf's `layout` accepts, what it refuses (naming the call and the layout), and that
// every free layout is the one shared FREE_LAYOUT.
import { describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { checkLayout, FREE_LAYOUT } from '../../src/segment-layout.js';
import { memoryDmaBuf } from './memory-exporter.js';
import { thrown } from './refusal.js';

describe('checkLayout', () => {
  test('no layout, an empty one and an explicitly free one are all FREE_LAYOUT itself', () => {
    expect(FREE_LAYOUT).toEqual({ contiguous: false, align: 1 });
    expect(Object.isFrozen(FREE_LAYOUT)).toBe(true);
    expect(checkLayout('export', undefined)).toBe(FREE_LAYOUT);
    expect(checkLayout('export', {})).toBe(FREE_LAYOUT);
    expect(checkLayout('export', { contiguous: false, align: 1 })).toBe(FREE_LAYOUT);
  });

  test('a contiguous or aligned layout is read as given, frozen, and contiguous defaults to false', () => {
    for (const [given, read] of [
      [{ contiguous: true }, { contiguous: true, align: 1 }],
      [{ contiguous: true, align: 1 }, { contiguous: true, align: 1 }],
      [{ align: 256 }, { contiguous: false, align: 256 }],
      [{ contiguous: true, align: 4 }, { contiguous: true, align: 4 }],
    ] as const) {
      const layout = checkLayout('export', given);
      expect(layout).toEqual(read);
      expect(layout).not.toBe(FREE_LAYOUT);
      expect(Object.isFrozen(layout)).toBe(true);
    }
  });

  test('a layout that is not an object, or has a contiguous or align of the wrong kind, is refused naming the call and the layout', () => {
    expect(thrown(() => checkLayout('export', 'contiguous'))).toMatchObject({ code: 'EINVAL', call: 'export: layout', reason: 'options must be an object, got "contiguous"' });
    expect(thrown(() => checkLayout('export', { contiguous: 'yes' }))).toMatchObject({ code: 'EINVAL', call: 'export: layout', reason: 'contiguous must be a boolean, got "yes"' });
    expect(thrown(() => checkLayout('export', { align: 0 }))).toMatchObject({ code: 'EINVAL', call: 'export: layout', reason: 'align must be a positive integer, got 0' });
    expect(thrown(() => checkLayout('export', { align: 2.5 }))).toMatchObject({ code: 'EINVAL', call: 'export: layout', reason: 'align must be a positive integer, got 2.5' });
  });

  test("an exported buffer carries its layout, and a free one is FREE_LAYOUT", () => {
    const free = memoryDmaBuf(8);
    const aligned = memoryDmaBuf(8, { layout: { contiguous: true, align: 4 } });
    expect(free.layout).toBe(FREE_LAYOUT);
    expect(aligned.layout).toEqual({ contiguous: true, align: 4 });
    free.put();
    aligned.put();
    expect(bufinfoEntries()).toEqual([]);
  });
});
