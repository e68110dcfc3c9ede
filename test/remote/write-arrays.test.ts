// The arrays a peer's ring writes are put together in (remote/write-arrays.ts): the array of a
// served write is kept whole and given, as a view of its first bytes, to the next write that
// fits, once; a write that does not fit gets a new array and leaves the kept one kept; a larger
// array replaces a smaller one, never the other way round; nothing over SPARE_MAX is kept; a
// size no array can have gives none.
import { expect, test } from 'vitest';
import { SPARE_MAX, WriteArrays } from '../../remote/write-arrays.js';

test('with nothing kept, a write gets a new zeroed array of its size', () => {
  const bytes = new WriteArrays().take(12);
  expect(bytes?.length).toBe(12);
  expect(bytes?.buffer.byteLength).toBe(12);
  expect([...(bytes ?? [])].every((b) => b === 0)).toBe(true);
});

test("the kept array goes to the next write that fits, as a view of its first bytes, and only to that one", () => {
  const arrays = new WriteArrays();
  const served = new Uint8Array(new ArrayBuffer(32), 8, 16);
  arrays.keep(served);
  const next = arrays.take(20);
  expect(next?.buffer).toBe(served.buffer);
  expect([next?.byteOffset, next?.length]).toEqual([0, 20]);
  expect(arrays.take(20)?.buffer, 'given once').not.toBe(served.buffer);
});

test('a write of exactly the kept size gets the kept array', () => {
  const arrays = new WriteArrays();
  const served = new Uint8Array(24);
  arrays.keep(served);
  expect(arrays.take(24)?.buffer).toBe(served.buffer);
});

test('a write larger than the kept array gets a new one, and the kept one stays for the next that fits', () => {
  const arrays = new WriteArrays();
  const served = new Uint8Array(16);
  arrays.keep(served);
  expect(arrays.take(17)?.buffer).not.toBe(served.buffer);
  expect(arrays.take(16)?.buffer).toBe(served.buffer);
});

test('a larger array replaces the kept one; a smaller or equal one does not', () => {
  const arrays = new WriteArrays();
  const small = new Uint8Array(8);
  const large = new Uint8Array(64);
  arrays.keep(small);
  arrays.keep(large);
  arrays.keep(new Uint8Array(64));
  arrays.keep(new Uint8Array(8));
  expect(arrays.take(8)?.buffer).toBe(large.buffer);
});

test('an array of SPARE_MAX bytes is kept; a larger one is not', () => {
  const arrays = new WriteArrays();
  const largest = new Uint8Array(SPARE_MAX);
  arrays.keep(new Uint8Array(SPARE_MAX + 1));
  expect(arrays.take(4)?.buffer.byteLength, 'nothing was kept').toBe(4);
  arrays.keep(largest);
  expect(arrays.take(4)?.buffer).toBe(largest.buffer);
});

test('a size no array can have gives none, and leaves the kept array kept', () => {
  const arrays = new WriteArrays();
  const served = new Uint8Array(16);
  arrays.keep(served);
  expect(arrays.take(Number.MAX_SAFE_INTEGER)).toBeUndefined();
  expect(arrays.take(16)?.buffer).toBe(served.buffer);
});
