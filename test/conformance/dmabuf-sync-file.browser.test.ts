// Ports of IGT's dma-buf sync-file tests, tests/dmabuf_sync_file.c of igt-gpu-tools
// (drm/igt-gpu-tools; read from the mirror almahallawy/igt-gpu-tools at commit
// 2857fbdd09bab8d6855a87b2118fa90f669c5e63), to `buf.exportSyncFile` / `buf.importSyncFile`
// (DMA_BUF_IOCTL_EXPORT_SYNC_FILE / DMA_BUF_IOCTL_IMPORT_SYNC_FILE) on a real GpuHeap buffer.
// Each test is named after the IGT subtest it ports.
//
// How IGT's helpers map here:
// - vgem_create() + prime_handle_to_fd(): `heap.allocate(4)`, a real GpuHeap buffer of the
//   bo's size (1 x 1 pixel, 32 bpp); close(dmabuf) + gem_close(): `buf.put()`.
// - vgem_fence_attach(fd, &bo, flags): a driver's fence on the buffer. vgem makes a fence on
//   a context of its own (seqno 1) and adds it to the buffer's reservation with
//   dma_resv_add_fence(), as DMA_RESV_USAGE_WRITE with VGEM_FENCE_WRITE, else
//   DMA_RESV_USAGE_READ: `new DmaFence()` and `buf.resv.addFence(fence, 'write' | 'read')`.
//   vgem_fence_signal(): `fence.signal()`.
// - sw_sync_timeline_create() / sw_sync_timeline_inc(tl, n): `new DmaFenceTimeline(name)` /
//   `tl.advance(n)`; dmabuf_import_timeline_fence(dmabuf, flags, tl, seqno), a sw_sync fence
//   at seqno imported with DMA_BUF_IOCTL_IMPORT_SYNC_FILE: `buf.importSyncFile(tl.fence(seqno), flags)`.
// - DMA_BUF_SYNC_READ / _WRITE / _RW: the flags 'read' / 'write' / 'rw'.
// - dmabuf_busy(dmabuf, flags): poll() with a zero timeout on the dma-buf fd, POLLOUT when
//   flags include write, else POLLIN. The kernel's dma_buf_poll() answers from the
//   reservation: POLLIN is ready once the fences of dma_resv_usage_rw(false) (kernel and
//   write) have signalled, POLLOUT once those of dma_resv_usage_rw(true) (kernel, write and
//   read) have. There is no fd to poll: `!buf.resv.testSignaled('write' | 'read')`, the same
//   question asked of the same reservation.
// - sync_file_busy(fd): poll() with a zero timeout on a sync file; "busy" is `fence.wait(0)`
//   answering false. Where IGT asserts a sync file is not busy, this port awaits
//   `fence.wait()` (true once signalled; a fence that never signals fails the test by its
//   timeout). close() of a sync file: nothing, the garbage collector frees.
// - dmabuf_sync_file_busy(dmabuf, flags): export a sync file and ask sync_file_busy of it.
// - igt_require(has_dmabuf_export_sync_file(fd)) and friends: the API is always there.
//
// IGT checks the fences only; it has no second process. The intent of the import-multiple
// descriptions ("They should all block any write operations but not other read operations",
// "... block any read or write operations") is also checked on real operations at the end of
// those two tests: a CPU read (`beginCpuAccess(..., 'from-device')`) and a CPU write
// (`'to-device'`) of the buffer, held back or not as the imported fences say.
import { expect, test } from 'vitest';
import { DmaFence, DmaFenceTimeline, type GpuDmaBuf, type SyncFileFlags } from 'webgpu-dmabuf';
import { heapFixture, settledAfterRoundTrip } from '../gpu/gpu-helpers.js';

const f = heapFixture();

/** The vgem bo: 1 x 1 pixel of 32 bits. */
const BO_SIZE = 4;

/** vgem_create() + prime_handle_to_fd(): a real buffer of the heap, one reference, the caller's. */
function vgemCreate(): GpuDmaBuf {
  return f.heap.allocate(BO_SIZE, { name: 'vgem bo' });
}

/** vgem_fence_attach(fd, &bo, write ? VGEM_FENCE_WRITE : 0): a fence of its own context in the reservation. */
function vgemFenceAttach(buf: GpuDmaBuf, write: boolean): DmaFence {
  const fence = new DmaFence();
  buf.resv.addFence(fence, write ? 'write' : 'read');
  return fence;
}

/** IGT's dmabuf_busy(): a zero-timeout poll on the dma-buf, POLLOUT for write flags, else POLLIN. */
function dmabufBusy(buf: GpuDmaBuf, flags: SyncFileFlags): boolean {
  return !buf.resv.testSignaled(flags === 'read' ? 'write' : 'read');
}

/** IGT's sync_file_busy(): a zero-timeout poll on a sync file. */
async function syncFileBusy(syncFile: DmaFence): Promise<boolean> {
  return !(await syncFile.wait(0));
}

/** IGT's dmabuf_sync_file_busy(): exports a sync file for `flags` and polls it. */
function dmabufSyncFileBusy(buf: GpuDmaBuf, flags: SyncFileFlags): Promise<boolean> {
  return syncFileBusy(buf.exportSyncFile(flags));
}

/** What IGT's `!sync_file_busy(fd)` asks after a signal: the sync file has signalled. */
async function expectSignaled(syncFile: DmaFence): Promise<void> {
  expect(await syncFile.wait()).toBe(true);
}

/** Whether `promise` has settled after a GPU round trip on the exporter. */
const settled = (promise: Promise<unknown>) => settledAfterRoundTrip(f.exporter, promise);

/** The state every step of export-basic and import-basic checks: is each kind of access held back, by poll and by sync file. */
async function expectBusy(buf: GpuDmaBuf, expected: Record<SyncFileFlags, boolean>, flags: readonly SyncFileFlags[] = ['read', 'write', 'rw']): Promise<void> {
  for (const flag of flags) {
    expect(dmabufBusy(buf, flag), `dmabuf_busy(${flag})`).toBe(expected[flag]);
    expect(await dmabufSyncFileBusy(buf, flag), `dmabuf_sync_file_busy(${flag})`).toBe(expected[flag]);
  }
}

const IDLE = { read: false, write: false, rw: false } as const;
const READERS = { read: false, write: true, rw: true } as const;
const WRITER = { read: true, write: true, rw: true } as const;

test('dmabuf_sync_file.c: export-basic', async () => {
  const buf = vgemCreate();
  // IGT asks read and write here (not rw).
  await expectBusy(buf, IDLE, ['read', 'write']);

  let fence = vgemFenceAttach(buf, false);
  await expectBusy(buf, READERS);

  fence.signal();
  await expectBusy(buf, IDLE);

  fence = vgemFenceAttach(buf, true);
  await expectBusy(buf, WRITER);

  fence.signal();
  await expectBusy(buf, IDLE);

  buf.put();
});

test('dmabuf_sync_file.c: export-before-signal', async () => {
  const buf = vgemCreate();
  expect(await dmabufSyncFileBusy(buf, 'read')).toBe(false);
  expect(await dmabufSyncFileBusy(buf, 'write')).toBe(false);

  let fence = vgemFenceAttach(buf, false);
  let readFd = buf.exportSyncFile('read');
  let writeFd = buf.exportSyncFile('write');
  expect(await syncFileBusy(readFd)).toBe(false);
  expect(await syncFileBusy(writeFd)).toBe(true);

  fence.signal();
  await expectSignaled(readFd);
  await expectSignaled(writeFd);

  fence = vgemFenceAttach(buf, true);
  readFd = buf.exportSyncFile('read');
  writeFd = buf.exportSyncFile('write');
  expect(await syncFileBusy(readFd)).toBe(true);
  expect(await syncFileBusy(writeFd)).toBe(true);

  fence.signal();
  await expectSignaled(readFd);
  await expectSignaled(writeFd);

  buf.put();
});

test('dmabuf_sync_file.c: export-multiwait', async () => {
  const buf = vgemCreate();
  // Two readers, each on a context of its own: both stay in the reservation.
  const fence1 = vgemFenceAttach(buf, false);
  const fence2 = vgemFenceAttach(buf, false);

  const syncFile = buf.exportSyncFile('write');

  // Added after the export: not in the snapshot.
  const fence3 = vgemFenceAttach(buf, false);

  expect(await syncFileBusy(syncFile)).toBe(true);

  fence1.signal();
  expect(await syncFileBusy(syncFile)).toBe(true);

  fence2.signal();
  await expectSignaled(syncFile);

  fence3.signal();
  buf.put();
});

test('dmabuf_sync_file.c: export-wait-after-attach', async () => {
  const buf = vgemCreate();
  let readSyncFile = buf.exportSyncFile('read');
  let writeSyncFile = buf.exportSyncFile('write');

  const fence1 = vgemFenceAttach(buf, true);

  // Exported before fence1 was attached: they do not wait for it.
  await expectSignaled(readSyncFile);
  await expectSignaled(writeSyncFile);

  // "These wait on fence1"
  readSyncFile = buf.exportSyncFile('read');
  writeSyncFile = buf.exportSyncFile('write');
  expect(await syncFileBusy(readSyncFile)).toBe(true);
  expect(await syncFileBusy(writeSyncFile)).toBe(true);

  fence1.signal();
  const fence2 = vgemFenceAttach(buf, true);

  // "fence1 has signaled"
  await expectSignaled(readSyncFile);
  await expectSignaled(writeSyncFile);

  // "fence2 has not"
  expect(await dmabufSyncFileBusy(buf, 'read')).toBe(true);
  expect(await dmabufSyncFileBusy(buf, 'write')).toBe(true);

  fence2.signal();
  buf.put();
});

test('dmabuf_sync_file.c: import-basic', async () => {
  const buf = vgemCreate();
  expect(dmabufBusy(buf, 'read')).toBe(false);
  expect(dmabufBusy(buf, 'write')).toBe(false);

  const timeline = new DmaFenceTimeline('import-basic');

  buf.importSyncFile(timeline.fence(1), 'read');
  await expectBusy(buf, READERS);

  timeline.advance(1);
  await expectBusy(buf, IDLE);

  buf.importSyncFile(timeline.fence(2), 'write');
  await expectBusy(buf, WRITER);

  timeline.advance(1);
  await expectBusy(buf, IDLE);

  buf.importSyncFile(timeline.fence(3), 'rw');
  await expectBusy(buf, WRITER);

  timeline.advance(1);
  await expectBusy(buf, IDLE);

  buf.put();
});

/** IGT's test_import_multiple(fd, write), and its description checked on real CPU access. */
async function expectImportMultiple(write: boolean): Promise<void> {
  const buf = vgemCreate();
  expect(dmabufBusy(buf, 'read')).toBe(false);
  expect(dmabufBusy(buf, 'write')).toBe(false);

  // 32 read timelines (ARRAY_SIZE(read_timelines)), each a context of its own.
  const readTimelines = Array.from({ length: 32 }, (_, i) => new DmaFenceTimeline(`read ${i}`));
  for (const timeline of readTimelines) buf.importSyncFile(timeline.fence(1), 'read');

  const writeTimeline = write ? new DmaFenceTimeline('write') : undefined;
  if (writeTimeline) buf.importSyncFile(writeTimeline.fence(1), 'write');

  const readSyncFile = buf.exportSyncFile('read');
  const writeSyncFile = buf.exportSyncFile('write');

  for (let i = readTimelines.length - 1; i >= 0; i--) {
    expect(dmabufBusy(buf, 'read'), `dmabuf_busy(read) with ${i + 1} readers left`).toBe(write);
    expect(await syncFileBusy(readSyncFile), `sync_file_busy(read) with ${i + 1} readers left`).toBe(write);
    expect(dmabufBusy(buf, 'write'), `dmabuf_busy(write) with ${i + 1} readers left`).toBe(true);
    expect(await syncFileBusy(writeSyncFile), `sync_file_busy(write) with ${i + 1} readers left`).toBe(true);

    readTimelines[i]?.advance(1);
  }

  expect(dmabufBusy(buf, 'read')).toBe(write);
  expect(await syncFileBusy(readSyncFile)).toBe(write);
  expect(dmabufBusy(buf, 'write')).toBe(write);
  expect(await syncFileBusy(writeSyncFile)).toBe(write);

  writeTimeline?.advance(1);

  expect(dmabufBusy(buf, 'read')).toBe(false);
  await expectSignaled(readSyncFile);
  expect(dmabufBusy(buf, 'write')).toBe(false);
  await expectSignaled(writeSyncFile);

  // The description, on real operations of the buffer (IGT has none: see top). The same
  // imports again, on fresh timelines; then a CPU read and a CPU write of the whole buffer.
  const readers = Array.from({ length: 32 }, (_, i) => new DmaFenceTimeline(`read again ${i}`));
  for (const timeline of readers) buf.importSyncFile(timeline.fence(1), 'read');
  const writer = write ? new DmaFenceTimeline('write again') : undefined;
  if (writer) buf.importSyncFile(writer.fence(1), 'write');
  const reading = buf.beginCpuAccess(0, BO_SIZE, 'from-device');
  const writing = buf.beginCpuAccess(0, BO_SIZE, 'to-device');
  // Read-only fences do not hold a reader back: it completes while all 32 are pending.
  if (!write) await reading;
  for (const timeline of readers.reverse()) {
    expect(await settled(writing), 'a CPU write while read fences are pending').toBe(false);
    timeline.advance(1);
  }
  if (writer) {
    // With a write fence pending, neither goes ahead.
    expect(await settled(reading), 'a CPU read while the write fence is pending').toBe(false);
    expect(await settled(writing), 'a CPU write while the write fence is pending').toBe(false);
    writer.advance(1);
  }
  await reading;
  await writing;
  const view = buf.kmap(0);
  // A buffer nothing wrote: zeros (the heap zero-fills).
  expect([...view]).toEqual([0, 0, 0, 0]);
  buf.kunmap(0, view);
  buf.endCpuAccess(0, BO_SIZE, 'to-device');
  buf.endCpuAccess(0, BO_SIZE, 'from-device');
  buf.put();
}

test('dmabuf_sync_file.c: import-multiple-read-only', async () => {
  await expectImportMultiple(false);
});

test('dmabuf_sync_file.c: import-multiple-read-write', async () => {
  await expectImportMultiple(true);
});
