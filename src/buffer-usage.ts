/**
 * `GPUBufferUsage` flags as plain numbers, with their check. The values are fixed by the
 * WebGPU spec; they are spelled out so that the contract, which never calls WebGPU, checks
 * flags where WebGPU is absent (Node, a server render) as it does in a browser.
 */
import { checkInteger, describe } from './checks.js';
import { DmaBufError } from './error.js';

/** `GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE`: flags only a buffer without `STORAGE` may carry. */
export const MAPPABLE_USAGE = 0x0001 | 0x0002;

/** Every `GPUBufferUsage` flag WebGPU defines (MAP_READ through QUERY_RESOLVE). */
export const KNOWN_USAGE = 0x03ff;

const NAMES: readonly string[] = ['MAP_READ', 'MAP_WRITE', 'COPY_SRC', 'COPY_DST', 'INDEX', 'VERTEX', 'UNIFORM', 'STORAGE', 'INDIRECT', 'QUERY_RESOLVE'];

/** The names of the flags set in `usage`, for messages: `'VERTEX | INDEX'`, or `'none'`. */
export function usageNames(usage: number): string {
  const names = NAMES.filter((_, bit) => (usage & (1 << bit)) !== 0);
  return names.length === 0 ? 'none' : names.join(' | ');
}

/**
 * Throws `EINVAL` naming `call` unless `usage` is a non-negative integer made of known
 * `GPUBufferUsage` flags only.
 * @throws {DmaBufError} `EINVAL`
 */
export function checkUsage(call: string, usage: unknown): asserts usage is GPUBufferUsageFlags {
  checkInteger(call, 'usage', usage, 0);
  // Non-negative, so anything above the highest flag has an unknown bit.
  if (usage > KNOWN_USAGE) {
    throw new DmaBufError('EINVAL', call, `usage ${describe(usage)} has bits that are no GPUBufferUsage flag (known: 0x${KNOWN_USAGE.toString(16)})`);
  }
}
