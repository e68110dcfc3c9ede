// Ports of the kernel's dma-buf heap self-tests, tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c
// (torvalds/linux at commit 42d112c38548a8eae6f539d13cc4391de97572c3), to GpuHeap, the stock
// exporter (a dma-heap of real GPUBuffers). The length check comes from the heap core,
// drivers/dma-buf/dma-heap.c (commit b3b4346544b571c96d46be615b9db69a601ce4c8):
// dma_heap_buffer_alloc() returns -EINVAL when the page-aligned length is 0. Each test is
// named after the kernel case it ports.
//
// How the selftest's calls map here:
// - dmabuf_heap_open("/dev/dma_heap/<name>"): a `GpuHeap` (the fixture's, on the exporter's
//   device); the selftest runs every case on every heap in /dev/dma_heap, here there is one kind.
// - dmabuf_heap_alloc(heap_fd, len, heap_flags, &fd) (DMA_HEAP_IOCTL_ALLOC): `heap.allocate(len,
//   { usage })`: `usage` (the GPUBufferUsage flags an importer needs beyond the heap's own) is
//   what heap_flags are to a kernel heap, the only allocation flags there are; `close(fd)` is `buf.put()`.
// - mmap() + DMA_BUF_IOCTL_SYNC(START | RW) ... (END | RW): `beginCpuAccess(0, len, dir)`,
//   `kmap` page by page, `endCpuAccess`; munmap(): the kunmaps. The sync flags are the
//   direction: RW is 'bidirectional', write only 'to-device', read only 'from-device'.
// - The importer (vgem in test_alloc_and_import): an attachment on the fixture's second device.
//
// Not ported: test_alloc_and_import (an allocation CPU-written, imported by vgem, CPU-written
// again: what test/gpu's CPU-access and device-access tests do on this heap), and
// test_alloc_compat (the ioctl's argument structure shorter or longer than the kernel's): a
// call here takes an options object (a missing option takes its default, an unknown key is
// ignored), there is no structure size.
import { expect, test } from 'vitest';
import { bufinfoEntries, FdTable, GpuHeap, PAGE_SIZE, type FdOptions, type GpuAllocateOptions, type GpuDmaBuf } from 'webgpu-dmabuf';
import { expectNoLeaks, heapFixture, readTable } from '../gpu/gpu-helpers.js';

/** Item `i` of `list`, which must have one there. */
function nth<T>(list: readonly T[], i: number): T {
  const item = list[i];
  if (item === undefined) throw new Error(`no item ${i} in a list of ${list.length}`);
  return item;
}

const f = heapFixture();

const ONE_MEG = 1024 * 1024;

/** How many buffers test_alloc_zeroed fills, then allocates again. */
const BUFFERS = 32;

/** Fills every byte of `buf` with `value` through a write-only CPU access (DMA_BUF_SYNC_START, memset, END). */
async function cpuFill(buf: GpuDmaBuf, value: number): Promise<void> {
  await buf.beginCpuAccess(0, buf.size, 'to-device');
  for (let page = 0; page * PAGE_SIZE < buf.size; page++) {
    const view = buf.kmap(page);
    view.fill(value);
    buf.kunmap(page, view);
  }
  buf.endCpuAccess(0, buf.size, 'to-device');
}

/** Offset of the first byte of `bytes` that is not `value`, or -1 ("Allocated buffer not zeroed @ %i"). */
function firstNot(bytes: Uint8Array, value: number): number {
  return bytes.findIndex((b) => b !== value);
}

/** Every byte of `buf` as a CPU access of `dir` shows it, page by page through kmap. */
async function cpuRead(buf: GpuDmaBuf, dir: 'from-device' | 'to-device' | 'bidirectional'): Promise<Uint8Array> {
  await buf.beginCpuAccess(0, buf.size, dir);
  const out = new Uint8Array(buf.size);
  for (let page = 0; page * PAGE_SIZE < buf.size; page++) {
    const view = buf.kmap(page);
    out.set(view, page * PAGE_SIZE);
    buf.kunmap(page, view);
  }
  buf.endCpuAccess(0, buf.size, dir);
  return out;
}

test.each([
  ['4k', 4 * 1024],
  ['1M', ONE_MEG],
])('dmabuf-heap.c: test_alloc_zeroed (%s buffers)', async (_label, size) => {
  // "Allocate and fill a bunch of buffers": 0xff through CPU access, as the selftest's memset
  // under DMA_BUF_IOCTL_SYNC. The memset is a write-only access here (its window is plain
  // memory the heap reuses); reading the bytes back through a 'bidirectional' one (RW, as
  // the selftest's sync flags) leaves them in the heap's pooled MAP_READ staging too. Beyond
  // the selftest, each buffer is also mapped on the importer's device (its mirror then holds
  // the 0xff bytes): every kind of memory the heap keeps for reuse has held another buffer's
  // bytes when the new buffers come.
  const filled: GpuDmaBuf[] = [];
  for (let i = 0; i < BUFFERS; i++) {
    const buf = f.heap.allocate(size);
    filled.push(buf);
    await cpuFill(buf, 0xff);
    expect(firstNot(await cpuRead(buf, 'bidirectional'), 0xff), `buffer ${i} holds 0xff (CPU)`).toBe(-1);
  }
  const attachments = filled.map((buf) => buf.attach(f.importer));
  const tables = await Promise.all(attachments.map((a) => a.map('to-device')));
  for (const [i, sgt] of tables.entries()) {
    // The fill landed (else the second half proves nothing).
    expect(firstNot(await readTable(f.importer, sgt), 0xff), `buffer ${i} holds 0xff (importer)`).toBe(-1);
  }
  await Promise.all(attachments.map((a, i) => a.unmap(nth(tables, i), 'to-device')));
  for (const [i, buf] of filled.entries()) {
    const attachment = attachments[i];
    if (attachment) buf.detach(attachment);
  }
  const mirrorsBefore = f.heap.stats().mirrorBuffersCreated;
  // "close them all"
  for (const buf of filled) buf.put();
  expect(f.heap.stats().liveBuffers).toBe(0);

  // "Allocate and validate all buffers are zeroed", all 32 alive at once as in the selftest.
  const fresh = Array.from({ length: BUFFERS }, () => f.heap.allocate(size));
  for (const [i, buf] of fresh.entries()) {
    // Through staging: a reading CPU access (pooled MAP_READ staging that held 0xff) ...
    expect(firstNot(await cpuRead(buf, 'from-device'), 0), `buffer ${i}, 'from-device' CPU access`).toBe(-1);
    // ... and a write-only one, whose window is plain memory the heap reuses: it must not
    // show another buffer's bytes either (it shows zeros or this buffer's own).
    expect(firstNot(await cpuRead(buf, 'to-device'), 0), `buffer ${i}, 'to-device' CPU access`).toBe(-1);
  }
  // Through mirrors on the importer's device: a 'from-device' map copies nothing in, so the
  // mirror shows what it held unless the heap cleared it (idle mirrors are reused); a
  // 'to-device' map copies the storage in.
  const freshAttachments = fresh.map((buf) => buf.attach(f.importer));
  const outward = await Promise.all(freshAttachments.map((a) => a.map('from-device')));
  for (const [i, sgt] of outward.entries()) {
    expect(firstNot(await readTable(f.importer, sgt), 0), `buffer ${i}, 'from-device' map on the importer`).toBe(-1);
  }
  // Some of the 32 mirrors were idle ones that held 0xff: the clearing was exercised.
  expect(f.heap.stats().mirrorBuffersCreated - mirrorsBefore).toBeLessThan(BUFFERS);
  await Promise.all(freshAttachments.map((a, i) => a.unmap(nth(outward, i), 'from-device')));
  const inward = await Promise.all(freshAttachments.map((a) => a.map('to-device')));
  for (const [i, sgt] of inward.entries()) {
    expect(firstNot(await readTable(f.importer, sgt), 0), `buffer ${i}, 'to-device' map on the importer`).toBe(-1);
  }
  await Promise.all(freshAttachments.map((a, i) => a.unmap(nth(inward, i), 'to-device')));
  for (const [i, buf] of fresh.entries()) {
    const attachment = freshAttachments[i];
    if (attachment) buf.detach(attachment);
    // "close them all"
    buf.put();
  }
});

test('dmabuf-heap.c: test_alloc_errors', () => {
  // What maps to what (each kernel case expects the allocation to fail and no fd to appear;
  // DMA_HEAP_IOCTL_ALLOC answers -EINVAL for bad flags, ours is EINVAL for each):
  // 1. dmabuf_heap_alloc(0, ONE_MEG, 0x111111, &fd), "invalid fd": fd 0 is no heap. Ours: a
  //    heap that is no longer one, destroyed.
  // 2. dmabuf_heap_alloc(heap_fd, ONE_MEG, 0x111111, &fd), "invalid heap flags": usage flags
  //    0x111111 (bits no GPUBufferUsage has), and also MAP_READ / MAP_WRITE (real flags a
  //    storage buffer cannot have: flags this heap does not support).
  // 3. dmabuf_heap_alloc_fdflags(heap_fd, ONE_MEG, ~(O_RDWR | O_CLOEXEC), 0, &fd), "invalid fd
  //    flags": the flags of the fd the allocation installs. Ours: allocate returns a buffer,
  //    the fd comes from FdTable.install(buf, { cloexec }); cloexec is O_CLOEXEC (every fd here
  //    is read-write, O_RDWR has no counterpart), and a malformed one is EINVAL with no fd made.
  // 4. Beyond the selftest, dma_heap_buffer_alloc(): a length of 0 is -EINVAL.
  const dead = new GpuHeap(f.exporter, { name: 'dead' });
  dead.destroy();
  expect(() => dead.allocate(ONE_MEG, { usage: 0x111111 })).toThrow(/^EINVAL: allocate/);
  expect(() => dead.allocate(ONE_MEG)).toThrow(/^EINVAL: allocate/);
  expectNoLeaks(dead);

  for (const usage of [0x111111, GPUBufferUsage.MAP_READ, GPUBufferUsage.MAP_WRITE, GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE]) {
    const options: GpuAllocateOptions = { usage };
    expect(() => f.heap.allocate(ONE_MEG, options), `usage ${usage.toString(16)}`).toThrow(/^EINVAL: allocate/);
  }

  const table = new FdTable();
  const buf = f.heap.allocate(ONE_MEG);
  for (const bad of [1, 'yes', null]) {
    const options = { cloexec: bad } as unknown as FdOptions;
    expect(() => table.install(buf, options), `cloexec ${String(bad)}`).toThrow(/^EINVAL: install/);
  }
  // No fd appeared and no reference was taken.
  expect(buf.refCount).toBe(1);
  buf.put();

  expect(() => f.heap.allocate(0)).toThrow(/^EINVAL: allocate/);

  // Nothing was allocated by any failed call.
  expect(f.heap.stats()).toMatchObject({ liveBuffers: 0, storageBytes: 0 });
  expect(bufinfoEntries()).toEqual([]);
  // The heap still allocates with good arguments (the errors left it working).
  const good = f.heap.allocate(ONE_MEG, { usage: GPUBufferUsage.VERTEX });
  expect(good.size).toBe(ONE_MEG);
  good.put();
});
