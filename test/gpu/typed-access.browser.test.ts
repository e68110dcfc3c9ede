// buf.read and buf.write on real WebGPU: whole typed reads and writes of the heap's storage,
// each taking its place in call order when called, among maps on other devices and CPU access.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { GpuHeap, PAGE_SIZE } from 'webgpu-dmabuf';
import { expectNoLeaks, heapFixture, readTable } from './gpu-helpers.js';

const f = heapFixture();

test('writes, reads and a map on another device called without waiting see the bytes of call order', async () => {
  const size = 3 * PAGE_SIZE + 6;
  const buf = f.heap.allocate(size);
  const first = Uint8Array.from({ length: size }, (_, i) => (i * 5 + 1) & 0xff);
  const patch = new Uint8Array(PAGE_SIZE).fill(0xab);
  const importer = buf.attach(f.importer);
  const written = buf.write(first);
  const mapped = importer.map('to-device');
  const read = buf.read(Uint8Array);
  const patched = buf.write(patch, PAGE_SIZE - 3);
  const readAfter = buf.read(Uint8Array);
  await Promise.all([written, patched]);
  const expected = first.slice();
  expected.set(patch, PAGE_SIZE - 3);
  expect(await read).toEqual(first);
  expect(await readAfter).toEqual(expected);
  const sgt = await mapped;
  expect(await readTable(f.importer, sgt)).toEqual(first);
  await importer.unmap(sgt, 'to-device');
  buf.detach(importer);
  buf.put();
});

test("a write lands in the storage, not in the pages of a CPU range open over it: the range sees the storage as of its begin, later reads see the write", async () => {
  const buf = f.heap.allocate(PAGE_SIZE);
  await buf.write(new Uint8Array(PAGE_SIZE).fill(1));
  await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
  await buf.write(new Uint8Array(8).fill(2), 5);
  const view = buf.kmap(0);
  expect(view.subarray(0, 16)).toEqual(new Uint8Array(16).fill(1));
  buf.kunmap(0, view);
  buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
  const after = await buf.read(Uint8Array, 0, 16);
  expect(after).toEqual(Uint8Array.from({ length: 16 }, (_, i) => (i >= 5 && i < 13 ? 2 : 1)));
  buf.put();
});

test('a Float32Array written and read back across segment boundaries comes back equal, and the heap counts the bytes', async () => {
  const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
  const values = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i));
  const buf = heap.allocate(values.byteLength);
  await buf.write(values);
  expect(await buf.read(Float32Array)).toEqual(values);
  expect(await buf.read(Float32Array, 4 * 1020, 8)).toEqual(values.subarray(1020, 1028));
  expect(heap.stats().bytesCopied).toBe(2 * values.byteLength + 32);
  buf.put();
  expectNoLeaks(heap);
});

test('writes and reads at random places, called without waiting and settling in any order, each see the bytes of call order', async () => {
  const size = 2 * PAGE_SIZE + 2;
  await fc.assert(
    fc.asyncProperty(
      fc.scheduler(),
      fc.array(fc.oneof(fc.record({ start: fc.nat(size - 1), fill: fc.integer({ min: 1, max: 255 }), len: fc.integer({ min: 1, max: 700 }) }), fc.constant('read' as const)), { minLength: 2, maxLength: 8 }),
      async (s, steps) => {
        const buf = f.heap.allocate(size);
        const model = new Uint8Array(size);
        const reads: { promise: Promise<Uint8Array>; expected: Uint8Array }[] = [];
        const writes: Promise<void>[] = [];
        const settle = s.scheduleFunction(<T>(promise: Promise<T>) => promise);
        for (const step of steps) {
          if (step === 'read') {
            reads.push({ promise: settle(buf.read(Uint8Array)), expected: model.slice() });
          } else {
            const len = Math.min(step.len, size - step.start);
            writes.push(settle(buf.write(new Uint8Array(len).fill(step.fill), step.start)));
            model.fill(step.fill, step.start, step.start + len);
          }
        }
        await s.waitIdle();
        await Promise.all(writes);
        for (const { promise, expected } of reads) expect(await promise).toEqual(expected);
        expect(await buf.read(Uint8Array)).toEqual(model);
        buf.put();
      },
    ),
    { numRuns: 15 },
  );
});
