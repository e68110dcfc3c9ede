// GPUBufferUsage flags as the contract checks and names them (src/buffer-usage.ts), with no
// WebGPU present: the values are the spec's, so Node checks them as a browser would.
import { describe, expect, test } from 'vitest';
import { checkUsage, KNOWN_USAGE, MAPPABLE_USAGE, usageNames } from '../../src/buffer-usage.js';
import { DmaBufError } from '../../src/error.js';

/** The spec's GPUBufferUsage values, bit by bit. */
const SPEC = { MAP_READ: 0x1, MAP_WRITE: 0x2, COPY_SRC: 0x4, COPY_DST: 0x8, INDEX: 0x10, VERTEX: 0x20, UNIFORM: 0x40, STORAGE: 0x80, INDIRECT: 0x100, QUERY_RESOLVE: 0x200 };

describe('usageNames', () => {
  test('names each flag by its spec name', () => {
    for (const [name, bit] of Object.entries(SPEC)) expect(usageNames(bit)).toBe(name);
  });

  test('names the flags set, lowest bit first, joined by a bar', () => {
    expect(usageNames(SPEC.VERTEX | SPEC.INDEX)).toBe('INDEX | VERTEX');
    expect(usageNames(MAPPABLE_USAGE)).toBe('MAP_READ | MAP_WRITE');
    expect(usageNames(KNOWN_USAGE)).toBe(Object.keys(SPEC).join(' | '));
  });

  test('no flag is "none"', () => {
    expect(usageNames(0)).toBe('none');
  });
});

describe('checkUsage', () => {
  test('accepts no flag, any one flag, and every flag together', () => {
    expect(() => { checkUsage('allocate', 0); }).not.toThrow();
    for (const bit of Object.values(SPEC)) expect(() => { checkUsage('allocate', bit); }).not.toThrow();
    expect(() => { checkUsage('allocate', KNOWN_USAGE); }).not.toThrow();
  });

  test('refuses a bit above the known flags with EINVAL, naming the call and the known mask', () => {
    let error: unknown;
    try {
      checkUsage('allocate', KNOWN_USAGE + 1);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(DmaBufError);
    expect(error).toMatchObject({ code: 'EINVAL', call: 'allocate', reason: 'usage 1024 has bits that are no GPUBufferUsage flag (known: 0x3ff)' });
  });

  test('refuses what is not a non-negative integer', () => {
    for (const usage of [-1, 1.5, '4', null]) {
      expect(() => { checkUsage('allocate', usage); }).toThrow(expect.objectContaining({ code: 'EINVAL', call: 'allocate' }) as Error);
    }
  });
});
