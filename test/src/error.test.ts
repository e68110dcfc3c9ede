import { describe, expect, test } from 'vitest';
import { DmaBufError } from '../../src/error.js';

describe('DmaBufError', () => {
  test('carries its code, and the message starts with it', () => {
    const error = new DmaBufError('EBADF', 'get: fd 3 is not open');
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('EBADF');
    expect(error.name).toBe('DmaBufError');
    expect(error.message).toBe('EBADF: get: fd 3 is not open');
  });
});
