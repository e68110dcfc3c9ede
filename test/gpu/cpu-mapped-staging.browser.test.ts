// Write-only CPU ranges larger than 2 MiB stage in mapped MAP_WRITE buffers (gpu/cpu-pages.ts,
// rule 2) and, when no other range shares them, write back by GPU copies from that staging
// (rule 4). Alone and overlapping, ended in either order: every byte written through a window
// lands, the last range to end sets the bytes, and no window fails.
import { describe, expect, test } from 'vitest';
import { PAGE_SIZE, type GpuDmaBuf } from 'webgpu-dmabuf';
import { heapFixture, patternedBuffer, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

const MiB = 1024 * 1024;
const SIZE = 3 * MiB + 13;

/** What a CPU writer with `seed` writes at offset `i`. */
const cpuByte = (i: number, seed: number) => (i * 31 + seed) & 0xff;

/** Writes `[start, start + len)` through kmap windows with the bytes of `seed`. */
function write(buf: GpuDmaBuf, start: number, len: number, seed: number): void {
  for (let page = Math.floor(start / PAGE_SIZE); page * PAGE_SIZE < start + len; page++) {
    const view = buf.kmap(page);
    for (let i = Math.max(start, page * PAGE_SIZE); i < Math.min(start + len, page * PAGE_SIZE + view.length); i++) view[i - page * PAGE_SIZE] = cpuByte(i, seed);
    buf.kunmap(page, view);
  }
}

/** Every byte of the buffer as a fresh `'from-device'` range over all of it reads the storage. */
async function storage(buf: GpuDmaBuf): Promise<Uint8Array> {
  await buf.beginCpuAccess(0, buf.size, 'from-device');
  const view = buf.vmap();
  const copy = view.slice();
  buf.vunmap(view);
  buf.endCpuAccess(0, buf.size, 'from-device');
  return copy;
}

/** Fails at the first byte that differs (no diff of megabytes). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  const at = actual.findIndex((value, i) => value !== expected[i]);
  expect(at, at < 0 ? '' : `byte ${at} is ${actual[at]}, not ${expected[at]}`).toBe(-1);
}

test("one 'to-device' range over 2 MiB, unaligned at both ends: exactly its bytes land at its end", async () => {
  const range = { start: 1001, len: 2 * MiB + 5003 };
  const buf = await patternedBuffer(f, SIZE, 5);
  await buf.beginCpuAccess(range.start, range.len, 'to-device');
  write(buf, range.start, range.len, 3);
  buf.endCpuAccess(range.start, range.len, 'to-device');
  const expected = shaderPattern(SIZE, 5);
  for (let i = range.start; i < range.start + range.len; i++) expected[i] = cpuByte(i, 3);
  expectBytes(await storage(buf), expected);
  buf.put();
});

describe("two overlapping 'to-device' ranges over 2 MiB, begun together", () => {
  const A = { start: 100, len: 2 * MiB + 200 };
  const B = { start: MiB + 7, len: 2 * MiB };
  test.each([true, false])('the shared pages hold the last write, and every byte lands whichever ends first (A ends first: %s)', async (aEndsFirst) => {
    const buf = await patternedBuffer(f, SIZE, 5);
    await Promise.all([buf.beginCpuAccess(A.start, A.len, 'to-device'), buf.beginCpuAccess(B.start, B.len, 'to-device')]);
    write(buf, A.start, A.len, 1);
    write(buf, B.start, B.len, 2);
    const ends = [() => { buf.endCpuAccess(A.start, A.len, 'to-device'); }, () => { buf.endCpuAccess(B.start, B.len, 'to-device'); }];
    for (const end of aEndsFirst ? ends : ends.reverse()) end();
    const expected = shaderPattern(SIZE, 5);
    for (let i = A.start; i < A.start + A.len; i++) expected[i] = cpuByte(i, 1);
    for (let i = B.start; i < B.start + B.len; i++) expected[i] = cpuByte(i, 2);
    expectBytes(await storage(buf), expected);
    buf.put();
  });

  test('a window of the range still open stays usable after the other range ends', async () => {
    const buf = await patternedBuffer(f, SIZE, 5);
    await Promise.all([buf.beginCpuAccess(A.start, A.len, 'to-device'), buf.beginCpuAccess(B.start, B.len, 'to-device')]);
    write(buf, A.start, A.len, 1);
    buf.endCpuAccess(A.start, A.len, 'to-device');
    // B writes after A has ended, over pages A shared: B's staging must still be mapped.
    write(buf, B.start, B.len, 2);
    buf.endCpuAccess(B.start, B.len, 'to-device');
    const expected = shaderPattern(SIZE, 5);
    for (let i = A.start; i < A.start + A.len; i++) expected[i] = cpuByte(i, 1);
    for (let i = B.start; i < B.start + B.len; i++) expected[i] = cpuByte(i, 2);
    expectBytes(await storage(buf), expected);
    buf.put();
  });
});
