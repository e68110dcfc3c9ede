// The upload path on real WebGPU: each size class of each device goes by the path its
// measurement chose (an injected one here, so the choice is known), the transfers of maps and
// unmaps follow it, both paths land exact bytes at odd offsets and sizes, and uploads by
// either path keep call order with the buffer's other writes. Counts, never times.
import { describe, expect, test } from 'vitest';
import { DmaBufError, GpuHeap, PAGE_SIZE, type GpuDmaBuf } from 'webgpu-dmabuf';
import { setUploadMeasurement, STAGING_MARGIN, UPLOAD_CLASS_BYTES, uploadClass, uploadMeasurementDone, uploadPaths, type UploadMeasurement, type UploadPath } from '../../gpu/upload-path.js';
import { expectNoLeaks, heapFixture, newDevice, readTable } from './gpu-helpers.js';

const f = heapFixture();
const KiB = 1024;
const MiB = 1024 * KiB;

/** A measurement under which the classes marked `'staging'` go by staging and the others by `writeBuffer`. */
function measurementFor(paths: readonly UploadPath[]): UploadMeasurement {
  return { writeBuffer: paths.map((p) => (p === 'staging' ? 1 : 2)), staging: paths.map((p) => (p === 'staging' ? 2 : 1)) };
}

/** Distinct bytes for `size` bytes: no two neighbouring bytes, words or pages alike. */
function pattern(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let k = 0; k < size; k++) bytes[k] = (k * 7 + seed * 13 + (k >> 8)) & 0xff;
  return bytes;
}

/** Checks that `actual` holds `expected`'s bytes, naming the first that differs (a deep equal of MiBs is slow). */
function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const differs = actual.findIndex((b, k) => b !== expected[k]);
  expect(differs, `${what}: the first byte that differs`).toBe(-1);
}

/** What `device`'s uploads counted since `before`. */
function countsSince(device: GPUDevice, before: ReturnType<typeof uploadPaths>) {
  const now = uploadPaths(device);
  return { writeBufferCalls: now.writeBufferCalls - before.writeBufferCalls, stagingBuffersCreated: now.stagingBuffersCreated - before.stagingBuffersCreated };
}

/** Maps `buf` on the importer 'to-device' and returns what its mirror holds. */
async function mirrorBytes(buf: GpuDmaBuf): Promise<Uint8Array> {
  const attachment = buf.attach(f.importer);
  const sgt = await attachment.map('to-device');
  const bytes = await readTable(f.importer, sgt);
  await attachment.unmap(sgt, 'to-device');
  buf.detach(attachment);
  return bytes;
}

describe('the choice per size class', () => {
  test('each class goes by staging where the injected measurement has it at least STAGING_MARGIN times faster, else by writeBuffer', () => {
    expect(STAGING_MARGIN).toBe(1.25);
    setUploadMeasurement(f.importer, { writeBuffer: [5, 1, 4, 4], staging: [1, 5, 4.99, 5] });
    const report = uploadPaths(f.importer);
    expect(report.source).toBe('injected');
    expect(report.classes).toEqual([
      { maxBytes: 64 * KiB, path: 'write-buffer' },
      { maxBytes: MiB, path: 'staging' },
      { maxBytes: 16 * MiB, path: 'write-buffer' },
      { maxBytes: Number.POSITIVE_INFINITY, path: 'staging' },
    ]);
    expect(report.measurement).toEqual({ writeBuffer: [5, 1, 4, 4], staging: [1, 5, 4.99, 5] });
    setUploadMeasurement(f.importer, { writeBuffer: [0, 0, 0, 0], staging: [0, 1, 0, 1] });
    expect(uploadPaths(f.importer).classes.map((c) => c.path), 'no rate at all keeps writeBuffer').toEqual(['write-buffer', 'staging', 'write-buffer', 'staging']);
  });

  test('a size belongs to the first class whose bound it does not pass', () => {
    expect([1, 64 * KiB, 64 * KiB + 4, MiB, MiB + 4, 16 * MiB, 16 * MiB + 4].map(uploadClass)).toEqual([0, 0, 1, 1, 2, 2, 3]);
    expect(UPLOAD_CLASS_BYTES).toHaveLength(4);
  });

  test('setUploadMeasurement refuses what is not a device or not one rate per class', () => {
    const call = (device: unknown, measurement: unknown) => () => { setUploadMeasurement(device as GPUDevice, measurement as UploadMeasurement); };
    expect(call({}, measurementFor(['staging', 'staging', 'staging', 'staging']))).toThrow(DmaBufError);
    expect(call(f.importer, null)).toThrow(/^EINVAL: setUploadMeasurement: measurement must be an object/);
    expect(call(f.importer, { writeBuffer: [1, 1, 1], staging: [1, 1, 1, 1] })).toThrow(/^EINVAL: setUploadMeasurement: measurement.writeBuffer must be 4 finite numbers/);
    expect(call(f.importer, { writeBuffer: [1, 1, 1, 1], staging: [1, Number.NaN, 1, 1] })).toThrow(/^EINVAL: setUploadMeasurement: measurement.staging must be 4 finite numbers/);
    expect(call(f.importer, { writeBuffer: [1, 1, 1, 1], staging: [1, -1, 1, 1] })).toThrow(/measurement.staging/);
  });
});

describe('transfers follow the choice of their destination device', () => {
  test.each([
    { size: 64 * KiB, cls: 0, name: 'up to 64 KiB' },
    { size: 64 * KiB + 4, cls: 1, name: 'up to 1 MiB' },
    { size: MiB + 4, cls: 2, name: 'up to 16 MiB' },
  ])('a map of $size bytes to another device uploads by the path of its class ($name), and the mirror holds the bytes', async ({ size, cls }) => {
    for (const path of ['staging', 'write-buffer'] as const) {
      const paths: UploadPath[] = ['write-buffer', 'write-buffer', 'write-buffer', 'write-buffer'];
      paths[cls] = path;
      setUploadMeasurement(f.importer, measurementFor(paths));
      const buf = f.heap.allocate(size);
      const bytes = pattern(size, cls);
      await buf.write(bytes);
      const before = uploadPaths(f.importer);
      expectBytes(await mirrorBytes(buf), bytes, `the mirror by ${path}`);
      expect(countsSince(f.importer, before), `${path} for class ${cls}`).toEqual(path === 'staging' ? { writeBufferCalls: 0, stagingBuffersCreated: 1 } : { writeBufferCalls: 1, stagingBuffersCreated: 0 });
      buf.put();
    }
  });

  test('an unmap writes the importer\'s bytes back into the storage by the path of the heap\'s device', async () => {
    const size = 200 * KiB + 3;
    for (const path of ['staging', 'write-buffer'] as const) {
      setUploadMeasurement(f.exporter, measurementFor(['write-buffer', path, 'write-buffer', 'write-buffer']));
      setUploadMeasurement(f.importer, measurementFor(['write-buffer', 'write-buffer', 'write-buffer', 'write-buffer']));
      const buf = f.heap.allocate(size);
      const attachment = buf.attach(f.importer);
      const sgt = await attachment.map('from-device');
      const bytes = pattern(size, 9);
      const segment = sgt.segments[0];
      if (!segment) throw new Error('no segment');
      f.importer.queue.writeBuffer(segment.buffer, 0, bytes, 0, size - 3);
      // The last bytes off the word, by hand: the mirror's padding is the importer's own.
      const tail = new Uint8Array(4);
      tail.set(bytes.subarray(size - 3));
      f.importer.queue.writeBuffer(segment.buffer, size - 3, tail);
      const before = uploadPaths(f.exporter);
      await attachment.unmap(sgt, 'from-device');
      expectBytes(await buf.read(Uint8Array), bytes, `the storage by ${path}`);
      expect(countsSince(f.exporter, before).stagingBuffersCreated, path).toBe(path === 'staging' ? 1 : 0);
      buf.detach(attachment);
      buf.put();
    }
  });

  test('staged chunks land exact across segments and chunks at odd sizes', async () => {
    setUploadMeasurement(f.importer, measurementFor(['staging', 'staging', 'staging', 'staging']));
    // Segments of 64 KiB and chunks of 100 KiB: each chunk's upload is cut at segment bounds that fall inside it.
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 64 * KiB, chunkBytes: 100 * KiB });
    const size = 300 * KiB + 5;
    const buf = heap.allocate(size);
    const bytes = pattern(size, 4);
    await buf.write(bytes);
    const before = uploadPaths(f.importer);
    expectBytes(await mirrorBytes(buf), bytes, 'the mirror');
    expect(countsSince(f.importer, before)).toEqual({ writeBufferCalls: 0, stagingBuffersCreated: 4 });
    buf.put();
    expectNoLeaks(heap);
  });
});

describe('CPU writes follow the choice of the heap\'s device', () => {
  test.each(['staging', 'write-buffer'] as const)('a CPU write-back and a typed write upload by %s when their class says so, bytes exact at odd offsets', async (path) => {
    setUploadMeasurement(f.exporter, measurementFor([path, 'write-buffer', 'write-buffer', 'write-buffer']));
    const size = 5 * PAGE_SIZE + 3;
    const buf = f.heap.allocate(size);
    const expected = new Uint8Array(size);
    // A write-only range over plain memory, ending off a word: its write-back is one upload of class 0 and a word patch.
    const rangeStart = PAGE_SIZE + 1;
    const rangeLen = 3 * PAGE_SIZE + 6;
    let before = uploadPaths(f.exporter);
    await buf.beginCpuAccess(rangeStart, rangeLen, 'to-device');
    const written = pattern(rangeLen, 2);
    for (let page = 1; page <= 4; page++) {
      const view = buf.kmap(page);
      const from = Math.max(rangeStart, page * PAGE_SIZE);
      const to = Math.min(rangeStart + rangeLen, (page + 1) * PAGE_SIZE);
      view.set(written.subarray(from - rangeStart, to - rangeStart), from - page * PAGE_SIZE);
      buf.kunmap(page, view);
    }
    buf.endCpuAccess(rangeStart, rangeLen, 'to-device');
    expected.set(written, rangeStart);
    expect(countsSince(f.exporter, before), 'the write-back').toEqual(path === 'staging' ? { writeBufferCalls: 0, stagingBuffersCreated: 1 } : { writeBufferCalls: 1, stagingBuffersCreated: 0 });
    before = uploadPaths(f.exporter);
    const typed = pattern(2 * PAGE_SIZE + 1, 3);
    await buf.write(typed, 3 * PAGE_SIZE - 2);
    expected.set(typed, 3 * PAGE_SIZE - 2);
    expect(countsSince(f.exporter, before), 'the typed write').toEqual(path === 'staging' ? { writeBufferCalls: 0, stagingBuffersCreated: 1 } : { writeBufferCalls: 1, stagingBuffersCreated: 0 });
    expectBytes(await buf.read(Uint8Array), expected, 'the storage');
    buf.put();
  });
});

describe('call order', () => {
  test('writes and unmaps that overlap land in call order whichever path each takes', async () => {
    const size = 128 * KiB + 2;
    // The unmap's upload is class 1 (staging); the writes are small.
    setUploadMeasurement(f.exporter, measurementFor(['write-buffer', 'staging', 'write-buffer', 'write-buffer']));
    const buf = f.heap.allocate(size);
    const attachment = buf.attach(f.importer);
    const sgt = await attachment.map('from-device');
    const segment = sgt.segments[0];
    if (!segment) throw new Error('no segment');
    const fromImporter = pattern(size + 2, 5);
    f.importer.queue.writeBuffer(segment.buffer, 0, fromImporter);
    const first = pattern(3001, 6);
    const last = pattern(777, 7);
    const before = uploadPaths(f.exporter);
    // Not awaited one by one: each takes its place at its call.
    const done = Promise.all([buf.write(first, 1001), attachment.unmap(sgt, 'from-device'), buf.write(last, 64 * KiB + 3)]);
    await done;
    const expected = fromImporter.slice(0, size);
    expected.set(last, 64 * KiB + 3);
    expectBytes(await buf.read(Uint8Array), expected, 'the storage');
    expect(countsSince(f.exporter, before).stagingBuffersCreated).toBe(1);
    buf.detach(attachment);
    buf.put();
  });
});

describe('the measurement', () => {
  test('a device that only uploads up to the smallest class measures nothing: its uploads go by writeBuffer', async () => {
    const device = await newDevice('small uploads only');
    try {
      const heap = new GpuHeap(f.exporter);
      const buf = heap.allocate(64 * KiB);
      const bytes = pattern(64 * KiB, 3);
      await buf.write(bytes);
      const attachment = buf.attach(device);
      const sgt = await attachment.map('to-device');
      expect(await readTable(device, sgt)).toEqual(bytes);
      expect(uploadPaths(device)).toMatchObject({ source: 'default', writeBufferCalls: 1, stagingBuffersCreated: 0 });
      await attachment.unmap(sgt, 'to-device');
      buf.detach(attachment);
      buf.put();
      expectNoLeaks(heap);
    } finally {
      device.destroy();
    }
  });

  test('a device measures both paths once, at its first upload larger than the smallest class, and its classes follow what it measured', async () => {
    const device = await newDevice('measured');
    try {
      expect(uploadPaths(device).source).toBe('default');
      const heap = new GpuHeap(f.exporter);
      const buf = heap.allocate(64 * KiB + 4);
      const bytes = pattern(64 * KiB + 4, 1);
      await buf.write(bytes);
      const attachment = buf.attach(device);
      const sgt = await attachment.map('to-device');
      expect(uploadPaths(device).source).toBe('measuring');
      await uploadMeasurementDone(device);
      const report = uploadPaths(device);
      expect(report.source).toBe('measured');
      const measurement = report.measurement;
      if (!measurement) throw new Error('no measurement');
      expect(report.classes.map((c) => c.path)).toEqual(measurement.writeBuffer.map((w, k) => ((measurement.staging[k] ?? 0) >= STAGING_MARGIN * w ? 'staging' : 'write-buffer')));
      // The measurement's own uploads are not counted: only the map's one.
      expect(report.writeBufferCalls + report.stagingBuffersCreated).toBe(1);
      await attachment.unmap(sgt, 'to-device');
      const again = await attachment.map('to-device');
      expect(await readTable(device, again)).toEqual(bytes);
      expect(uploadPaths(device), 'the second map measures nothing again').toMatchObject({ source: 'measured', measurement });
      expect(uploadPaths(device).measurement).toBe(measurement);
      await attachment.unmap(again, 'to-device');
      buf.detach(attachment);
      buf.put();
      expectNoLeaks(heap);
    } finally {
      device.destroy();
    }
  });

  test('a measurement injected while the device measures is the one its uploads follow', async () => {
    const device = await newDevice('injected while measuring');
    try {
      const heap = new GpuHeap(f.exporter);
      const buf = heap.allocate(64 * KiB + 4);
      const attachment = buf.attach(device);
      const sgt = await attachment.map('to-device');
      expect(uploadPaths(device).source).toBe('measuring');
      const injected = measurementFor(['staging', 'write-buffer', 'staging', 'write-buffer']);
      setUploadMeasurement(device, injected);
      await uploadMeasurementDone(device);
      expect(uploadPaths(device)).toMatchObject({ source: 'injected', measurement: injected });
      expect(uploadPaths(device).classes.map((c) => c.path)).toEqual(['staging', 'write-buffer', 'staging', 'write-buffer']);
      await attachment.unmap(sgt, 'to-device');
      buf.detach(attachment);
      buf.put();
      expectNoLeaks(heap);
    } finally {
      device.destroy();
    }
  });
});
