/** Comparing a library's GPU results with its CPU reference, within a stated tolerance. */
import { expect } from 'vitest';

/**
 * Expects `actual` to have `expected`'s length and every element within `tolerance` of it,
 * relative to the value (absolute below 1); lists every element off.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  const off = Array.from(actual).flatMap((value, i) => {
    const want = expected[i] ?? Number.NaN;
    return Math.abs(value - want) <= tolerance * Math.max(1, Math.abs(want)) ? [] : [{ i, value, want }];
  });
  expect(off).toEqual([]);
}
