import { describe, expect, test } from 'vitest';
import { GpuHeap, PAGE_SIZE, type GpuDmaBuf } from 'webgpu-dmabuf';
import { heapFixture, expectNoLeaks, fillWithShader, patternedBuffer, readTable, shaderByte, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

const SIZE = 3 * PAGE_SIZE + 6;

/** A buffer filled with the shader pattern of `seed`, written on the GPU. */
const patterned = (seed: number, size = SIZE): Promise<GpuDmaBuf> => patternedBuffer(f, size, seed);

/** All bytes of the buffer, read by hand through a same-f.exporter map. */
async function contents(buf: GpuDmaBuf): Promise<Uint8Array> {
  const attachment = buf.attach(f.exporter);
  const sgt = await attachment.map('to-device');
  const bytes = await readTable(f.exporter, sgt);
  await attachment.unmap(sgt, 'to-device');
  buf.detach(attachment);
  return bytes;
}

/** Writes `value(i)` at every dma-buf offset `i` of `[start, start + len)` through kmap windows. */
function writeThroughWindows(buf: GpuDmaBuf, start: number, len: number, value: (i: number) => number): void {
  for (let page = Math.floor(start / PAGE_SIZE); page * PAGE_SIZE < start + len; page++) {
    const view = buf.kmap(page);
    for (let i = Math.max(start, page * PAGE_SIZE); i < Math.min(start + len, page * PAGE_SIZE + view.length); i++) {
      view[i - page * PAGE_SIZE] = value(i);
    }
    buf.kunmap(page, view);
  }
}

// Ranges that start and end on and off page and 4-byte boundaries.
const RANGES: [string, number, number][] = [
  ['inside one word', 1, 2],
  ['across one word boundary', 3, 3],
  ['across a page boundary, unaligned', PAGE_SIZE - 3, 7],
  ['over several pages, unaligned at both ends', 5, 2 * PAGE_SIZE + 3],
  ['aligned words', 8, 16],
  ['the whole buffer (size not a multiple of 4)', 0, SIZE],
  ['the last byte', SIZE - 1, 1],
];

describe("'from-device' CPU access", () => {
  test('kmap windows show exactly what the GPU wrote, page by page, the last page short', async () => {
    const buf = await patterned(17);
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const expected = shaderPattern(SIZE, 17);
    for (let page = 0; page < 4; page++) {
      const view = buf.kmap(page);
      expect(view.length).toBe(page < 3 ? PAGE_SIZE : 6);
      expect(view).toEqual(expected.subarray(page * PAGE_SIZE, page * PAGE_SIZE + view.length));
      buf.kunmap(page, view);
    }
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('kmapAtomic returns the same bytes as kmap, with no further copy', async () => {
    const buf = await patterned(2);
    await buf.beginCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
    const copied = f.heap.stats().bytesCopied;
    const plain = buf.kmap(1);
    const atomic = buf.kmapAtomic(1);
    expect(atomic).toEqual(plain);
    expect(atomic.buffer).toBe(plain.buffer);
    expect(f.heap.stats().bytesCopied).toBe(copied);
    buf.kunmapAtomic(1, atomic);
    buf.kunmap(1, plain);
    buf.endCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
    buf.put();
  });

  test('the read stages only the page-aligned cover of the range', async () => {
    const buf = await patterned(3);
    const before = f.heap.stats().bytesCopied;
    await buf.beginCpuAccess(PAGE_SIZE + 10, 20, 'from-device');
    expect(f.heap.stats().bytesCopied - before).toBe(PAGE_SIZE);
    buf.endCpuAccess(PAGE_SIZE + 10, 20, 'from-device');
    expect(f.heap.stats().bytesCopied - before).toBe(PAGE_SIZE);
    buf.put();
  });

  test('writing into a read-only window changes nothing in the buffer', async () => {
    const buf = await patterned(4);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.kmap(0).fill(1);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(await contents(buf)).toEqual(shaderPattern(SIZE, 4));
    buf.put();
  });
});

describe("'to-device' and 'bidirectional' CPU access", () => {
  test.each(RANGES)("'to-device' over %s writes back exactly [start, start + len)", async (_, start, len) => {
    const buf = await patterned(9);
    await buf.beginCpuAccess(start, len, 'to-device');
    writeThroughWindows(buf, start, len, (i) => 0x80 | (i & 0x7f));
    buf.endCpuAccess(start, len, 'to-device');
    const expected = shaderPattern(SIZE, 9);
    for (let i = start; i < start + len; i++) expected[i] = 0x80 | (i & 0x7f);
    expect(await contents(buf)).toEqual(expected);
    buf.put();
  });

  test.each(RANGES)("'bidirectional' over %s reads the current bytes and writes back only the range", async (_, start, len) => {
    const buf = await patterned(21);
    await buf.beginCpuAccess(start, len, 'bidirectional');
    const page = Math.floor(start / PAGE_SIZE);
    const view = buf.kmap(page);
    expect(view[start - page * PAGE_SIZE]).toBe(shaderByte(start, 21));
    buf.kunmap(page, view);
    writeThroughWindows(buf, start, len, (i) => shaderByte(i, 21) ^ 0xff);
    buf.endCpuAccess(start, len, 'bidirectional');
    const expected = shaderPattern(SIZE, 21);
    for (let i = start; i < start + len; i++) expected[i] = (expected[i] ?? 0) ^ 0xff;
    expect(await contents(buf)).toEqual(expected);
    buf.put();
  });

  test('bytes outside the range that the GPU wrote after begin survive the write-back', async () => {
    const buf = await patterned(1);
    await buf.beginCpuAccess(6, 5, 'to-device');
    const attachment = buf.attach(f.exporter);
    const sgt = await attachment.map('from-device');
    fillWithShader(f.exporter, sgt, 99);
    await attachment.unmap(sgt, 'from-device');
    buf.detach(attachment);
    writeThroughWindows(buf, 6, 5, () => 0);
    buf.endCpuAccess(6, 5, 'to-device');
    const expected = shaderPattern(SIZE, 99);
    expected.fill(0, 6, 11);
    expect(await contents(buf)).toEqual(expected);
    buf.put();
  });

  test.each([PAGE_SIZE, 4 * 1024 * 1024])('a write-only window of %s bytes never shows bytes of an earlier access of another buffer', async (size) => {
    const secret = f.heap.allocate(size);
    await secret.beginCpuAccess(0, size, 'to-device');
    secret.kmap(0).fill(0x5a);
    secret.endCpuAccess(0, size, 'to-device');
    const created = f.heap.stats().stagingBuffersCreated;
    const other = f.heap.allocate(size);
    await other.beginCpuAccess(0, size, 'to-device');
    expect(f.heap.stats().stagingBuffersCreated).toBe(created);
    expect(other.kmap(0).every((b) => b === 0)).toBe(true);
    other.endCpuAccess(0, size, 'to-device');
    secret.put();
    other.put();
  });
});

describe('windows after endCpuAccess', () => {
  test.each(['to-device', 'from-device', 'bidirectional'] as const)("a '%s' view kept past the end is detached, and sees nothing of the next access", async (dir) => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const other = f.heap.allocate(PAGE_SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, dir);
    const kept = buf.kmap(0);
    buf.kunmap(0, kept);
    buf.endCpuAccess(0, PAGE_SIZE, dir);
    expect(kept.length).toBe(0);
    await other.beginCpuAccess(0, PAGE_SIZE, 'to-device');
    other.kmap(0).fill(0x77);
    other.endCpuAccess(0, PAGE_SIZE, 'to-device');
    expect(kept.length).toBe(0);
    buf.put();
    other.put();
  });
});

describe('staging', () => {
  test('repeating the same CPU access creates no new staging buffer after warm-up', async () => {
    const buf = f.heap.allocate(64 * 1024);
    for (const dir of ['from-device', 'to-device', 'bidirectional'] as const) {
      await buf.beginCpuAccess(0, buf.size, dir);
      buf.endCpuAccess(0, buf.size, dir);
    }
    const created = f.heap.stats().stagingBuffersCreated;
    for (let round = 0; round < 3; round++) {
      for (const dir of ['from-device', 'to-device', 'bidirectional'] as const) {
        await buf.beginCpuAccess(0, buf.size, dir);
        buf.endCpuAccess(0, buf.size, dir);
      }
    }
    expect(f.heap.stats().stagingBuffersCreated).toBe(created);
    buf.put();
  });

  test('beyond the pool cap staging buffers are destroyed, not kept', async () => {
    const small = new GpuHeap(f.exporter, { stagingCapBytes: 0 });
    const buf = small.allocate(PAGE_SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(small.stats().stagingBytes).toBe(PAGE_SIZE);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(small.stats().stagingBytes).toBe(0);
    buf.put();
    expectNoLeaks(small);
  });

  test('the flush of endCpuAccess lands before a later map on another device', async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'to-device');
    buf.kmap(0).fill(0x33);
    buf.endCpuAccess(0, PAGE_SIZE, 'to-device');
    const attachment = buf.attach(f.importer);
    const sgt = await attachment.map('to-device');
    expect(await readTable(f.importer, sgt)).toEqual(new Uint8Array(PAGE_SIZE).fill(0x33));
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
  });
});
