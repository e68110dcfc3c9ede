// Argument checks shared by the public calls: each throws a DmaBufError that names the
// call and the offending value, so a failed call is caught at the door and changes nothing.
import { DmaBufError, type DmaBufErrorCode } from './error.js';

/**
 * How a class tells its own instances from look-alikes. A Proxy of an instance (what Vue's
 * `reactive()` and MobX hand out) or an `Object.create` of its prototype passes `instanceof`
 * but holds none of the instance's private fields, so a method run on it, or given it, would
 * fail halfway with a TypeError, perhaps after taking a reference or changing a table. `has`
 * is a private-field check (`#field in value`): false for both, and cheap enough for every call.
 */
export interface Brand<T> {
  /** The class with its article, for messages: `'an FdTable'`. */
  readonly noun: string;
  /** What an app calls such an object, for the hint: `'table'` gives `toRaw(table)`. */
  readonly variable: string;
  /** The class's prototype: what a look-alike has in its chain. */
  readonly prototype: object;
  /** Whether `value` is an instance itself. */
  readonly has: (value: unknown) => value is T;
}

/** What a receiver check names: the object a method was called on (`this`). */
export const RECEIVER = 'the object it is called on';

/** Whether `value` has `prototype` in its chain without being an instance: a Proxy or an `Object.create`. */
function isLookAlike(value: unknown, brand: Pick<Brand<unknown>, 'prototype' | 'has'>): boolean {
  if (typeof value !== 'object' || value === null || brand.has(value)) return false;
  try {
    return Object.prototype.isPrototypeOf.call(brand.prototype, value);
  } catch {
    // A revoked Proxy has no chain to read: it is just "an object".
    return false;
  }
}

/** `Array.isArray` that says `false` for a revoked Proxy, on which it throws. */
function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * A short, safe rendering of any value for an error message; given the brand of the class
 * that was expected, it says when the value is a look-alike of one.
 */
export function describe(value: unknown, expected?: Pick<Brand<unknown>, 'noun' | 'prototype' | 'has'>): string {
  if (expected && isLookAlike(value, expected)) return `a look-alike of ${expected.noun} (a Proxy or Object.create of one)`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (isArray(value)) return 'an array';
  return 'an object';
}

/**
 * Throws `code` (default `EINVAL`) unless `value` is a safe integer `>= min`.
 * @throws {DmaBufError}
 */
export function checkInteger(call: string, what: string, value: unknown, min: number, code: DmaBufErrorCode = 'EINVAL'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const expected = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new DmaBufError(code, call, `${what} must be ${expected}, got ${describe(value)}`);
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
    throw new DmaBufError('EINVAL', call, `range [${start}, ${start + len}) goes beyond the buffer's ${size} bytes`);
  }
}

/**
 * Reads an optional options bag: `undefined` or a plain object, else `EINVAL`.
 * @throws {DmaBufError} `EINVAL`
 */
export function checkOptions(call: string, options: unknown): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || isArray(options)) {
    throw new DmaBufError('EINVAL', call, `options must be an object, got ${describe(options)}`);
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
  if (typeof value !== 'boolean') throw new DmaBufError('EINVAL', call, `${key} must be a boolean, got ${describe(value)}`);
  return value;
}

/**
 * The error a brand check gives, or `undefined` when `value` is an instance itself. `what`
 * names the value (`'the target'`, {@link RECEIVER}); without it the message says "expected
 * an X". A look-alike's message says what to pass instead.
 */
export function brandError<T>(call: string, value: unknown, brand: Brand<T>, what?: string): DmaBufError | undefined {
  if (brand.has(value)) return undefined;
  const head = what === undefined ? `expected ${brand.noun}` : `${what} must be ${brand.noun}`;
  if (!isLookAlike(value, brand)) return new DmaBufError('EINVAL', call, `${head}, got ${describe(value)}`);
  const use = what === RECEIVER ? 'call it on' : 'pass';
  return new DmaBufError(
    'EINVAL',
    call,
    `${head} itself, got ${describe(value, brand)}; ${use} the object itself (in Vue: toRaw(${brand.variable}), or markRaw it when you store it)`,
  );
}

/**
 * Throws `EINVAL` naming `call` unless `value` is an instance of `brand`'s class itself: not a
 * Proxy of one, not an `Object.create` of its prototype. Public calls check their receivers
 * and arguments with it before doing anything.
 * @throws {DmaBufError} `EINVAL`
 */
export function checkBrand<T>(call: string, value: unknown, brand: Brand<T>, what?: string): asserts value is T {
  const error = brandError(call, value, brand, what);
  if (error) throw error;
}
