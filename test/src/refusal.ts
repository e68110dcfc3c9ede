// What a refused call gave, for tests that pin the code, call and reason of each refusal.
import { DmaBufError } from '../../src/error.js';

/** The DmaBufError that `run` throws; fails the test when it throws none or something else. */
export function thrown(run: () => unknown): DmaBufError {
  try {
    run();
  } catch (error) {
    if (error instanceof DmaBufError) return error;
    throw error;
  }
  throw new Error('expected a DmaBufError, got none');
}

/** The DmaBufError that `run` throws or rejects with; fails the test when it gives none or something else. */
export async function refusal(run: () => unknown): Promise<DmaBufError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof DmaBufError) return error;
    throw error;
  }
  throw new Error('expected a DmaBufError, got none');
}

/** An error's fields, for one comparison. */
export const fields = ({ code, call, reason }: DmaBufError) => ({ code, call, reason });
