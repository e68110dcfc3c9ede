import { describe, expect, test } from 'vitest';
import { DmaBufError, GpuHeap, PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture, expectNoLeaks, fillWithShader, readTable, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

function expectCode(run: () => unknown, code: string): void {
  expect(run).toThrow(DmaBufError);
  expect(run).toThrow(new RegExp(`^${code}: `));
}

describe('storage', () => {
  test('a new buffer reads all zeroes and counts as live storage until its last put', async () => {
    const buf = f.heap.allocate(10, { name: 'ten' });
    expect(f.heap.stats()).toMatchObject({ liveBuffers: 1, storageBytes: 12 });
    expect(buf.size).toBe(10);
    expect(buf.name).toBe('ten');
    await buf.beginCpuAccess(0, 10, 'from-device');
    expect(buf.kmap(0)).toEqual(new Uint8Array(10));
    buf.endCpuAccess(0, 10, 'from-device');
    buf.get();
    buf.put();
    expect(f.heap.stats().liveBuffers).toBe(1);
    buf.put();
    expect(f.heap.stats()).toMatchObject({ liveBuffers: 0, storageBytes: 0 });
  });

  test('the storage has STORAGE | COPY_SRC | COPY_DST usage and the extra usage asked for, on mirrors too', async () => {
    const buf = f.heap.allocate(PAGE_SIZE, { usage: GPUBufferUsage.VERTEX });
    const expected = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.VERTEX;
    const own = buf.attach(f.exporter);
    const sgt = await own.map('none');
    expect(sgt.segments[0]?.buffer.usage).toBe(expected);
    await own.unmap(sgt, 'none');
    buf.detach(own);
    const other = buf.attach(f.importer);
    const mirror = await other.map('none');
    expect(mirror.segments[0]?.buffer.usage).toBe(expected);
    await other.unmap(mirror, 'none');
    buf.detach(other);
    buf.put();
  });

  test('a buffer larger than one segment has several, in order, 256-aligned, each bindable whole', async () => {
    const segmented = new GpuHeap(f.exporter, { maxSegmentBytes: 64 * 1024 });
    const size = 200 * 1024 + 3;
    const buf = segmented.allocate(size);
    const own = buf.attach(f.exporter);
    const sgt = await own.map('from-device');
    expect(sgt.segments.map((s) => s.length)).toEqual([65536, 65536, 65536, 8195]);
    expect(sgt.segments.reduce((sum, s) => sum + s.length, 0)).toBe(size);
    fillWithShader(f.exporter, sgt, 13);
    await own.unmap(sgt, 'from-device');
    buf.detach(own);

    // Across segment boundaries: a CPU read, a CPU write and a cross-f.exporter copy.
    const boundary = 64 * 1024;
    await buf.beginCpuAccess(boundary - 10, 20, 'bidirectional');
    const page = boundary / PAGE_SIZE - 1;
    const view = buf.kmap(page);
    expect(view.subarray(PAGE_SIZE - 10)).toEqual(shaderPattern(size, 13).subarray(boundary - 10, boundary));
    view.fill(0xee, PAGE_SIZE - 2);
    buf.kunmap(page, view);
    const next = buf.kmap(page + 1);
    next.fill(0xee, 0, 2);
    buf.kunmap(page + 1, next);
    buf.endCpuAccess(boundary - 10, 20, 'bidirectional');

    const other = buf.attach(f.importer);
    const mirror = await other.map('to-device');
    const expected = shaderPattern(size, 13);
    expected.fill(0xee, boundary - 2, boundary + 2);
    expect(await readTable(f.importer, mirror)).toEqual(expected);
    await other.unmap(mirror, 'to-device');
    buf.detach(other);
    buf.put();
    expectNoLeaks(segmented);
  });
});

describe('allocate refuses bad input and budgets', () => {
  test.each([0, -1, 1.5, Number.NaN, '4096', Number.MAX_SAFE_INTEGER + 1])('allocate(%s) throws EINVAL and creates nothing', (size) => {
    expectCode(() => f.heap.allocate(size as number), 'EINVAL');
    expect(f.heap.stats()).toMatchObject({ liveBuffers: 0, storageBytes: 0 });
  });

  test.each([GPUBufferUsage.MAP_READ, GPUBufferUsage.MAP_WRITE, 0x10000, -1])('allocate with usage %s throws EINVAL', (usage) => {
    expectCode(() => f.heap.allocate(PAGE_SIZE, { usage }), 'EINVAL');
    expect(f.heap.stats().liveBuffers).toBe(0);
  });

  test('a name over 32 bytes throws EINVAL before anything is created', () => {
    expectCode(() => f.heap.allocate(PAGE_SIZE, { name: 'x'.repeat(33) }), 'EINVAL');
    expect(f.heap.stats().liveBuffers).toBe(0);
  });

  test('beyond the budget allocate throws ENOMEM at once, creating nothing; at the budget it succeeds', () => {
    const small = new GpuHeap(f.exporter, { budgetBytes: 64 * 1024 });
    const first = small.allocate(32 * 1024);
    expectCode(() => small.allocate(32 * 1024 + 1), 'ENOMEM');
    expect(small.stats()).toMatchObject({ liveBuffers: 1, storageBytes: 32 * 1024 });
    const second = small.allocate(32 * 1024);
    first.put();
    second.put();
    expectNoLeaks(small);
  });

  test.each([
    ['budgetBytes', 0],
    ['chunkBytes', 2],
    ['stagingCapBytes', -1],
    ['maxSegmentBytes', 100],
    ['name', 7],
  ])('new GpuHeap with %s = %s throws EINVAL', (key, value) => {
    expectCode(() => new GpuHeap(f.exporter, { [key]: value }), 'EINVAL');
  });

  test('new GpuHeap without a GPUDevice throws EINVAL', () => {
    expectCode(() => new GpuHeap({} as GPUDevice), 'EINVAL');
  });
});
