// Implicit synchronisation on a real GpuHeap buffer: maps and CPU access wait for the fences
// in the buffer's reservation as the kernel's dma_resv_usage_rw says (a reader for writers, a
// writer for everyone), fences an application imports included; the runtime's own work is
// in the reservation as fences too.
import { describe, expect, test } from 'vitest';
import { DmaFence, gpuFence, PAGE_SIZE } from 'webgpu-dmabuf';
import { fillWithShader, heapFixture, newDevice, patternedBuffer, readTable, settledAfterRoundTrip, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

/** Whether `promise` has settled after a GPU round trip on the exporter. */
const settled = (promise: Promise<unknown>) => settledAfterRoundTrip(f.exporter, promise);

describe('imported fences hold operations back', () => {
  test("a pending 'write' fence holds a reading beginCpuAccess back until it signals", async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 3);
    const producer = new DmaFence();
    buf.importSyncFile(producer, 'write');
    const begin = buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(await settled(begin)).toBe(false);
    producer.signal();
    await begin;
    const view = buf.kmap(0);
    expect(view).toEqual(shaderPattern(PAGE_SIZE, 3));
    buf.kunmap(0, view);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });

  test("a pending 'read' fence holds a writer back but not a reader", async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 4);
    const reader = new DmaFence();
    buf.importSyncFile(reader, 'read');
    const read = buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const write = buf.beginCpuAccess(0, PAGE_SIZE, 'to-device');
    expect(await settled(read)).toBe(true);
    expect(await settled(write)).toBe(false);
    reader.signal();
    await write;
    buf.endCpuAccess(0, PAGE_SIZE, 'to-device');
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });

  test('a fence that signals with an error fails the map waiting for it with that error', async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 5);
    const producer = new DmaFence();
    buf.importSyncFile(producer, 'write');
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    producer.setError('EIO');
    producer.signal();
    await expect(mapping).rejects.toMatchObject({ name: 'DmaBufError', code: 'EIO' });
    // The error is the waiting operation's; later ones go ahead.
    const sgt = await attachment.map('to-device');
    expect(await readTable(f.importer, sgt)).toEqual(shaderPattern(PAGE_SIZE, 5));
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
  });
});

describe('release while operations wait for a fence', () => {
  test('a put stops operations waiting for a fence that never signals: they fail with EINVAL', async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 1);
    buf.importSyncFile(new DmaFence(), 'write');
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    const begin = buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const own = buf.attach(f.exporter);
    const zeroCopy = own.map('from-device');
    buf.put();
    await expect(mapping).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(begin).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(zeroCopy).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('endCpuAccess behind a fence', () => {
  test('a write-back waiting for a fence that signals with an error still lands, and what follows goes on', async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 2);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'to-device');
    const view = buf.kmap(0);
    view.fill(0x5a);
    buf.kunmap(0, view);
    const reader = new DmaFence();
    buf.importSyncFile(reader, 'read');
    buf.endCpuAccess(0, PAGE_SIZE, 'to-device');
    const after = buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    reader.setError('EIO');
    reader.signal();
    await after;
    const seen = buf.kmap(0);
    expect(seen.every((byte) => byte === 0x5a)).toBe(true);
    buf.kunmap(0, seen);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });
});

describe("the runtime's own fences", () => {
  test('every copy out of the storage and every write-back is a fence until its GPU work is done, even with nothing ahead of it', async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 3);
    const begin = buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const readers = buf.exportSyncFile('write');
    expect(readers.signaled).toBe(false);
    expect(buf.exportSyncFile('read').signaled).toBe(true); // a read holds no reader back
    await begin;
    expect(await readers.wait()).toBe(true);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    await buf.beginCpuAccess(0, PAGE_SIZE, 'to-device');
    buf.endCpuAccess(0, PAGE_SIZE, 'to-device');
    const writers = buf.exportSyncFile('read');
    expect(writers.signaled).toBe(false);
    expect(await writers.wait()).toBe(true);
    buf.put();
  });

  test("exportSyncFile('write') includes a cross-device map's read until its copy is done, and is a snapshot", async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 6);
    const holder = new DmaFence();
    buf.importSyncFile(holder, 'write');
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    const beforeWrite = buf.exportSyncFile('write');
    const forReaders = buf.exportSyncFile('read');
    expect(beforeWrite.signaled).toBe(false);
    expect(beforeWrite.unwrap()).toHaveLength(2); // the imported fence and the map's read
    expect(forReaders.unwrap()).toEqual([holder]);
    holder.signal();
    expect(await beforeWrite.wait()).toBe(true);
    const sgt = await mapping;
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    expect(buf.exportSyncFile('rw').signaled).toBe(true);
    buf.put();
  });

  test("a producer that waits for exportSyncFile('write') before overwriting leaves a map called before it the old bytes", async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 7);
    // The producer holds its storage mapped on its own device, as the camera does while it writes a frame.
    const own = buf.attach(f.exporter);
    const storage = await own.map('from-device');
    // A fence ahead of the importer's map keeps it from copying at once.
    const blocker = new DmaFence();
    buf.importSyncFile(blocker, 'write');
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    const wait = buf.exportSyncFile('write').wait();
    blocker.signal();
    await wait;
    fillWithShader(f.exporter, storage, 8);
    await own.unmap(storage, 'from-device');
    buf.detach(own);
    const sgt = await mapping;
    expect(await readTable(f.importer, sgt)).toEqual(shaderPattern(PAGE_SIZE, 7));
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
  });
});

describe('gpuFence', () => {
  test('signals once the work queued so far is done, without an error', async () => {
    const fence = gpuFence(f.exporter);
    expect(await fence.wait()).toBe(true);
    expect(fence.error).toBeUndefined();
  });

  test('signals with ENODEV when the device is lost first', async () => {
    const doomed = await newDevice('doomed');
    doomed.destroy();
    const fence = gpuFence(doomed);
    expect(await fence.wait()).toBe(true);
    expect(fence.error?.code).toBe('ENODEV');
  });

  test('throws EINVAL for something that is not a GPUDevice', () => {
    expect(() => gpuFence({} as GPUDevice)).toThrow(/^EINVAL: gpuFence/);
  });
});
