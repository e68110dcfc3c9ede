// Operations in flight on one buffer: calls that overlap (not awaited in turn), a release
// with operations in flight, device loss in flight, recycled mirrors and staging, and
// heap.destroy(). Each test is named for the promise it holds and uses only the public API
// on real WebGPU.
//
// Waiting is by promise only: a put "while X is in flight" is issued in the same task as
// X, or after one `onSubmittedWorkDone()` of the exporter when the transfer must be under
// way; either way the runtime must cancel or finish X, whichever it meets.
import { afterEach, describe, expect, test } from 'vitest';
import { GpuHeap, PAGE_SIZE, type GpuDmaBuf, type GpuHeapStats } from 'webgpu-dmabuf';
import { fillWithShader, heapFixture, newDevice, patternedBuffer, readTable, shaderPattern } from '../gpu/gpu-helpers.js';
import { expectNoGpuErrors } from '../gpu-errors.js';

const f = heapFixture({ devicesPerTest: true });

const KiB = 1024;
const MiB = 1024 * KiB;
/** The buffer size of most cases: 64 pages, 64 chunks of a heap with 4 KiB chunks. */
const SIZE = 256 * KiB;

// What the running test holds. When it fails, this is given back (before heapFixture's
// leak check, as afterEach hooks run in reverse order), so that one failure does not
// spread into the leak checks of the tests after it. A passing test gives everything back
// itself; the list is only forgotten then.
const held: (GpuDmaBuf | GpuHeap | GPUDevice)[] = [];

/** Records `thing` as held by the running test, for the clean-up of a failed test; returns it. */
function hold<T extends GpuDmaBuf | GpuHeap | GPUDevice>(thing: T): T {
  held.push(thing);
  return thing;
}

afterEach(({ task }) => {
  const things = held.splice(0);
  if (task.result?.state !== 'fail') return;
  for (const thing of things) {
    try {
      if (thing instanceof GPUDevice) thing.destroy();
      else if (thing instanceof GpuHeap) thing.destroy();
      else while (!thing.released) thing.put();
    } catch {
      // Best effort: the test has failed already and says why.
    }
  }
});

/** A heap's counts once nothing is live and its pools are freed. */
const EMPTY: Partial<GpuHeapStats> = { liveBuffers: 0, storageBytes: 0, mirrorBytes: 0, idleMirrorBytes: 0, stagingBytes: 0 };

/**
 * How `promise` settled, as text: `'resolved'`, or the message of what it rejected with
 * (a DmaBufError's starts with its code). Handles the rejection at once, so a promise
 * looked at only later never counts as unhandled.
 */
function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

/** What `run` threw, or `undefined`. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Waits until each device has run what was submitted to it, then fails on any uncaptured WebGPU error of any device. */
async function expectNoGpuErrorsOn(...devices: GPUDevice[]): Promise<void> {
  await Promise.all(devices.map((device) => device.queue.onSubmittedWorkDone().catch(() => undefined)));
  expectNoGpuErrors();
}

/** Fails unless `actual` holds exactly `expected`, counting the bytes that differ (no diff of 256 KiB). */
function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let differ = 0;
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) differ += 1;
  expect(differ, `${what}: bytes that differ`).toBe(0);
}

/** Bytes `[start, start + len)` (`start` page-aligned) of an active CPU-access range, through kmap page by page. */
function kmapBytes(buf: GpuDmaBuf, start: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let at = start; at < start + len; at += PAGE_SIZE) {
    const page = at / PAGE_SIZE;
    const view = buf.kmap(page);
    out.set(view.subarray(0, Math.min(PAGE_SIZE, start + len - at)), at - start);
    buf.kunmap(page, view);
  }
  return out;
}

/** The buffer's bytes `[0, len)` as the CPU reads them: a `'from-device'` access of its own. */
async function cpuRead(buf: GpuDmaBuf, len: number): Promise<Uint8Array> {
  await buf.beginCpuAccess(0, len, 'from-device');
  const bytes = kmapBytes(buf, 0, len);
  buf.endCpuAccess(0, len, 'from-device');
  return bytes;
}

describe('release while a table is outstanding', () => {
  test('a mirror whose table is outstanding at release is never handed to the next buffer', async () => {
    const x = hold(f.heap.allocate(SIZE));
    const a = x.attach(f.importer);
    const stale = await a.map('to-device');
    // The last reference goes while A still holds its table: the release detaches A.
    x.put();

    const y = hold(await patternedBuffer(f, SIZE, 11));
    const b = y.attach(f.importer);
    const fresh = await b.map('to-device');
    const staleBuffers = new Set(stale.segments.map((segment) => segment.buffer));
    const shared = fresh.segments.filter((segment) => staleBuffers.has(segment.buffer));
    expect(shared.map((segment) => segment.buffer.label), "GPUBuffers of B's table that A's stale table also holds").toEqual([]);
    expectBytes(await readTable(f.importer, fresh), shaderPattern(SIZE, 11), "Y's bytes in B's table");
    await b.unmap(fresh, 'to-device');
    y.detach(b);
    y.put();
  });
});

describe('put while a cross-device map is in flight', () => {
  test('the map fails EINVAL, nothing of the released buffer reaches the next buffer, and no GPU work touches destroyed storage', async () => {
    // 4 KiB chunks: the map's transfer takes 64 round trips, so the put lands in the middle.
    const heap = hold(new GpuHeap(f.exporter, { chunkBytes: 4 * KiB }));
    // Y: zero-filled, the same size, imported by B on the same device as A.
    const y = hold(heap.allocate(SIZE));
    const b = y.attach(f.importer);
    const x = hold(await patternedBuffer({ ...f, heap }, SIZE, 22));
    const a = x.attach(f.importer);
    const mapped = outcome(a.map('to-device'));
    await f.exporter.queue.onSubmittedWorkDone();
    x.put();
    const seen = await b.map('none');
    expect.soft(await mapped, "X's map").toMatch(/^EINVAL: .*released/);
    // Read once X's map has settled: whatever it was still going to write has been written.
    const bytes = await readTable(f.importer, seen);
    expect.soft(bytes.filter((byte) => byte !== 0).length, "non-zero bytes in B's view of zero-filled Y").toBe(0);
    await b.unmap(seen, 'none');
    y.detach(b);
    y.put();
    expect.soft(heap.stats().mirrorBytes, 'mirror bytes with no buffer live').toBe(0);
    await expectNoGpuErrorsOn(f.exporter, f.importer);

    heap.destroy();
    expect(heap.stats()).toMatchObject(EMPTY);
  });

  test('a put in the same task as the map: the map fails EINVAL and leaves no mirror behind', async () => {
    const x = hold(f.heap.allocate(SIZE));
    const a = x.attach(f.importer);
    const mapped = outcome(a.map('to-device'));
    x.put();
    expect.soft(await mapped, "X's map").toMatch(/^EINVAL: .*released/);
    expect.soft(f.heap.stats().mirrorBytes, 'mirror bytes with no buffer live').toBe(0);
    await expectNoGpuErrorsOn(f.exporter, f.importer);
  });
});

describe('call order, whatever the caller awaited', () => {
  test("a beginCpuAccess called right after an unmap('from-device') not yet awaited sees the importer's bytes", async () => {
    const x = hold(f.heap.allocate(SIZE));
    const a = x.attach(f.importer);
    const sgt = await a.map('from-device');
    fillWithShader(f.importer, sgt, 33);
    const unmapped = outcome(a.unmap(sgt, 'from-device'));
    await x.beginCpuAccess(0, SIZE, 'from-device');
    const bytes = kmapBytes(x, 0, SIZE);
    x.endCpuAccess(0, SIZE, 'from-device');
    expectBytes(bytes, shaderPattern(SIZE, 33), 'what the CPU read');
    expect(await unmapped).toBe('resolved');
    x.detach(a);
    x.put();
  });

  test("a map('to-device') on a third device called right after an unmap('from-device') not yet awaited sees the importer's bytes", async () => {
    const third = hold(await newDevice('third'));
    const x = hold(f.heap.allocate(SIZE));
    const a = x.attach(f.importer);
    const c = x.attach(third);
    const sgt = await a.map('from-device');
    fillWithShader(f.importer, sgt, 34);
    const unmapped = outcome(a.unmap(sgt, 'from-device'));
    const table = await c.map('to-device');
    expectBytes(await readTable(third, table), shaderPattern(SIZE, 34), "what the third device's map holds");
    expect(await unmapped).toBe('resolved');
    await c.unmap(table, 'to-device');
    x.detach(c);
    x.detach(a);
    x.put();
    await expectNoGpuErrorsOn(third);
    third.destroy();
  });
});

describe('overlapping CPU ranges over one page', () => {
  const cases = [
    { begun: 'together', ended: ['to-device', 'from-device'] },
    { begun: 'together', ended: ['from-device', 'to-device'] },
    { begun: 'one after the other', ended: ['to-device', 'from-device'] },
    { begun: 'one after the other', ended: ['from-device', 'to-device'] },
  ] as const;

  test.each(cases)("a write through kmap with a 'to-device' and a 'from-device' range open (begun $begun, ended $ended.0 first) lands", async ({ begun, ended }) => {
    const x = hold(f.heap.allocate(2 * PAGE_SIZE));
    if (begun === 'together') {
      await Promise.all([x.beginCpuAccess(0, PAGE_SIZE, 'to-device'), x.beginCpuAccess(0, PAGE_SIZE, 'from-device')]);
    } else {
      await x.beginCpuAccess(0, PAGE_SIZE, 'to-device');
      await x.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    }
    const written = Uint8Array.from({ length: PAGE_SIZE }, (_, i) => (i * 13 + 5) & 0xff);
    const page = x.kmap(0);
    page.set(written);
    x.kunmap(0, page);
    // While the ranges overlap, a kmap of the page is a view of the same staged bytes.
    const again = kmapBytes(x, 0, PAGE_SIZE);
    for (const dir of ended) x.endCpuAccess(0, PAGE_SIZE, dir);

    expectBytes(await cpuRead(x, PAGE_SIZE), written, 'the page after both ranges ended');
    expectBytes(again, written, 'a second kmap while both ranges were open');
    x.put();
  });
});

describe('put while an exporter-side operation is in flight', () => {
  test("a put during an unmap('from-device') submits no GPU work on destroyed storage, and the unmap settles", async () => {
    const x = hold(f.heap.allocate(SIZE));
    const a = x.attach(f.importer);
    const sgt = await a.map('from-device');
    fillWithShader(f.importer, sgt, 55);
    const unmapped = outcome(a.unmap(sgt, 'from-device'));
    x.put();
    expect(await unmapped, 'the unmap').toMatch(/^resolved$|^EINVAL: .*released/);
    await expectNoGpuErrorsOn(f.exporter, f.importer);
  });

  test('a put during a beginCpuAccess submits no GPU work on destroyed storage, and the access settles', async () => {
    const x = hold(f.heap.allocate(SIZE));
    const begun = outcome(x.beginCpuAccess(0, SIZE, 'from-device'));
    x.put();
    expect(await begun, 'the beginCpuAccess').toMatch(/^resolved$|^EINVAL: .*released/);
    await expectNoGpuErrorsOn(f.exporter, f.importer);
  });
});

describe("the exporter's device lost during an importer's unmap('from-device')", () => {
  test.each([
    { label: '256 KiB', size: SIZE },
    { label: '64 MiB', size: 64 * MiB },
  ])('the unmap of $label rejects with ENODEV: its bytes never reached the exporter', async ({ size }) => {
    const x = hold(f.heap.allocate(size));
    const a = x.attach(f.importer);
    const sgt = await a.map('from-device');
    const unmapped = outcome(a.unmap(sgt, 'from-device'));
    f.exporter.destroy();
    expect(await unmapped, 'the unmap').toMatch(/^ENODEV: /);
    x.detach(a);
    x.put();
  });
});

describe('nothing returned to a pool after its device was lost is kept', () => {
  test("a mirror detached after its importer's device was lost is not kept idle", async () => {
    const x = hold(f.heap.allocate(SIZE));
    const a = x.attach(f.importer);
    const sgt = await a.map('to-device');
    await a.unmap(sgt, 'to-device');
    f.importer.destroy();
    await f.importer.lost;
    x.detach(a);
    await expect.poll(() => f.heap.stats().idleMirrorBytes, { message: 'idle mirror bytes' }).toBe(0);
    x.put();
  });

  test("CPU staging given back after the heap's device was lost is not kept", async () => {
    const x = hold(f.heap.allocate(SIZE));
    await x.beginCpuAccess(0, SIZE, 'from-device');
    expect(f.heap.stats().stagingBytes, 'staging of the open range').toBeGreaterThan(0);
    f.exporter.destroy();
    await f.exporter.lost;
    x.endCpuAccess(0, SIZE, 'from-device');
    await expect.poll(() => f.heap.stats().stagingBytes, { message: 'staging bytes' }).toBe(0);
    x.put();
  });
});

describe('heap.destroy()', () => {
  test('refuses with EBUSY while a buffer is live, changing nothing, and succeeds once it is put', () => {
    const heap = hold(new GpuHeap(f.exporter));
    const buf = hold(heap.allocate(PAGE_SIZE));
    expect(thrown(() => { heap.destroy(); })).toMatchObject({ name: 'DmaBufError', code: 'EBUSY' });
    expect(heap.stats()).toMatchObject({ liveBuffers: 1, storageBytes: PAGE_SIZE });
    buf.put();
    heap.destroy();
    expect(heap.stats()).toMatchObject(EMPTY);
  });

  test('frees every idle staging buffer and idle mirror that cross-device maps and CPU accesses left', async () => {
    const heap = hold(new GpuHeap(f.exporter));
    const x = hold(await patternedBuffer({ ...f, heap }, SIZE, 88));
    const a = x.attach(f.importer);
    const sgt = await a.map('bidirectional');
    await a.unmap(sgt, 'bidirectional');
    x.detach(a);
    expectBytes(await cpuRead(x, SIZE), shaderPattern(SIZE, 88), 'the bytes read back');
    // A write-only range beyond 2 MiB stages in MAP_WRITE buffers.
    const big = hold(heap.allocate(4 * MiB));
    await big.beginCpuAccess(0, big.size, 'to-device');
    big.endCpuAccess(0, big.size, 'to-device');
    big.put();
    x.put();
    const filled = heap.stats();
    expect(filled.stagingBytes, 'idle staging before destroy').toBeGreaterThan(0);
    expect(filled.idleMirrorBytes, 'idle mirrors before destroy').toBeGreaterThan(0);

    heap.destroy();
    expect(heap.stats()).toMatchObject(EMPTY);
    await expectNoGpuErrorsOn(f.exporter, f.importer);
  });

  test('a second destroy does nothing, and allocate after destroy fails EINVAL', () => {
    const heap = hold(new GpuHeap(f.exporter));
    heap.destroy();
    expect(thrown(() => { heap.destroy(); }), 'the second destroy').toBeUndefined();
    expect(thrown(() => hold(heap.allocate(PAGE_SIZE)))).toMatchObject({ name: 'DmaBufError', code: 'EINVAL' });
    expect(heap.stats()).toMatchObject(EMPTY);
  });
});
