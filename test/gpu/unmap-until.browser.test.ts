// An importer that unmaps before its GPU work on the mapping is submitted (a library that holds
// its commands back, as TensorFlow.js does) names a fence with `unmap(sgt, dir, { until })`:
// - until it signals, later writers of the buffers it used wait: the producer's next bytes on
//   the exporter's device, the next map's transfer into a mirror on another device;
// - a mirror it holds is not handed to the next attachment, and releasing the buffer destroys
//   neither the storage nor the mirror under it;
// - an unmap that moves bytes back moves what the importer's work wrote once it signals, and
//   operations called after the unmap see those bytes (or fail with the fence's error).
import { describe, expect, test } from 'vitest';
import { DmaFence, PAGE_SIZE, type GpuDmaBuf, type SgTable } from 'webgpu-dmabuf';
import { expectNoGpuErrors } from '../gpu-errors.js';
import { cpuRead, heapFixture, patternedBuffer, readBytes, readTable, settledAfterRoundTrip, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

const SIZE = 3 * PAGE_SIZE;

/** Work a library has encoded on the mapping but not submitted yet. */
interface HeldWork {
  submit(): void;
  /** Bytes of the library's own buffer (for a held read: what it copied out of the mapping). */
  bytes(): Promise<Uint8Array>;
}

/** A library's read of the whole mapping into a buffer of its own, encoded now and submitted later. */
function heldRead(device: GPUDevice, sgt: SgTable): HeldWork {
  const own = device.createBuffer({ size: SIZE, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  const encoder = device.createCommandEncoder();
  for (const s of sgt.segments) encoder.copyBufferToBuffer(s.buffer, s.offset, own, s.start, s.length);
  const commands = encoder.finish();
  return {
    submit: () => { device.queue.submit([commands]); },
    bytes: async () => {
      const bytes = await readBytes(device, own, 0, SIZE);
      own.destroy();
      return bytes;
    },
  };
}

/** A library's write of `bytes` over the whole mapping, encoded now and submitted later. */
function heldWrite(device: GPUDevice, sgt: SgTable, bytes: Uint8Array): HeldWork {
  const source = device.createBuffer({ size: SIZE, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  device.queue.writeBuffer(source, 0, bytes);
  const encoder = device.createCommandEncoder();
  for (const s of sgt.segments) encoder.copyBufferToBuffer(source, s.start, s.buffer, s.offset, s.length);
  const commands = encoder.finish();
  return {
    submit: () => { device.queue.submit([commands]); },
    bytes: async () => {
      const out = await readBytes(device, source, 0, SIZE);
      source.destroy();
      return out;
    },
  };
}

/** The producer's next frame: `bytes` written through CPU access, which writes back at its end. */
async function cpuWrite(buf: GpuDmaBuf, bytes: Uint8Array): Promise<void> {
  await buf.beginCpuAccess(0, buf.size, 'to-device');
  for (let page = 0; page * PAGE_SIZE < buf.size; page++) {
    const view = buf.kmap(page);
    view.set(bytes.subarray(page * PAGE_SIZE, page * PAGE_SIZE + view.length));
    buf.kunmap(page, view);
  }
  buf.endCpuAccess(0, buf.size, 'to-device');
}

const frame1 = shaderPattern(SIZE, 1);
const frame2 = shaderPattern(SIZE, 2);

describe("unmap('to-device', { until }): the importer still reads the buffers", () => {
  test("on the exporter's device, the producer's next CPU write waits for the fence: work submitted after unmap reads the frame it mapped", async () => {
    const buf = await patternedBuffer(f, SIZE, 1);
    const attachment = buf.attach(f.exporter);
    const sgt = await attachment.map('to-device');
    const library = heldRead(f.exporter, sgt);
    const until = new DmaFence();
    await attachment.unmap(sgt, 'to-device', { until });
    buf.detach(attachment);
    const produced = cpuWrite(buf, frame2);
    expect(await settledAfterRoundTrip(f.exporter, produced)).toBe(false);
    library.submit();
    until.signal();
    await produced;
    expect(await library.bytes()).toEqual(frame1);
    expect(await cpuRead(buf)).toEqual(frame2);
    buf.put();
  });

  test("on another device, the next map's transfer into the mirror waits for the fence: work submitted after unmap reads the frame it mapped", async () => {
    const buf = await patternedBuffer(f, SIZE, 1);
    const attachment = buf.attach(f.importer);
    const sgt = await attachment.map('to-device');
    const library = heldRead(f.importer, sgt);
    const until = new DmaFence();
    await attachment.unmap(sgt, 'to-device', { until });
    await cpuWrite(buf, frame2);
    const next = attachment.map('to-device');
    let nextSettled = false;
    void next.then(() => (nextSettled = true), () => (nextSettled = true));
    // A map of another attachment, called after it, fills a mirror of its own through the same
    // staging reads: once it is done, a transfer that did not wait for the fence would have
    // written the held mirror too.
    const other = buf.attach(f.importer);
    await other.unmap(await other.map('to-device'), 'to-device');
    buf.detach(other);
    expect(await settledAfterRoundTrip(f.importer, next)).toBe(false);
    expect(nextSettled).toBe(false);
    library.submit();
    until.signal();
    expect(await library.bytes()).toEqual(frame1);
    const nextTable = await next;
    expect(await readTable(f.importer, nextTable)).toEqual(frame2);
    await attachment.unmap(nextTable, 'to-device');
    buf.detach(attachment);
    buf.put();
  });

  test('a mirror held by a fence is not handed to the next attachment of a buffer of the same size', async () => {
    const first = await patternedBuffer(f, SIZE, 1);
    const attachment = first.attach(f.importer);
    const sgt = await attachment.map('to-device');
    const library = heldRead(f.importer, sgt);
    const until = new DmaFence();
    await attachment.unmap(sgt, 'to-device', { until });
    first.detach(attachment);
    first.put();
    const second = await patternedBuffer(f, SIZE, 2);
    const other = second.attach(f.importer);
    const otherTable = await other.map('to-device');
    expect(otherTable.segments[0]?.buffer).not.toBe(sgt.segments[0]?.buffer);
    expect(f.heap.stats().mirrorBuffersCreated).toBe(2);
    library.submit();
    until.signal();
    expect(await library.bytes()).toEqual(frame1);
    await other.unmap(otherTable, 'to-device');
    second.detach(other);
    second.put();
  });

  test.each([
    ["the exporter's device", 'exporter'],
    ['another device', 'importer'],
  ] as const)('on %s, releasing the buffer destroys nothing the fence holds: work submitted after the release runs and reads the frame', async (_where, which) => {
    const device = f[which];
    const buf = await patternedBuffer(f, SIZE, 1);
    const attachment = buf.attach(device);
    const sgt = await attachment.map('to-device');
    const library = heldRead(device, sgt);
    const until = new DmaFence();
    await attachment.unmap(sgt, 'to-device', { until });
    buf.detach(attachment);
    buf.put();
    const held = f.heap.stats();
    expect(held.liveBuffers).toBe(0);
    expect(held.storageBytes + held.mirrorBytes).toBeGreaterThan(0);
    library.submit();
    expect(await library.bytes()).toEqual(frame1);
    expectNoGpuErrors();
    until.signal();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(f.heap.stats()).toMatchObject({ storageBytes: 0, mirrorBytes: 0 });
  });
});

describe.each([
  ["the exporter's device", 'exporter'],
  ['another device', 'importer'],
] as const)("unmap('from-device', { until }) on %s: the importer's write is not submitted yet", (_where, which) => {
  test('a CPU read called after the unmap waits for the fence and sees what the importer wrote', async () => {
    const device = f[which];
    const buf = await patternedBuffer(f, SIZE, 1);
    const attachment = buf.attach(device);
    const sgt = await attachment.map('from-device');
    const written = shaderPattern(SIZE, 7);
    const library = heldWrite(device, sgt, written);
    const until = new DmaFence();
    const unmapped = attachment.unmap(sgt, 'from-device', { until });
    const after = cpuRead(buf);
    expect(await settledAfterRoundTrip(f.exporter, after)).toBe(false);
    library.submit();
    until.signal();
    await unmapped;
    expect(await after).toEqual(written);
    await library.bytes();
    buf.detach(attachment);
    buf.put();
  });

  test("a fence that signals with an error fails the operations called after the unmap with its code; the storage keeps its bytes", async () => {
    const device = f[which];
    const buf = await patternedBuffer(f, SIZE, 1);
    const attachment = buf.attach(device);
    const sgt = await attachment.map('from-device');
    const until = new DmaFence();
    const unmapped = attachment.unmap(sgt, 'from-device', { until });
    const after = cpuRead(buf);
    until.setError('EIO');
    until.signal();
    if (which === 'importer') await expect(unmapped).rejects.toMatchObject({ code: 'EIO' });
    else await unmapped;
    await expect(after).rejects.toMatchObject({ code: 'EIO' });
    expect(await cpuRead(buf)).toEqual(frame1);
    buf.detach(attachment);
    buf.put();
  });
});
