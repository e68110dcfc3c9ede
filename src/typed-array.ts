import { describe } from './checks.js';
import { DmaBufError } from './error.js';

/** The typed arrays `DmaBuf.read` can fill. */
export type DmaBufTypedArray =
  | Int8Array<ArrayBuffer>
  | Uint8Array<ArrayBuffer>
  | Uint8ClampedArray<ArrayBuffer>
  | Int16Array<ArrayBuffer>
  | Uint16Array<ArrayBuffer>
  | Int32Array<ArrayBuffer>
  | Uint32Array<ArrayBuffer>
  | Float32Array<ArrayBuffer>
  | Float64Array<ArrayBuffer>
  | BigInt64Array<ArrayBuffer>
  | BigUint64Array<ArrayBuffer>;

/** A typed array's constructor, as `Float32Array` is: what `DmaBuf.read` is given. */
export interface DmaBufTypedArrayType<T extends DmaBufTypedArray> {
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

const TYPES: ReadonlySet<unknown> = new Set([Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]);

/**
 * Throws `EINVAL` naming `call` unless `type` is one of the typed array constructors.
 * @throws {DmaBufError} `EINVAL`
 */
export function checkTypedArrayType(call: string, type: unknown): asserts type is DmaBufTypedArrayType<DmaBufTypedArray> {
  if (!TYPES.has(type)) throw new DmaBufError('EINVAL', call, `type must be a typed array constructor such as Float32Array, got ${describe(type)}`);
}
