import { describe, expect, test } from 'vitest';
import { DmaFence, GpuHeap, PAGE_SIZE, type DmaDirection } from 'webgpu-dmabuf';
import { heapFixture, expectNoLeaks, fillWithShader, newDevice, patternedBuffer, readTable, settledAfterRoundTrip, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

describe('same-device import', () => {
  test('map returns the f.exporter\'s own storage buffers and copies nothing', async () => {
    const buf = f.heap.allocate(3 * PAGE_SIZE + 5, { name: 'zero-copy' });
    const attachment = buf.attach(f.exporter);
    const before = f.heap.stats().bytesCopied;
    const sgt = await attachment.map('bidirectional');
    expect(sgt.segments).toHaveLength(1);
    expect(sgt.segments[0]?.buffer.size).toBe(3 * PAGE_SIZE + 8);
    expect(sgt.segments[0]?.length).toBe(3 * PAGE_SIZE + 5);
    const again = await attachment.map('to-device');
    expect(again.segments[0]?.buffer).toBe(sgt.segments[0]?.buffer);
    expect(f.heap.stats().bytesCopied).toBe(before);
    expect(f.heap.stats().mirrorBytes).toBe(0);
    await attachment.unmap(again, 'to-device');
    await attachment.unmap(sgt, 'bidirectional');
    buf.detach(attachment);
    buf.put();
  });

  test('what a shader writes through a same-device map is what the next map reads', async () => {
    const size = 4096 + 12;
    const buf = f.heap.allocate(size);
    const attachment = buf.attach(f.exporter);
    const sgt = await attachment.map('from-device');
    fillWithShader(f.exporter, sgt, 3);
    await attachment.unmap(sgt, 'from-device');
    const read = await attachment.map('to-device');
    expect(await readTable(f.exporter, read)).toEqual(shaderPattern(size, 3));
    await attachment.unmap(read, 'to-device');
    buf.detach(attachment);
    buf.put();
  });
});

describe('cross-device import', () => {
  test("'to-device' copies the exporter's bytes into a mirror on the importer's device", async () => {
    const size = 2 * PAGE_SIZE + 100;
    const buf = f.heap.allocate(size);
    const own = buf.attach(f.exporter);
    const written = await own.map('from-device');
    fillWithShader(f.exporter, written, 11);
    await own.unmap(written, 'from-device');
    buf.detach(own);

    const attachment = buf.attach(f.importer);
    expect(f.heap.stats().mirrorBytes).toBe(0);
    const before = f.heap.stats().bytesCopied;
    const sgt = await attachment.map('to-device');
    expect(sgt.segments[0]?.buffer).not.toBe(written.segments[0]?.buffer);
    expect(f.heap.stats().mirrorBytes).toBeGreaterThanOrEqual(size);
    expect(f.heap.stats().bytesCopied - before).toBe(size);
    expect(await readTable(f.importer, sgt)).toEqual(shaderPattern(size, 11));
    await attachment.unmap(sgt, 'to-device');
    expect(f.heap.stats().bytesCopied - before).toBe(size);
    buf.detach(attachment);
    expect(f.heap.stats().mirrorBytes).toBe(0);
    buf.put();
  });

  test('an importer that attaches, maps and detaches for every frame reuses one mirror across the ring', async () => {
    const size = 3 * PAGE_SIZE;
    const ring = [await patternedBuffer(f, size, 21), await patternedBuffer(f, size, 22), await patternedBuffer(f, size, 23)];
    const created = f.heap.stats().mirrorBuffersCreated;
    for (let frame = 0; frame < 6; frame++) {
      const buf = ring[frame % ring.length];
      if (!buf) throw new Error('no buffer');
      const attachment = buf.attach(f.importer);
      const sgt = await attachment.map('to-device');
      expect(await readTable(f.importer, sgt)).toEqual(shaderPattern(size, 21 + (frame % ring.length)));
      await attachment.unmap(sgt, 'to-device');
      buf.detach(attachment);
    }
    expect(f.heap.stats().mirrorBuffersCreated - created).toBe(1);
    expect(f.heap.stats().idleMirrorBytes).toBe(size);
    expect(f.heap.stats().mirrorBytes).toBe(0);
    for (const buf of ring) buf.put();
  });

  test.each<DmaDirection>(['from-device', 'none'])("a mirror reused for another buffer never shows the last one's bytes: a '%s' map of it reads zeros", async (dir) => {
    const size = 2 * PAGE_SIZE;
    const secret = await patternedBuffer(f, size, 31);
    const first = secret.attach(f.importer);
    const sgt = await first.map('to-device');
    await first.unmap(sgt, 'to-device');
    secret.detach(first);

    const other = f.heap.allocate(size);
    const created = f.heap.stats().mirrorBuffersCreated;
    const attachment = other.attach(f.importer);
    const reused = await attachment.map(dir);
    expect(f.heap.stats().mirrorBuffersCreated).toBe(created);
    expect(reused.segments[0]?.buffer).toBe(sgt.segments[0]?.buffer);
    expect(await readTable(f.importer, reused)).toEqual(new Uint8Array(size));
    await attachment.unmap(reused, dir);
    other.detach(attachment);
    secret.put();
    other.put();
  });

  test('idle mirrors on a device are freed when that device is lost', async () => {
    const importer = await newDevice('short-lived importer');
    const buf = await patternedBuffer(f, PAGE_SIZE, 41);
    const attachment = buf.attach(importer);
    await attachment.unmap(await attachment.map('to-device'), 'to-device');
    buf.detach(attachment);
    expect(f.heap.stats().idleMirrorBytes).toBe(PAGE_SIZE);
    importer.destroy();
    await importer.lost;
    expect(f.heap.stats().idleMirrorBytes).toBe(0);
    buf.put();
  });

  test("'from-device' brings what the importer's shader wrote back at unmap, and only then", async () => {
    const size = 5 * PAGE_SIZE + 3;
    const buf = f.heap.allocate(size);
    const attachment = buf.attach(f.importer);
    const before = f.heap.stats().bytesCopied;
    const sgt = await attachment.map('from-device');
    expect(f.heap.stats().bytesCopied).toBe(before);
    fillWithShader(f.importer, sgt, 42);
    await attachment.unmap(sgt, 'from-device');
    expect(f.heap.stats().bytesCopied - before).toBe(size);
    buf.detach(attachment);

    await buf.beginCpuAccess(0, size, 'from-device');
    const expected = shaderPattern(size, 42);
    for (let page = 0; page < 6; page++) {
      const view = buf.kmap(page);
      expect(view).toEqual(expected.subarray(page * PAGE_SIZE, Math.min(size, (page + 1) * PAGE_SIZE)));
      buf.kunmap(page, view);
    }
    buf.endCpuAccess(0, size, 'from-device');
    buf.put();
  });

  test("'bidirectional' copies in at map and back at unmap", async () => {
    const size = PAGE_SIZE;
    const buf = f.heap.allocate(size);
    await buf.beginCpuAccess(0, size, 'to-device');
    buf.kmap(0).fill(9);
    buf.endCpuAccess(0, size, 'to-device');

    const attachment = buf.attach(f.importer);
    const before = f.heap.stats().bytesCopied;
    const sgt = await attachment.map('bidirectional');
    expect(await readTable(f.importer, sgt)).toEqual(new Uint8Array(size).fill(9));
    fillWithShader(f.importer, sgt, 1);
    await attachment.unmap(sgt, 'bidirectional');
    expect(f.heap.stats().bytesCopied - before).toBe(2 * size);
    buf.detach(attachment);

    const own = buf.attach(f.exporter);
    const table = await own.map('to-device');
    expect(await readTable(f.exporter, table)).toEqual(shaderPattern(size, 1));
    await own.unmap(table, 'to-device');
    buf.detach(own);
    buf.put();
  });

  test("'none' moves no byte either way", async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const attachment = buf.attach(f.importer);
    const sgt = await attachment.map('none');
    fillWithShader(f.importer, sgt, 5);
    await attachment.unmap(sgt, 'none');
    expect(f.heap.stats().bytesCopied).toBe(0);
    buf.detach(attachment);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(buf.kmap(0).every((b) => b === 0)).toBe(true);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });

  test('the mirror is made at the first map, reused by later maps, and freed at detach', async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const attachment = buf.attach(f.importer);
    expect(f.heap.stats().mirrorBytes).toBe(0);
    const first = await attachment.map('to-device');
    const mirrorBytes = f.heap.stats().mirrorBytes;
    await attachment.unmap(first, 'to-device');
    const second = await attachment.map('to-device');
    expect(second.segments[0]?.buffer).toBe(first.segments[0]?.buffer);
    expect(f.heap.stats().mirrorBytes).toBe(mirrorBytes);
    await attachment.unmap(second, 'to-device');
    buf.detach(attachment);
    expect(f.heap.stats().mirrorBytes).toBe(0);
    buf.put();
  });

  test.each<DmaDirection>(['to-device', 'from-device', 'bidirectional'])(
    "repeating a '%s' map creates no new staging buffer after warm-up",
    async (dir) => {
      const buf = f.heap.allocate(64 * 1024);
      const attachment = buf.attach(f.importer);
      const warm = await attachment.map(dir);
      await attachment.unmap(warm, dir);
      const created = f.heap.stats().stagingBuffersCreated;
      for (let i = 0; i < 3; i++) {
        const sgt = await attachment.map(dir);
        await attachment.unmap(sgt, dir);
      }
      expect(f.heap.stats().stagingBuffersCreated).toBe(created);
      buf.detach(attachment);
      buf.put();
    },
  );

  test('a mirror a transfer is under way on when its buffer is released is destroyed, never kept idle', async () => {
    const buf = f.heap.allocate(2 * PAGE_SIZE);
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    buf.put();
    await expect(mapping).rejects.toMatchObject({ name: 'DmaBufError', code: 'EINVAL' });
    expect(f.heap.stats()).toMatchObject({ mirrorBytes: 0, idleMirrorBytes: 0 });
  });

  test('a transfer larger than one chunk arrives whole', async () => {
    const chunked = new GpuHeap(f.exporter, { chunkBytes: 8 * 1024 });
    const size = 40 * 1024 + 4;
    const buf = chunked.allocate(size);
    const own = buf.attach(f.exporter);
    const sgt = await own.map('from-device');
    fillWithShader(f.exporter, sgt, 77);
    await own.unmap(sgt, 'from-device');
    buf.detach(own);
    const attachment = buf.attach(f.importer);
    const mirror = await attachment.map('to-device');
    expect(await readTable(f.importer, mirror)).toEqual(shaderPattern(size, 77));
    await attachment.unmap(mirror, 'to-device');
    buf.detach(attachment);
    buf.put();
    expectNoLeaks(chunked);
  });
});

/** The first index where `x` and `y` differ, or -1 (a diff of many KiB is too slow to print). */
function firstDifference(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

describe('call order of overlapping maps and unmaps', () => {
  test("a same-device map('from-device') called while a chunked cross-device map copies out waits for it: that map gets the bytes as of its call", async () => {
    // 4 KiB chunks: the copy out of the storage takes 64 round trips.
    const chunked = new GpuHeap(f.exporter, { chunkBytes: 4 * 1024 });
    const size = 256 * 1024;
    const buf = await patternedBuffer({ ...f, heap: chunked }, size, 5);
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    const own = buf.attach(f.exporter);
    const storage = await own.map('from-device');
    fillWithShader(f.exporter, storage, 9);
    await own.unmap(storage, 'from-device');
    buf.detach(own);
    const sgt = await mapping;
    expect(firstDifference(await readTable(f.importer, sgt), shaderPattern(size, 5))).toBe(-1);
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
    expectNoLeaks(chunked);
  });

  test("an unmap('from-device') called after a cross-device map that a fence holds back waits for that map: the map gets the bytes as of its call", async () => {
    const third = await newDevice('third');
    const size = 2 * PAGE_SIZE;
    const buf = await patternedBuffer(f, size, 5);
    const writer = buf.attach(f.importer);
    const written = await writer.map('from-device');
    fillWithShader(f.importer, written, 9);
    const producer = new DmaFence();
    buf.importSyncFile(producer, 'write');
    const reader = buf.attach(third);
    const mapping = reader.map('to-device');
    const unmapped = writer.unmap(written, 'from-device');
    expect(await settledAfterRoundTrip(f.importer, unmapped)).toBe(false);
    producer.signal();
    const sgt = await mapping;
    expect(await readTable(third, sgt)).toEqual(shaderPattern(size, 5));
    await unmapped;
    await reader.unmap(sgt, 'to-device');
    const again = await reader.map('to-device');
    expect(await readTable(third, again)).toEqual(shaderPattern(size, 9));
    await reader.unmap(again, 'to-device');
    buf.detach(reader);
    buf.detach(writer);
    buf.put();
    third.destroy();
  });
});

describe("the fences of maps and unmaps", () => {
  test("a cross-device map's copy out of the storage is a fence until the GPU has done it, even with nothing ahead of it", async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 3);
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    const read = buf.exportSyncFile('write');
    expect(read.signaled).toBe(false);
    expect(await read.wait()).toBe(true);
    await attachment.unmap(await mapping, 'to-device');
    buf.detach(attachment);
    buf.put();
  });

  test("an unmap('from-device')'s write into the storage is a fence until the GPU has done it", async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const attachment = buf.attach(f.importer);
    const sgt = await attachment.map('from-device');
    fillWithShader(f.importer, sgt, 4);
    await attachment.unmap(sgt, 'from-device');
    const written = buf.exportSyncFile('read');
    expect(written.signaled).toBe(false);
    expect(await written.wait()).toBe(true);
    buf.detach(attachment);
    buf.put();
  });
});
