// Rule 3 of gpu/cpu-pages.ts at its edges: a reading range begun over pages a writing range
// shares refreshes them from the storage, except the bytes of every writing range active at
// any time since the reading range began (its writes may not have reached the storage that
// the read saw), and only those: a writer that ended before the reading range began counts
// for nothing but the bytes it wrote back. Calls are made in one task where the rule is about
// what is in flight at once.
import { expect, test } from 'vitest';
import { PAGE_SIZE, type GpuDmaBuf } from 'webgpu-dmabuf';
import { fillWithShader, heapFixture, patternedBuffer, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

const SIZE = 3 * PAGE_SIZE;
/** The writer's range: inside page 1. */
const W = { start: PAGE_SIZE + 10, len: 90 } as const;
const W_BYTE = 0xab;

/** The bytes of page `page` as its kmap window shows them now. */
function pageBytes(buf: GpuDmaBuf, page: number): Uint8Array {
  const view = buf.kmap(page);
  const copy = view.slice();
  buf.kunmap(page, view);
  return copy;
}

/** Page `page` of `pattern`, with the writer's bytes over the writer's range. */
function withWriter(pattern: Uint8Array, page: number): Uint8Array {
  const expected = pattern.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  expected.fill(W_BYTE, W.start - page * PAGE_SIZE, W.start + W.len - page * PAGE_SIZE);
  return expected;
}

/** Begins the writer's range `'to-device'` and writes its bytes through page 1's window. */
async function beginWriter(buf: GpuDmaBuf): Promise<void> {
  await buf.beginCpuAccess(W.start, W.len, 'to-device');
  const view = buf.kmap(1);
  view.fill(W_BYTE, W.start - PAGE_SIZE, W.start - PAGE_SIZE + W.len);
  buf.kunmap(1, view);
}

/** Every byte of the buffer as a fresh `'from-device'` range reads it from the storage. */
async function storage(buf: GpuDmaBuf): Promise<Uint8Array> {
  await buf.beginCpuAccess(0, SIZE, 'from-device');
  const all = new Uint8Array(SIZE);
  for (let page = 0; page < 3; page++) all.set(pageBytes(buf, page), page * PAGE_SIZE);
  buf.endCpuAccess(0, SIZE, 'from-device');
  return all;
}

test("a reading range begun while a writer of its pages is open shows the writer's bytes though the writer ends before the read's refresh lands", async () => {
  const pattern = shaderPattern(SIZE, 5);
  const buf = await patternedBuffer(f, SIZE, 5);
  await beginWriter(buf);
  // The read enters first; the writer ends while the read's refresh is in flight: the storage
  // the read saw lacks the writer's bytes, which land only with the writer's write-back.
  const read = buf.beginCpuAccess(0, SIZE, 'from-device');
  buf.endCpuAccess(W.start, W.len, 'to-device');
  await read;
  expect(pageBytes(buf, 1)).toEqual(withWriter(pattern, 1));
  expect(pageBytes(buf, 0)).toEqual(pattern.subarray(0, PAGE_SIZE));
  buf.endCpuAccess(0, SIZE, 'from-device');
  const after = pattern.slice();
  after.fill(W_BYTE, W.start, W.start + W.len);
  expect(await storage(buf)).toEqual(after);
  buf.put();
});

test('a writer that ended before a reading range began is not kept over newer bytes: the range shows what an importer wrote back after that end', async () => {
  const written = shaderPattern(SIZE, 9);
  const buf = await patternedBuffer(f, SIZE, 5);
  const attachment = buf.attach(f.importer);
  const sgt = await attachment.map('from-device');
  fillWithShader(f.importer, sgt, 9);
  await beginWriter(buf);
  // A refresh in flight when the writer ends (so the writer is remembered as ended during it),
  // then the importer's write-back, then a second reading range: all called in one task.
  const first = buf.beginCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
  buf.endCpuAccess(W.start, W.len, 'to-device');
  const unmapped = attachment.unmap(sgt, 'from-device');
  const second = buf.beginCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
  await Promise.all([first, unmapped, second]);
  // Both ranges share page 1: the second refresh (newer) shows the importer's bytes over all of it.
  expect(pageBytes(buf, 1)).toEqual(written.subarray(PAGE_SIZE, 2 * PAGE_SIZE));
  buf.endCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
  buf.endCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
  buf.detach(attachment);
  expect(await storage(buf)).toEqual(written);
  buf.put();
});
