// Overlapping CPU-access ranges, every pair of directions: what the second range's windows
// show, and what the buffer holds after both end, in either order (the table under
// "Ordering: overlapping calls" in the README, and the DOC block of gpu/cpu-pages.ts).
import { describe, expect, test } from 'vitest';
import { DmaFence, PAGE_SIZE, type DmaDirection, type GpuDmaBuf } from 'webgpu-dmabuf';
import { fillWithShader, heapFixture, patternedBuffer, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

const SIZE = 3 * PAGE_SIZE;
/** A: pages 0 to 2, unaligned at both ends. B: inside A, over pages 1 and 2. */
const A = { start: 100, len: 2 * PAGE_SIZE } as const;
const B = { start: PAGE_SIZE + 50, len: PAGE_SIZE } as const;
const DIRECTIONS: DmaDirection[] = ['from-device', 'to-device', 'bidirectional', 'none'];
const reads = (dir: DmaDirection) => dir === 'from-device' || dir === 'bidirectional';
const writes = (dir: DmaDirection) => dir === 'to-device' || dir === 'bidirectional';
const inside = (i: number, r: { start: number; len: number }) => i >= r.start && i < r.start + r.len;
const aByte = (i: number) => (i * 13 + 1) & 0xff;
const bByte = (i: number) => (i * 29 + 7) & 0xff;

/** Visits every byte of `range` through kmap windows. */
function visit(buf: GpuDmaBuf, range: { start: number; len: number }, at: (view: Uint8Array, index: number, offset: number) => void): void {
  const end = range.start + range.len;
  for (let page = Math.floor(range.start / PAGE_SIZE); page * PAGE_SIZE < end; page++) {
    const view = buf.kmap(page);
    for (let i = Math.max(range.start, page * PAGE_SIZE); i < Math.min(end, (page + 1) * PAGE_SIZE); i++) at(view, i - page * PAGE_SIZE, i);
    buf.kunmap(page, view);
  }
}

/** Overwrites the storage on the exporter's own device with the shader pattern of `seed`. */
async function deviceWrite(buf: GpuDmaBuf, seed: number): Promise<void> {
  const attachment = buf.attach(f.exporter);
  const sgt = await attachment.map('from-device');
  fillWithShader(f.exporter, sgt, seed);
  await attachment.unmap(sgt, 'from-device');
  buf.detach(attachment);
}

const pairs = DIRECTIONS.flatMap((a) => DIRECTIONS.flatMap((b) => [true, false].map((aEndsFirst) => [a, b, aEndsFirst] as const)));

describe('two overlapping CPU ranges (A begun, the storage rewritten, then B begun inside A)', () => {
  test.each(pairs)("A '%s', B '%s' (A ends first: %s): B's windows and the bytes after both end", async (dirA, dirB, aEndsFirst) => {
    const before = shaderPattern(SIZE, 5);
    const after = shaderPattern(SIZE, 9);
    const buf = await patternedBuffer(f, SIZE, 5);
    await buf.beginCpuAccess(A.start, A.len, dirA);
    if (writes(dirA)) visit(buf, A, (view, k, i) => (view[k] = aByte(i)));
    await deviceWrite(buf, 9);
    await buf.beginCpuAccess(B.start, B.len, dirB);

    // What B shows: its own read of the storage, except where A writes (the CPU's bytes);
    // a B that reads nothing shows what A staged.
    const shown = new Uint8Array(B.len);
    visit(buf, B, (view, k, i) => (shown[i - B.start] = view[k] ?? -1));
    const expectedShown = Uint8Array.from({ length: B.len }, (_, k) => {
      const i = B.start + k;
      if (writes(dirA)) return aByte(i);
      if (reads(dirB)) return after[i] ?? 0;
      return dirA === 'from-device' ? (before[i] ?? 0) : 0;
    });
    expect(shown).toEqual(expectedShown);

    if (writes(dirB)) visit(buf, B, (view, k, i) => (view[k] = bByte(i)));
    const ends = [() => { buf.endCpuAccess(A.start, A.len, dirA); }, () => { buf.endCpuAccess(B.start, B.len, dirB); }];
    for (const end of aEndsFirst ? ends : ends.reverse()) end();

    // Each range that writes writes back exactly its bytes as the shared pages hold them.
    const expected = Uint8Array.from(after, (value, i) => {
      if (writes(dirB) && inside(i, B)) return bByte(i);
      if (writes(dirA) && inside(i, A)) return aByte(i);
      return value;
    });
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const final = new Uint8Array(SIZE);
    visit(buf, { start: 0, len: SIZE }, (view, k, i) => (final[i] = view[k] ?? -1));
    buf.endCpuAccess(0, SIZE, 'from-device');
    expect(final).toEqual(expected);
    buf.put();
  });
});

/** Every byte of `range` as its kmap windows show it now. */
function shownBytes(buf: GpuDmaBuf, range: { start: number; len: number }): Uint8Array {
  const shown = new Uint8Array(range.len);
  visit(buf, range, (view, k, i) => (shown[i - range.start] = view[k] ?? -1));
  return shown;
}

describe('refreshes of shared pages (rule 3): a reading range sees every write-back called before it', () => {
  // An importer on another device writes the buffer while pages 1 and 2 stay staged; two reads
  // begun in one task then refresh those pages, each over its own part. Whichever refresh is
  // applied last, each page shows the bytes its own newest read saw.
  test.each([
    ['pages 0-1 then page 2', [{ start: 0, len: 2 * PAGE_SIZE }, { start: 2 * PAGE_SIZE, len: PAGE_SIZE }]],
    ['page 2 then pages 0-1', [{ start: 2 * PAGE_SIZE, len: PAGE_SIZE }, { start: 0, len: 2 * PAGE_SIZE }]],
    ['pages 1-2 then page 1', [{ start: PAGE_SIZE, len: 2 * PAGE_SIZE }, { start: PAGE_SIZE, len: PAGE_SIZE }]],
  ] as const)("two 'from-device' reads begun in one task over parts of a staged range (%s) both show the importer's write", async (_name, reads) => {
    const written = shaderPattern(SIZE, 9);
    const buf = await patternedBuffer(f, SIZE, 5);
    const staged = { start: PAGE_SIZE, len: 2 * PAGE_SIZE };
    await buf.beginCpuAccess(staged.start, staged.len, 'from-device');

    const attachment = buf.attach(f.importer);
    const sgt = await attachment.map('from-device');
    fillWithShader(f.importer, sgt, 9);
    await attachment.unmap(sgt, 'from-device');
    buf.detach(attachment);

    await Promise.all(reads.map((r) => buf.beginCpuAccess(r.start, r.len, 'from-device')));
    for (const r of reads) expect(shownBytes(buf, r)).toEqual(written.subarray(r.start, r.start + r.len));
    expect(shownBytes(buf, staged)).toEqual(written.subarray(staged.start, staged.start + staged.len));

    for (const r of [...reads, staged]) buf.endCpuAccess(r.start, r.len, 'from-device');
    buf.put();
  });
});

describe('writing ranges during a refresh (rule 3): their CPU bytes stay, and only theirs', () => {
  const page0 = { start: 0, len: PAGE_SIZE } as const;

  test("a 'to-device' range that ends while a 'from-device' read over its page is under way keeps its CPU bytes in that read's windows", async () => {
    const buf = await patternedBuffer(f, SIZE, 5);
    await buf.beginCpuAccess(page0.start, page0.len, 'to-device');
    visit(buf, page0, (view, k) => (view[k] = 0xaa));
    // The read copies the storage before the write-back, called after it, lands there.
    const read = buf.beginCpuAccess(page0.start, page0.len, 'from-device');
    buf.endCpuAccess(page0.start, page0.len, 'to-device');
    await read;
    expect(shownBytes(buf, page0)).toEqual(new Uint8Array(PAGE_SIZE).fill(0xaa));
    buf.endCpuAccess(page0.start, page0.len, 'from-device');

    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const expected = shaderPattern(SIZE, 5).fill(0xaa, 0, PAGE_SIZE);
    expect(shownBytes(buf, { start: 0, len: SIZE })).toEqual(expected);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test("a read begun after a 'to-device' range ended shows an importer's write called between that end and the read, not the range's CPU bytes", async () => {
    const buf = await patternedBuffer(f, SIZE, 5);
    const attachment = buf.attach(f.importer);
    const sgt = await attachment.map('from-device');
    fillWithShader(f.importer, sgt, 9);
    await buf.beginCpuAccess(page0.start, page0.len, 'to-device');
    visit(buf, page0, (view, k) => (view[k] = 0xaa));
    // In call order: a read (under way while the range ends), the end, the importer's write, a second read.
    const first = buf.beginCpuAccess(page0.start, page0.len, 'from-device');
    buf.endCpuAccess(page0.start, page0.len, 'to-device');
    const unmapped = attachment.unmap(sgt, 'from-device');
    const second = buf.beginCpuAccess(page0.start, page0.len, 'from-device');
    await Promise.all([first, unmapped, second]);
    expect(shownBytes(buf, page0)).toEqual(shaderPattern(SIZE, 9).subarray(0, PAGE_SIZE));
    buf.endCpuAccess(page0.start, page0.len, 'from-device');
    buf.endCpuAccess(page0.start, page0.len, 'from-device');
    buf.detach(attachment);
    buf.put();
  });
});

describe('refreshes that finish out of call order (rule 3)', () => {
  const BIG = 4 * 1024 * 1024;
  /** Pages 2 on: a write-only range over 2 MiB, so in MAP_WRITE staging that is mapped only once a pending reader lets it. */
  const held = { start: 2 * PAGE_SIZE, len: BIG - 2 * PAGE_SIZE } as const;
  /** Pages 0 to 2: a read over it shares the held range's span, so its refresh waits for that span. */
  const slow = { start: 0, len: 3 * PAGE_SIZE } as const;

  test("an older read's refresh applied after a newer read's leaves the newer bytes on the page both refreshed", async () => {
    const buf = await patternedBuffer(f, BIG, 5);
    // The producer keeps its storage mapped on its own device and writes it when it likes.
    const own = buf.attach(f.exporter);
    const storage = await own.map('from-device');
    await buf.beginCpuAccess(0, 2 * PAGE_SIZE, 'from-device');
    const reader = new DmaFence();
    buf.importSyncFile(reader, 'read');
    const writing = buf.beginCpuAccess(held.start, held.len, 'to-device');
    const older = buf.beginCpuAccess(slow.start, slow.len, 'from-device');
    fillWithShader(f.exporter, storage, 9);
    const newer = { start: 0, len: PAGE_SIZE } as const;
    await buf.beginCpuAccess(newer.start, newer.len, 'from-device');
    const written = shaderPattern(PAGE_SIZE, 9);
    expect(shownBytes(buf, newer)).toEqual(written);

    reader.signal();
    await Promise.all([writing, older]);
    expect(shownBytes(buf, newer)).toEqual(written);

    buf.endCpuAccess(newer.start, newer.len, 'from-device');
    buf.endCpuAccess(slow.start, slow.len, 'from-device');
    buf.endCpuAccess(held.start, held.len, 'to-device');
    buf.endCpuAccess(0, 2 * PAGE_SIZE, 'from-device');
    await own.unmap(storage, 'from-device');
    buf.detach(own);
    buf.put();
  });

  test("a 'to-device' range that ends while two reads over its pages are under way keeps its CPU bytes, whichever read finishes first", async () => {
    const buf = await patternedBuffer(f, BIG, 5);
    await buf.beginCpuAccess(0, 2 * PAGE_SIZE, 'from-device');
    const cpu = { start: 0, len: 64 } as const;
    await buf.beginCpuAccess(cpu.start, cpu.len, 'to-device');
    visit(buf, cpu, (view, k) => (view[k] = 0xaa));
    const reader = new DmaFence();
    buf.importSyncFile(reader, 'read');
    const writing = buf.beginCpuAccess(held.start, held.len, 'to-device');
    const older = buf.beginCpuAccess(slow.start, slow.len, 'from-device');
    // Page 1 only: not held, so it finishes first.
    const newer = { start: PAGE_SIZE, len: PAGE_SIZE } as const;
    const first = buf.beginCpuAccess(newer.start, newer.len, 'from-device');
    buf.endCpuAccess(cpu.start, cpu.len, 'to-device');
    await first;

    reader.signal();
    await Promise.all([writing, older]);
    expect(shownBytes(buf, cpu)).toEqual(new Uint8Array(cpu.len).fill(0xaa));

    buf.endCpuAccess(newer.start, newer.len, 'from-device');
    buf.endCpuAccess(slow.start, slow.len, 'from-device');
    buf.endCpuAccess(held.start, held.len, 'to-device');
    buf.endCpuAccess(0, 2 * PAGE_SIZE, 'from-device');
    buf.put();
  });
});
