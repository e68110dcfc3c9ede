// Pages, the unit of CPU access (src/page.ts): how many cover a size, and which overlap a
// byte range. A range that ends where a page begins, or begins where one ends, does not
// overlap it.
import { describe, expect, test } from 'vitest';
import { PAGE_SIZE, pageCount, pageOverlaps } from '../../src/page.js';

describe('pages', () => {
  test('a size is covered by whole pages, the last one perhaps partial', () => {
    expect(pageCount(1)).toBe(1);
    expect(pageCount(PAGE_SIZE)).toBe(1);
    expect(pageCount(PAGE_SIZE + 1)).toBe(2);
  });

  test('a page overlaps a range that shares at least one byte with it', () => {
    expect(pageOverlaps(0, 0, 1)).toBe(true);
    expect(pageOverlaps(0, PAGE_SIZE - 1, 2)).toBe(true);
    expect(pageOverlaps(1, PAGE_SIZE - 1, 2)).toBe(true);
    expect(pageOverlaps(1, 0, 3 * PAGE_SIZE)).toBe(true);
  });

  test('a range ending where the page begins, or beginning where it ends, does not overlap it', () => {
    expect(pageOverlaps(1, 0, PAGE_SIZE)).toBe(false);
    expect(pageOverlaps(0, PAGE_SIZE, PAGE_SIZE)).toBe(false);
    expect(pageOverlaps(2, 0, PAGE_SIZE)).toBe(false);
  });
});
