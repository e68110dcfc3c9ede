// The realm's two atomic kmap slots (src/atomic-kmap-slots.ts): the refusal of a third says
// which page was asked for, how many the realm holds, the limit, and what to do.
import { describe, expect, test } from 'vitest';
import { atomicKmapsHeld, MAX_ATOMIC_KMAPS } from '../../src/atomic-kmap-slots.js';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { DmaBufError } from '../../src/error.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf } from './memory-exporter.js';

describe('atomic kmap slots', () => {
  test('a third atomic kmap is EBUSY naming its page, the kmaps held and the limit', async () => {
    const size = 3 * PAGE_SIZE;
    const buf = memoryDmaBuf(size);
    await buf.beginCpuAccess(0, size, 'from-device');
    const views = [buf.kmapAtomic(0), buf.kmapAtomic(1)];
    let error: unknown;
    try {
      buf.kmapAtomic(2);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(DmaBufError);
    expect(error).toMatchObject({
      code: 'EBUSY',
      call: 'kmapAtomic',
      reason: `page 2: this realm already holds ${MAX_ATOMIC_KMAPS} atomic kmaps (the limit is ${MAX_ATOMIC_KMAPS}); kunmapAtomic one first`,
    });
    expect(atomicKmapsHeld()).toBe(MAX_ATOMIC_KMAPS);
    views.forEach((view, page) => { buf.kunmapAtomic(page, view); });
    expect(atomicKmapsHeld()).toBe(0);
    buf.endCpuAccess(0, size, 'from-device');
    buf.put();
    expect(bufinfoEntries()).toEqual([]);
  });
});
