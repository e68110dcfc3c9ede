// Operations held back by fences an application imported, in call order, on real WebGPU:
// - an unmap that moves bytes back waits for a pending imported fence, and operations called
//   after it see its bytes once it lands (those called before it do not);
// - an unmap behind a fence that signals with an error rejects with that error and writes
//   nothing, and its table is given back all the same (the importer may detach);
// - endCpuAccess behind such a fence still writes back, in its turn: after the operations
//   called before it, so a map called before it never sees its bytes;
// - a CPU read that waits for no failed fence succeeds, though it shares pages with one that did,
//   and reads begun together over such pages begin once each, whichever pages they share;
// - a 'none' map moves no bytes and waits for no fence, on the exporter's device or another.
import { describe, expect, test } from 'vitest';
import { DmaFence, GpuHeap, PAGE_SIZE } from 'webgpu-dmabuf';
import { cpuRead, expectNoLeaks, fillWithShader, heapFixture, newDevice, patternedBuffer, readTable, settledAfterRoundTrip, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

const SIZE = 2 * PAGE_SIZE + 12;

describe('an unmap behind an imported fence', () => {
  test("an unmap('from-device') waits for a pending imported write fence; a read called after it sees its bytes, a map called before it does not", async () => {
    const buf = await patternedBuffer(f, SIZE, 5);
    const writer = buf.attach(f.importer);
    const written = await writer.map('from-device');
    fillWithShader(f.importer, written, 9);
    const producer = new DmaFence();
    buf.importSyncFile(producer, 'write');
    // A reader on a third device, called before the unmap: a copy of the storage as of its call.
    const third = await newDevice('third');
    const before = buf.attach(third);
    const early = before.map('to-device');
    const unmapped = writer.unmap(written, 'from-device');
    const after = cpuRead(buf);
    expect(await settledAfterRoundTrip(f.importer, unmapped), 'the unmap went ahead of a pending fence').toBe(false);
    producer.signal();
    const sgt = await early;
    expect(await readTable(third, sgt)).toEqual(shaderPattern(SIZE, 5));
    await before.unmap(sgt, 'to-device');
    await unmapped;
    expect(await after).toEqual(shaderPattern(SIZE, 9));
    buf.detach(before);
    buf.detach(writer);
    buf.put();
    third.destroy();
  });

  test('an unmap behind an imported fence that fails rejects with its error, writes nothing, and gives its table back', async () => {
    const buf = await patternedBuffer(f, SIZE, 5);
    const writer = buf.attach(f.importer);
    const written = await writer.map('from-device');
    fillWithShader(f.importer, written, 9);
    const consumer = new DmaFence();
    buf.importSyncFile(consumer, 'read');
    const unmapped = writer.unmap(written, 'from-device');
    consumer.setError('EIO');
    consumer.signal();
    await expect(unmapped).rejects.toMatchObject({ code: 'EIO' });
    expect(await cpuRead(buf)).toEqual(shaderPattern(SIZE, 5));
    // The table is no longer outstanding: unmapping it again is EINVAL, and detach is allowed.
    await expect(writer.unmap(written, 'from-device')).rejects.toMatchObject({ code: 'EINVAL' });
    buf.detach(writer);
    buf.put();
  });
});

test('endCpuAccess behind an imported fence that fails still writes back, after the map called before it is queued', async () => {
  // Small chunks: the map's copies out of the storage take several turns of the device, so
  // they are still being queued when the fence fails and the end may go ahead.
  const heap = new GpuHeap(f.exporter, { chunkBytes: 4096 });
  const size = 16 * 4096;
  const buf = heap.allocate(size);
  await buf.beginCpuAccess(0, size, 'to-device');
  for (let page = 0; page * PAGE_SIZE < size; page++) {
    const view = buf.kmap(page);
    view.fill(0xcd);
    buf.kunmap(page, view);
  }
  const reader = buf.attach(f.importer);
  const early = reader.map('to-device');
  const consumer = new DmaFence();
  buf.importSyncFile(consumer, 'read');
  buf.endCpuAccess(0, size, 'to-device');
  consumer.setError('EIO');
  consumer.signal();
  const sgt = await early;
  expect(await readTable(f.importer, sgt), 'the map called before the end saw its bytes').toEqual(new Uint8Array(size));
  await reader.unmap(sgt, 'to-device');
  expect(await cpuRead(buf)).toEqual(new Uint8Array(size).fill(0xcd));
  buf.detach(reader);
  buf.put();
  expectNoLeaks(heap);
});

test('a CPU read begun after a fence failed succeeds even when it shares pages with a read that waited for that fence and failed', async () => {
  const buf = await patternedBuffer(f, SIZE, 5);
  const producer = new DmaFence();
  buf.importSyncFile(producer, 'write');
  const waited = buf.beginCpuAccess(0, 10, 'from-device');
  producer.setError('EIO');
  producer.signal();
  // Called once the fence has failed: it waits for nothing, though the first read's pages are
  // still being set up when it begins.
  const after = buf.beginCpuAccess(0, 10, 'from-device');
  await expect(waited).rejects.toMatchObject({ code: 'EIO' });
  await after;
  const view = buf.kmap(0);
  expect(view.slice(0, 10)).toEqual(shaderPattern(SIZE, 5).subarray(0, 10));
  buf.kunmap(0, view);
  buf.endCpuAccess(0, 10, 'from-device');
  buf.put();
});

test('CPU reads begun together over pages a failed read staged all begin, each once, with the bytes as of their call', async () => {
  const size = 3 * PAGE_SIZE;
  const buf = await patternedBuffer(f, size, 5);
  const producer = new DmaFence();
  buf.importSyncFile(producer, 'write');
  const waited = buf.beginCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
  producer.setError('EIO');
  producer.signal();
  // Each shares page 1 with the failed read, and pages with the others, which are being set
  // up too: the page 1 they share is never staged, the pages they stage themselves are.
  const ranges = [[PAGE_SIZE, 2 * PAGE_SIZE], [0, 2 * PAGE_SIZE], [2 * PAGE_SIZE, PAGE_SIZE]] as const;
  const begins = Promise.all(ranges.map(([start, len]) => buf.beginCpuAccess(start, len, 'from-device')));
  await expect(waited).rejects.toMatchObject({ code: 'EIO' });
  // Begun again without end, they would never settle: a bounded number of round trips, not a clock.
  const state = { settled: false };
  void begins.then(() => (state.settled = true), () => (state.settled = true));
  for (let trip = 0; trip < 50 && !state.settled; trip++) await settledAfterRoundTrip(f.exporter, begins);
  expect(state.settled, 'the begins settled within 50 round trips of the device').toBe(true);
  await begins;
  const want = shaderPattern(size, 5);
  for (const [start, len] of ranges) {
    for (let page = start / PAGE_SIZE; page * PAGE_SIZE < start + len; page++) {
      const view = buf.kmap(page);
      expect(view, `page ${page}`).toEqual(want.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
      buf.kunmap(page, view);
    }
  }
  for (const [start, len] of ranges) buf.endCpuAccess(start, len, 'from-device');
  buf.put();
});

test("a 'bidirectional' CPU range begun beside a write-only range that fails on an imported read fence keeps the page they share", async () => {
  const buf = await patternedBuffer(f, SIZE, 5);
  const reader = new DmaFence();
  buf.importSyncFile(reader, 'read');
  // A write-only range waits as a writer does (for the reader); a 'bidirectional' one enters
  // as a reader and waits for writers only. Both use the page's plain memory, set up by the first.
  const writeOnly = buf.beginCpuAccess(0, 10, 'to-device');
  const both = buf.beginCpuAccess(0, 10, 'bidirectional');
  reader.setError('EIO');
  reader.signal();
  await expect(writeOnly).rejects.toMatchObject({ code: 'EIO' });
  await both;
  const view = buf.kmap(0);
  expect(view.slice(0, 10)).toEqual(shaderPattern(SIZE, 5).subarray(0, 10));
  view.fill(7, 0, 10);
  buf.kunmap(0, view);
  buf.endCpuAccess(0, 10, 'bidirectional');
  const all = await cpuRead(buf);
  expect(all.slice(0, 12)).toEqual(Uint8Array.of(7, 7, 7, 7, 7, 7, 7, 7, 7, 7, ...shaderPattern(SIZE, 5).subarray(10, 12)));
  buf.put();
});

describe("a 'none' map", () => {
  test.each(['exporter', 'importer'] as const)("on the %s's device resolves while a write fence is pending: it waits for no fence", async (which) => {
    const buf = await patternedBuffer(f, SIZE, 5);
    const producer = new DmaFence();
    buf.importSyncFile(producer, 'write');
    const device = which === 'exporter' ? f.exporter : f.importer;
    const attachment = buf.attach(device);
    const mapping = attachment.map('none');
    expect(await settledAfterRoundTrip(device, mapping), "a 'none' map waited for a fence").toBe(true);
    await attachment.unmap(await mapping, 'none');
    buf.detach(attachment);
    producer.signal();
    buf.put();
  });
});
