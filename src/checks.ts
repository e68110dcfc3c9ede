// Argument checks shared by the public calls: each throws a DmaBufError that names the
// call and the offending value, so a failed call is caught at the door and changes nothing.
import { DmaBufError, type DmaBufErrorCode } from './error.js';

/** A short, safe rendering of any value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

/**
 * Throws `code` (default `EINVAL`) unless `value` is a safe integer `>= min`.
 * @throws {DmaBufError}
 */
export function checkInteger(call: string, what: string, value: unknown, min: number, code: DmaBufErrorCode = 'EINVAL'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const expected = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new DmaBufError(code, `${call}: ${what} must be ${expected}, got ${describe(value)}`);
  }
}

/**
 * Throws `EINVAL` unless `[start, start + len)` is a non-empty integer range inside `size`.
 * @throws {DmaBufError} `EINVAL`
 */
export function checkRange(call: string, start: unknown, len: unknown, size: number): asserts start is number {
  checkInteger(call, 'start', start, 0);
  checkInteger(call, 'len', len, 1);
  if (start + len > size) {
    throw new DmaBufError('EINVAL', `${call}: range [${start}, ${start + len}) goes beyond the buffer's ${size} bytes`);
  }
}

/**
 * Reads an optional options bag: `undefined` or a plain object, else `EINVAL`.
 * @throws {DmaBufError} `EINVAL`
 */
export function checkOptions(call: string, options: unknown): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new DmaBufError('EINVAL', `${call}: options must be an object, got ${describe(options)}`);
  }
  return options as Record<string, unknown>;
}

/**
 * Reads an optional boolean option with its default, else `EINVAL`.
 * @throws {DmaBufError} `EINVAL`
 */
export function booleanOption(call: string, options: Readonly<Record<string, unknown>>, key: string, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new DmaBufError('EINVAL', `${call}: ${key} must be a boolean, got ${describe(value)}`);
  return value;
}
