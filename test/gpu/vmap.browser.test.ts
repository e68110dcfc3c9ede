// vmap on a real GpuHeap buffer: one contiguous view of the whole buffer while CPU access
// covers it, bytes exact at odd sizes and across storage segments, nested calls counted,
// detached at endCpuAccess, ERANGE when the buffer is not covered or not staged in one piece.
import { describe, expect, test } from 'vitest';
import { GpuHeap, PAGE_SIZE } from 'webgpu-dmabuf';
import { expectNoLeaks, heapFixture, patternedBuffer, readTable, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

describe('vmap', () => {
  test.each([[1], [4097], [3 * PAGE_SIZE + 13]])("of a 'from-device' range over all %i bytes shows exactly the buffer's bytes", async (size) => {
    const buf = await patternedBuffer(f, size, 21);
    await buf.beginCpuAccess(0, size, 'from-device');
    const view = buf.vmap();
    expect(view.length).toBe(size);
    expect(view).toEqual(shaderPattern(size, 21));
    buf.vunmap(view);
    buf.endCpuAccess(0, size, 'from-device');
    buf.put();
  });

  test('reads and writes across storage segments in one view, copying the buffer once each way', async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    const size = 5 * 4096 + 7;
    const buf = heap.allocate(size);
    const before = heap.stats().bytesCopied;
    await buf.beginCpuAccess(0, size, 'bidirectional');
    expect(heap.stats().bytesCopied - before).toBe(size + 1); // the cover, rounded up to a word
    const view = buf.vmap();
    expect(view.every((byte) => byte === 0)).toBe(true);
    view.set(shaderPattern(size, 4));
    buf.vunmap(view);
    buf.endCpuAccess(0, size, 'bidirectional');
    const attachment = buf.attach(f.exporter);
    const sgt = await attachment.map('to-device');
    expect(sgt.segments.length).toBe(6);
    expect(await readTable(f.exporter, sgt)).toEqual(shaderPattern(size, 4));
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
    expectNoLeaks(heap);
  });

  test("writes through a 'to-device' range land exactly, and nothing else changes", async () => {
    const size = 2 * PAGE_SIZE + 3;
    const buf = await patternedBuffer(f, size, 9);
    await buf.beginCpuAccess(0, size, 'to-device');
    const view = buf.vmap();
    view.fill(0x77);
    buf.vunmap(view);
    buf.endCpuAccess(0, size, 'to-device');
    await buf.beginCpuAccess(0, size, 'from-device');
    const check = buf.vmap();
    expect(check.every((byte) => byte === 0x77)).toBe(true);
    buf.vunmap(check);
    buf.endCpuAccess(0, size, 'from-device');
    buf.put();
  });

  test('nested calls return the same view and count; each vunmap pairs one vmap', async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 2);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const one = buf.vmap();
    const two = buf.vmap();
    expect(two).toBe(one);
    buf.vunmap(one);
    expect(one.length).toBe(PAGE_SIZE); // one vmap still outstanding
    buf.vunmap(two);
    expect(() => { buf.vunmap(one); }).toThrow(/^EINVAL: vunmap/);
    expect(() => { buf.vunmap(new Uint8Array(PAGE_SIZE)); }).toThrow(/^EINVAL: vunmap/);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });

  test('the view is detached when CPU access stops covering the buffer, and cannot be ended after', async () => {
    const buf = await patternedBuffer(f, PAGE_SIZE, 2);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const view = buf.vmap();
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(view.length).toBe(0);
    expect(() => { buf.vunmap(view); }).toThrow(/^EINVAL: vunmap/);
    buf.put();
  });

  // Pages are staged once and shared (rule 1): a whole-buffer range begun over pages another
  // range staged reuses them, so the buffer is in pieces for as long as that range is active.
  test('a whole-buffer range begun first gives one piece for vmap, whatever begins after it; begun second, vmap is ERANGE while it is active', async () => {
    const size = 2 * PAGE_SIZE;
    const buf = await patternedBuffer(f, size, 2);
    await buf.beginCpuAccess(0, size, 'from-device');
    await buf.beginCpuAccess(PAGE_SIZE, 10, 'from-device');
    const view = buf.vmap();
    expect(view.length).toBe(size);
    buf.vunmap(view);
    buf.endCpuAccess(PAGE_SIZE, 10, 'from-device');
    buf.endCpuAccess(0, size, 'from-device');

    await buf.beginCpuAccess(PAGE_SIZE, 10, 'from-device');
    await buf.beginCpuAccess(0, size, 'from-device');
    expect(() => buf.vmap()).toThrow(/^ERANGE: vmap: the buffer's 8192 bytes are staged in more than one piece/);
    buf.endCpuAccess(PAGE_SIZE, 10, 'from-device');
    expect(() => buf.vmap(), 'still in two pieces while the whole-buffer range is active').toThrow(/^ERANGE: vmap/);
    buf.endCpuAccess(0, size, 'from-device');
    await buf.beginCpuAccess(0, size, 'from-device');
    buf.vunmap(buf.vmap());
    buf.endCpuAccess(0, size, 'from-device');
    buf.put();
  });

  test('ERANGE without CPU access over the whole buffer, and when two ranges stage it in two pieces', async () => {
    const size = 2 * PAGE_SIZE;
    const buf = await patternedBuffer(f, size, 2);
    expect(() => buf.vmap()).toThrow(/^ERANGE: vmap/);
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(() => buf.vmap()).toThrow(/^ERANGE: vmap/);
    await buf.beginCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
    expect(() => buf.vmap()).toThrow(/^ERANGE: vmap: the buffer's 8192 bytes are staged in more than one piece/);
    buf.endCpuAccess(PAGE_SIZE, PAGE_SIZE, 'from-device');
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
    expect(() => buf.vmap()).toThrow(/^EINVAL: vmap/);
  });
});
