// Fault injection on real WebGPU: allocation failing half-way through a multi-segment
// buffer, and exporter ops that throw or reject. Device loss on either side is covered in
// test/gpu/faults.browser.test.ts. Every case ends in its documented error, other buffers
// keep their bytes, and nothing leaks.
import { expect, test } from 'vitest';
import { bufinfoEntries, DmaBufError, exportDmaBuf, GpuHeap, PAGE_SIZE, type DmaBufOps } from 'webgpu-dmabuf';
import { heapFixture, expectNoLeaks } from '../gpu/gpu-helpers.js';

const f = heapFixture();

/**
 * The real f.exporter, whose `createBuffer` throws on call number `failAt` (counting from 1):
 * fault injection on a real f.exporter, recording every buffer it did create.
 */
function failingDevice(real: GPUDevice, failAt: number) {
  const created: { buffer: GPUBuffer; destroyed: boolean }[] = [];
  let calls = 0;
  const proxy = new Proxy(real, {
    get(target, key) {
      if (key === 'createBuffer') {
        return (descriptor: GPUBufferDescriptor) => {
          calls += 1;
          if (calls === failAt) throw new RangeError(`injected failure of createBuffer #${calls}`);
          const buffer = target.createBuffer(descriptor);
          const record = { buffer, destroyed: false };
          created.push(record);
          const destroy = buffer.destroy.bind(buffer);
          buffer.destroy = () => {
            record.destroyed = true;
            destroy();
          };
          return buffer;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { device: proxy, created };
}

async function bytesOf(buf: ReturnType<GpuHeap['allocate']>): Promise<Uint8Array> {
  await buf.beginCpuAccess(0, buf.size, 'from-device');
  const view = buf.kmap(0);
  const copy = view.slice();
  buf.kunmap(0, view);
  buf.endCpuAccess(0, buf.size, 'from-device');
  return copy;
}

test('an allocation that fails on its third segment throws ENOMEM and destroys the two made before', async () => {
  const bystander = f.heap.allocate(PAGE_SIZE);
  await bystander.beginCpuAccess(0, PAGE_SIZE, 'to-device');
  bystander.kmap(0).fill(0x42);
  bystander.endCpuAccess(0, PAGE_SIZE, 'to-device');

  const { device: faulty, created } = failingDevice(f.exporter, 3);
  const segmented = new GpuHeap(faulty, { maxSegmentBytes: 64 * 1024 });
  expect(() => segmented.allocate(5 * 64 * 1024)).toThrow(/^ENOMEM: allocate: .*injected failure of createBuffer #3/);
  expect(created).toHaveLength(2);
  expect(created.every((c) => c.destroyed)).toBe(true);
  expect(segmented.stats()).toMatchObject({ liveBuffers: 0, storageBytes: 0 });
  expect(await bytesOf(bystander)).toEqual(new Uint8Array(PAGE_SIZE).fill(0x42));
  bystander.put();
  expectNoLeaks(segmented);
});

test('an out-of-memory that WebGPU reports only later fails the first map and CPU access with ENOMEM; put still releases', async () => {
  // The real f.exporter, except that its error scopes report an out-of-memory for the allocation.
  const oom = new Proxy(f.exporter, {
    get(target, key) {
      if (key === 'popErrorScope') {
        return async () => {
          await target.popErrorScope();
          return new GPUOutOfMemoryError('injected: out of memory');
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const starved = new GpuHeap(oom);
  const buf = starved.allocate(PAGE_SIZE);
  const attachment = buf.attach(f.exporter);
  await expect(attachment.map('to-device')).rejects.toMatchObject({ code: 'ENOMEM' });
  await expect(buf.beginCpuAccess(0, PAGE_SIZE, 'from-device')).rejects.toMatchObject({ code: 'ENOMEM' });
  buf.detach(attachment);
  buf.put();
  expectNoLeaks(starved);
});

/** An honest exporter over an ArrayBuffer whose chosen op fails the chosen way. */
function faultyExporter(failing: keyof DmaBufOps, how: 'throw' | 'reject' | 'refuse') {
  const bytes = new Uint8Array(PAGE_SIZE);
  const calls: string[] = [];
  const fail = () => {
    if (how === 'refuse') throw new DmaBufError('EBUSY', failing, `the exporter refuses`);
    throw new Error(`${failing} broke`);
  };
  const op = <T>(name: keyof DmaBufOps, result: () => T) => (): T => {
    calls.push(name);
    if (name === failing && how !== 'reject') fail();
    return result();
  };
  const asyncOp = <T>(name: keyof DmaBufOps, result: () => T) => (): Promise<T> => {
    calls.push(name);
    if (name === failing) return Promise.reject(how === 'reject' ? new Error(`${name} rejected`) : new Error('unreachable'));
    return Promise.resolve(result());
  };
  const ops: DmaBufOps<{ bytes: Uint8Array }> = {
    attach: op('attach', () => undefined),
    detach: op('detach', () => undefined),
    mapDmaBuf: asyncOp('mapDmaBuf', () => ({ segments: [{ buffer: {} as GPUBuffer, offset: 0, start: 0, length: PAGE_SIZE }] })),
    unmapDmaBuf: op('unmapDmaBuf', () => undefined),
    release: op('release', () => undefined),
    beginCpuAccess: asyncOp('beginCpuAccess', () => undefined),
    endCpuAccess: op('endCpuAccess', () => undefined),
    kmap: op('kmap', () => bytes.subarray(0)),
    kmapAtomic: op('kmapAtomic', () => bytes.subarray(0)),
  };
  return { buf: exportDmaBuf({ priv: { bytes }, ops, size: PAGE_SIZE, exporter: 'faulty' }), calls };
}

test("an exporter's attach that refuses is passed on unchanged, and nothing is recorded", () => {
  const { buf } = faultyExporter('attach', 'refuse');
  expect(() => buf.attach(f.exporter)).toThrow(/^EBUSY: attach: the exporter refuses/);
  expect(bufinfoEntries()[0]?.attachments).toEqual([]);
  buf.put();
});

test("an exporter's map that rejects with a plain Error reaches the caller as EIO and leaves no mapping", async () => {
  const { buf } = faultyExporter('mapDmaBuf', 'reject');
  const attachment = buf.attach(f.exporter);
  await expect(attachment.map('to-device')).rejects.toMatchObject({ code: 'EIO' });
  buf.detach(attachment);
  buf.put();
});

test("an exporter's beginCpuAccess that rejects leaves no range: kmap stays ERANGE", async () => {
  const { buf, calls } = faultyExporter('beginCpuAccess', 'reject');
  await expect(buf.beginCpuAccess(0, PAGE_SIZE, 'from-device')).rejects.toMatchObject({ code: 'EIO' });
  expect(() => buf.kmap(0)).toThrow(/^ERANGE: /);
  expect(calls).not.toContain('kmap');
  buf.put();
});

test("an exporter's kmap that throws becomes EIO and holds no atomic slot", async () => {
  const { buf } = faultyExporter('kmapAtomic', 'throw');
  await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
  for (let i = 0; i < 3; i++) expect(() => buf.kmapAtomic(0)).toThrow(/^EIO: /);
  const heapBuf = f.heap.allocate(PAGE_SIZE);
  await heapBuf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
  const one = heapBuf.kmapAtomic(0);
  const two = heapBuf.kmapAtomic(0);
  heapBuf.kunmapAtomic(0, one);
  heapBuf.kunmapAtomic(0, two);
  heapBuf.endCpuAccess(0, PAGE_SIZE, 'from-device');
  heapBuf.put();
  buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
  buf.put();
});

test("an exporter's release that throws is EIO, and the buffer is released all the same", () => {
  const { buf, calls } = faultyExporter('release', 'throw');
  expect(() => { buf.put(); }).toThrow(/^EIO: put: /);
  expect(buf.released).toBe(true);
  expect(calls.filter((c) => c === 'release')).toHaveLength(1);
  expect(() => { buf.put(); }).toThrow(/^EINVAL: /);
});

test('heap storage is never handed to a faulty exporter: other buffers keep their bytes', async () => {
  const keep = f.heap.allocate(PAGE_SIZE);
  await keep.beginCpuAccess(0, PAGE_SIZE, 'to-device');
  keep.kmap(0).fill(7);
  keep.endCpuAccess(0, PAGE_SIZE, 'to-device');
  const { buf } = faultyExporter('unmapDmaBuf', 'throw');
  const attachment = buf.attach(f.exporter);
  const sgt = await attachment.map('bidirectional');
  await expect(attachment.unmap(sgt, 'bidirectional')).rejects.toMatchObject({ code: 'EIO' });
  buf.detach(attachment);
  buf.put();
  expect(await bytesOf(keep)).toEqual(new Uint8Array(PAGE_SIZE).fill(7));
  keep.put();
});
