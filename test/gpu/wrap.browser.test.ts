// GpuHeap.wrap: a GPUBuffer a library already owns, exported as a dma-buf without a copy. The
// heap's own device maps the buffer itself; other devices and the CPU get its bytes as from
// any buffer of the heap; the owner hears once, at the end, that the dma-buf is done with it,
// and the heap never destroys it.
import { describe, expect, test } from 'vitest';
import { bufinfoEntries, DmaBufError, DmaFence, FdTable, GPU_HEAP_USAGE, PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture, readBytes, readTable } from './gpu-helpers.js';

const f = heapFixture();

const SIZE = 2 * PAGE_SIZE + 8;
const bytes = Uint8Array.from({ length: SIZE }, (_, i) => (i * 11 + 3) & 0xff);

// Buffers the refused wraps were given, destroyed after each such test.
const created: GPUBuffer[] = [];

/** A library's own buffer holding `bytes`. */
function libraryBuffer(usage: GPUBufferUsageFlags = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST): GPUBuffer {
  const buffer = f.exporter.createBuffer({ size: SIZE, usage, label: 'library output' });
  created.push(buffer);
  if (usage & GPUBufferUsage.COPY_DST) f.exporter.queue.writeBuffer(buffer, 0, bytes);
  return buffer;
}

describe('GpuHeap.wrap', () => {
  test("maps the library's buffer itself on the heap's device, and its bytes on another device and the CPU, copying nothing on the heap's device", async () => {
    const own = libraryBuffer();
    const buf = f.heap.wrap(own, { name: 'tensor out' });
    expect(buf.size).toBe(SIZE);
    expect(buf.layout).toEqual({ contiguous: true, align: 1 });
    expect(bufinfoEntries()[0]).toMatchObject({ name: 'tensor out', exporter: 'gpu-heap', size: SIZE });

    const local = buf.attach(f.exporter);
    const sgt = await local.map('to-device');
    expect(sgt.buffer).toBe(own);
    expect(sgt.device).toBe(f.exporter);
    expect(f.heap.stats().bytesCopied).toBe(0);
    await local.unmap(sgt, 'to-device');
    buf.detach(local);

    const remote = buf.attach(f.importer);
    const mirror = await remote.map('to-device');
    expect(mirror.segments).toHaveLength(1);
    expect(mirror.device).toBe(f.importer);
    expect(await readTable(f.importer, mirror)).toEqual(bytes);
    await remote.unmap(mirror, 'to-device');
    buf.detach(remote);

    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const whole = buf.vmap();
    expect(whole).toEqual(bytes);
    buf.vunmap(whole);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
    // Still the library's: the heap did not destroy it.
    expect(await readBytes(f.exporter, own, 0, SIZE)).toEqual(bytes);
    own.destroy();
  });

  test("writes through the dma-buf land in the library's buffer", async () => {
    const own = libraryBuffer();
    const buf = f.heap.wrap(own);
    const writer = buf.attach(f.importer);
    const sgt = await writer.map('from-device');
    const written = bytes.map((b) => b ^ 0xff);
    f.importer.queue.writeBuffer(sgt.buffer, 0, written);
    await writer.unmap(sgt, 'from-device');
    buf.detach(writer);
    buf.put();
    expect(await readBytes(f.exporter, own, 0, SIZE)).toEqual(written);
    own.destroy();
  });

  test('release runs once, after the last reference is put and after a fence named at unmap signals; never before', async () => {
    const own = libraryBuffer();
    const released: string[] = [];
    const buf = f.heap.wrap(own, { release: () => released.push('released') });
    const fds = new FdTable();
    const fd = fds.install(buf);
    const attachment = buf.attach(f.exporter);
    const sgt = await attachment.map('to-device');
    const until = new DmaFence();
    await attachment.unmap(sgt, 'to-device', { until });
    buf.detach(attachment);
    buf.put();
    expect(released).toEqual([]);
    fds.close(fd);
    expect(f.heap.stats().liveBuffers).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(released).toEqual([]);
    until.signal();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(released).toEqual(['released']);
    own.destroy();
  });

  test("an importer on the heap's device may ask at attach only for usage the wrapped buffer has", () => {
    const own = libraryBuffer(GPU_HEAP_USAGE | GPUBufferUsage.VERTEX);
    const buf = f.heap.wrap(own);
    expect(() => buf.attach(f.exporter, { usage: GPUBufferUsage.INDEX })).toThrow(/^EINVAL: attach: usage INDEX is not on the storage/);
    const ok = buf.attach(f.exporter, { usage: GPUBufferUsage.VERTEX });
    buf.detach(ok);
    buf.put();
    own.destroy();
  });

  test('GPU_HEAP_USAGE is the usage every buffer the heap allocates carries', async () => {
    expect(GPU_HEAP_USAGE).toBe(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    const buf = f.heap.allocate(16);
    const attachment = buf.attach(f.exporter);
    const sgt = await attachment.map('none');
    expect(sgt.buffer.usage).toBe(GPU_HEAP_USAGE);
    await attachment.unmap(sgt, 'none');
    buf.detach(attachment);
    buf.put();
  });

  test.each([
    ['something that is not a GPUBuffer', () => ({ size: 16 }), undefined, /^EINVAL: wrap: buffer must be a GPUBuffer itself, got an object$/],
    ['a Proxy of a GPUBuffer', () => new Proxy(libraryBuffer(), {}), undefined, /^EINVAL: wrap: buffer must be a GPUBuffer itself, got an object \(a Proxy or Object\.create of one/],
    ['a buffer without COPY_SRC', () => libraryBuffer(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST), undefined, /^EINVAL: wrap: the buffer's usage .*STORAGE.* lacks COPY_SRC, which the heap needs .*\(create it with GPU_HEAP_USAGE\)$/],
    ['a buffer without STORAGE', () => libraryBuffer(GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST), undefined, /^EINVAL: wrap: the buffer's usage .*UNIFORM.* lacks STORAGE, which the heap needs/],
    ['a mapped buffer', () => {
      const mapped = f.exporter.createBuffer({ size: 16, usage: GPU_HEAP_USAGE, mappedAtCreation: true });
      created.push(mapped);
      return mapped;
    }, undefined, /^EINVAL: wrap: the buffer is mapped; unmap it first$/],
    ['a release that is not a function', () => libraryBuffer(), { release: 'later' }, /^EINVAL: wrap: release must be a function, got "later"/],
    ['a name over 32 bytes', () => libraryBuffer(), { name: 'x'.repeat(33) }, /^EINVAL: wrap: /],
    ['options that are not an object', () => libraryBuffer(), 7, /^EINVAL: wrap: options must be an object/],
  ])('wrap of %s throws EINVAL and exports nothing', (_what, make, options, message) => {
    const candidate = make();
    expect(() => f.heap.wrap(candidate as GPUBuffer, options as never)).toThrow(DmaBufError);
    expect(() => f.heap.wrap(candidate as GPUBuffer, options as never)).toThrow(message);
    expect(f.heap.stats()).toMatchObject({ liveBuffers: 0, storageBytes: 0 });
    expect(bufinfoEntries()).toEqual([]);
    for (const buffer of created.splice(0)) buffer.destroy();
  });

  test('wrap on a destroyed heap throws EINVAL', () => {
    const own = libraryBuffer();
    f.heap.destroy();
    expect(() => f.heap.wrap(own)).toThrow(/^EINVAL: wrap: the heap 'gpu-heap' is destroyed/);
    own.destroy();
  });
});
