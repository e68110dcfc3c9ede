import { DmaBufError } from './error.js';

/**
 * Converts what an exporter op threw into the caller's error: a `DmaBufError` passes
 * unchanged (an exporter's refusal is its answer), anything else becomes `EIO`.
 */
export function exporterError(call: string, op: string, error: unknown): DmaBufError {
  if (error instanceof DmaBufError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new DmaBufError('EIO', call, `the exporter's ${op} op failed: ${reason}`, { cause: error });
}

/** Runs a synchronous exporter op, converting what it throws with {@link exporterError}. */
export function callExporter<T>(call: string, op: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw exporterError(call, op, error);
  }
}

/** Awaits an exporter op, converting what it throws or rejects with {@link exporterError}. */
export async function awaitExporter<T>(call: string, op: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw exporterError(call, op, error);
  }
}
