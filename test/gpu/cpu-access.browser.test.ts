import { describe, expect, test } from 'vitest';
import { DmaFence, GpuHeap, PAGE_SIZE, type GpuDmaBuf } from 'webgpu-dmabuf';
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

const MiB = 1024 * 1024;

/** The first index where `x` and `y` differ, or -1 (a diff of MiBs is too slow to print). */
function firstDifference(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

describe('write-only ranges over 2 MiB (mapped MAP_WRITE staging)', () => {
  test.each([
    ['2 MiB is plain memory: no staging buffer', 2 * MiB, 0],
    ['2 MiB and a page is one MAP_WRITE staging buffer', 2 * MiB + PAGE_SIZE, 1],
  ] as const)("a 'to-device' range of %s", async (_, size, staging) => {
    const buf = await patterned(6, size);
    const before = f.heap.stats().stagingBuffersCreated;
    await buf.beginCpuAccess(0, size, 'to-device');
    expect(f.heap.stats().stagingBuffersCreated - before).toBe(staging);
    writeThroughWindows(buf, 0, size, (i) => i & 0xff);
    buf.endCpuAccess(0, size, 'to-device');
    expect(firstDifference(await contents(buf), Uint8Array.from({ length: size }, (_v, i) => i & 0xff))).toBe(-1);
    buf.put();
  });

  test("'to-device' unaligned at both ends writes back exactly [start, start + len), the partial words included", async () => {
    const size = 4 * MiB;
    const [start, len] = [3, 3 * MiB + 2];
    const buf = await patterned(12, size);
    await buf.beginCpuAccess(start, len, 'to-device');
    writeThroughWindows(buf, start, len, (i) => 0x80 | (i & 0x7f));
    buf.endCpuAccess(start, len, 'to-device');
    const expected = shaderPattern(size, 12);
    for (let i = start; i < start + len; i++) expected[i] = 0x80 | (i & 0x7f);
    expect(firstDifference(await contents(buf), expected)).toBe(-1);
    buf.put();
  });

  test("two 'to-device' ranges over the same staging: the first to end leaves the other's windows usable, and both writes land", async () => {
    const size = 4 * MiB;
    const buf = f.heap.allocate(size);
    const inner = { start: PAGE_SIZE, len: 3 * MiB } as const;
    await buf.beginCpuAccess(0, size, 'to-device');
    await buf.beginCpuAccess(inner.start, inner.len, 'to-device');
    writeThroughWindows(buf, 0, PAGE_SIZE, () => 0x11);
    buf.endCpuAccess(0, size, 'to-device');
    writeThroughWindows(buf, inner.start, PAGE_SIZE, () => 0x22);
    buf.endCpuAccess(inner.start, inner.len, 'to-device');
    const bytes = await contents(buf);
    expect(bytes.subarray(0, 2 * PAGE_SIZE)).toEqual(new Uint8Array(2 * PAGE_SIZE).fill(0x11, 0, PAGE_SIZE).fill(0x22, PAGE_SIZE));
    buf.put();
  });

  test("a write-only window never shows another buffer's bytes, even in staging the buffer itself used before", async () => {
    const size = 4 * MiB;
    const a = f.heap.allocate(size);
    const b = f.heap.allocate(size);
    // B's access reuses A's staging; A's next access gets it back after B.
    for (const [buf, byte] of [[a, 0x11], [b, 0x22]] as const) {
      await buf.beginCpuAccess(0, size, 'to-device');
      buf.kmap(0).fill(byte);
      buf.endCpuAccess(0, size, 'to-device');
    }
    await a.beginCpuAccess(0, size, 'to-device');
    expect(a.kmap(0).includes(0x22)).toBe(false);
    a.endCpuAccess(0, size, 'to-device');
    a.put();
    b.put();
  });
});

describe("'none' CPU access", () => {
  test.each([PAGE_SIZE, 4 * MiB])("a 'none' window of %s bytes shows zeros, even after the buffer's own write-only access", async (size) => {
    const buf = f.heap.allocate(size);
    await buf.beginCpuAccess(0, size, 'to-device');
    buf.kmap(0).fill(0x5a);
    buf.endCpuAccess(0, size, 'to-device');
    await buf.beginCpuAccess(0, size, 'none');
    expect(buf.kmap(0).every((b) => b === 0)).toBe(true);
    buf.endCpuAccess(0, size, 'none');
    buf.put();
  });
});

describe('write-backs in call order (rule 4)', () => {
  test("an endCpuAccess called after a map that a fence holds back lands after that map's copy: the map gets the bytes as of its call", async () => {
    const buf = await patterned(8, PAGE_SIZE);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'to-device');
    buf.kmap(0).fill(0x5a);
    const producer = new DmaFence();
    buf.importSyncFile(producer, 'write');
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    buf.endCpuAccess(0, PAGE_SIZE, 'to-device');
    producer.signal();
    const sgt = await mapping;
    expect(await readTable(f.importer, sgt)).toEqual(shaderPattern(PAGE_SIZE, 8));
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    expect(await contents(buf)).toEqual(new Uint8Array(PAGE_SIZE).fill(0x5a));
    buf.put();
  });
});
