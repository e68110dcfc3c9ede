import { describe, expect, test } from 'vitest';
import { DmaBufError } from '../../src/error.js';
import { FdTable } from '../../src/fd-table.js';

describe('DmaBufError', () => {
  test('carries its code, call and reason, and the message is built from them', () => {
    const cause = new Error('below');
    const error = new DmaBufError('EBADF', 'get', 'fd 3 is not open', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DmaBufError');
    expect(error.code).toBe('EBADF');
    expect(error.call).toBe('get');
    expect(error.reason).toBe('fd 3 is not open');
    expect(error.message).toBe('EBADF: get: fd 3 is not open');
    expect(error.cause).toBe(cause);
  });

  test("a public call's error names the call and the reason in fields of their own", () => {
    const table = new FdTable();
    const error = (() => {
      try {
        table.get(3);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DmaBufError);
    expect(error).toMatchObject({ code: 'EBADF', call: 'get' });
    expect((error as DmaBufError).reason).toContain('3');
    expect((error as DmaBufError).message).toBe(`EBADF: get: ${(error as DmaBufError).reason}`);
  });
});
