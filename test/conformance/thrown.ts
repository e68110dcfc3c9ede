import { expect } from 'vitest';
import { DmaBufError } from '../../src/error.js';

/** Runs `fn` and returns the DmaBufError it throws (fails the test when it throws nothing, or something else). */
export function thrown(fn: () => unknown): DmaBufError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DmaBufError);
    if (error instanceof DmaBufError) return error;
  }
  throw new Error('expected a DmaBufError, nothing was thrown');
}
