// The exporting half the camera and the filter share, on its own: no element, frames offered
// on a plain EventTarget. It publishes frames of the bytes written into them, never writes a
// slot an importer holds, gives a failed slot back, makes a new ring for a new frame size only
// once the old one is given back, and on close takes every frame back and leaves nothing.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries, FdTable } from 'webgpu-dmabuf';
import { FrameEvent } from '../../elements/frame/frame-event.js';
import { FrameExporter } from '../../elements/frame/frame-exporter.js';
import type { FrameLease } from '../../elements/frame/frame-info.js';
import { rgbaFrameLayout } from '../../elements/kernels/frame-layout.js';
import { newDevice } from '../gpu/gpu-helpers.js';
import { expectNoBuffers, nextFrame, readFrame } from './frame-helpers.js';
import { testPicture } from './test-source.js';

const WIDTH = 32;
const HEIGHT = 16;
const SLOTS = 3;
const layout = rgbaFrameLayout(WIDTH, HEIGHT);

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  expectNoBuffers();
});

/** Frame `n`'s picture: the test picture with its first byte set to `n`, so frames differ. */
function picture(n: number, width = WIDTH, height = HEIGHT): Uint8Array {
  const rgba = testPicture(width, height);
  rgba[0] = n;
  return rgba;
}

/** An exporter on a device of the test's own, offering frames on a plain `EventTarget`. */
async function exporter(): Promise<{ exporter: FrameExporter; target: EventTarget; device: GPUDevice; write: (rgba: Uint8Array) => (dst: GPUBufferBinding) => void }> {
  const device = await newDevice('exporter device');
  const target = new EventTarget();
  const it = new FrameExporter(device, { name: 'fx', slots: SLOTS, target });
  cleanup = async () => {
    await it.close();
    expect(it.heapStats).toMatchObject({ liveBuffers: 0, storageBytes: 0, mirrorBytes: 0, stagingBytes: 0, idleMirrorBytes: 0 });
    device.destroy();
  };
  const write = (rgba: Uint8Array) => (dst: GPUBufferBinding) => { device.queue.writeBuffer(dst.buffer, dst.offset ?? 0, rgba); };
  return { exporter: it, target, device, write };
}

/** An importer with a table of its own that keeps every lease it is offered until the test releases it. */
function keeper(target: EventTarget): { table: FdTable; leases: FrameLease[]; stop(): void } {
  const table = new FdTable();
  const leases: FrameLease[] = [];
  const take = (event: Event) => {
    if (event instanceof FrameEvent) leases.push(event.accept(table));
  };
  target.addEventListener(FrameEvent.type, take);
  return {
    table,
    leases,
    stop() {
      target.removeEventListener(FrameEvent.type, take);
      for (const lease of leases) lease.release();
      table.closeAll();
    },
  };
}

test('produce writes a frame into a ring slot and offers it as an fd: its bytes, its FrameInfo, how many took it', async () => {
  const { exporter: it, target, write } = await exporter();
  expect(it.heapStats.liveBuffers).toBe(0);
  const first = nextFrame(target);
  const offered = await it.produce(layout, write(picture(1)));
  expect(offered?.taken).toBe(1);
  const { frame, bytes } = await first;
  expect(frame).toEqual(offered?.frame);
  expect(frame).toMatchObject({ layout, sequence: 1, origin: 1, exporter: 'fx' });
  expect(bytes).toEqual(picture(1));
  // The ring, named after the exporter, from its own heap.
  expect(bufinfoEntries().map((e) => [e.name, e.size, e.exporter])).toEqual([0, 1, 2].map((i) => [`fx frame ${i}`, layout.byteLength, 'fx']));
  expect(it.heapStats.liveBuffers).toBe(SLOTS);

  // A frame made from another exporter's frame carries that one's origin; nobody listening: taken by none.
  const second = nextFrame(target);
  const passed = await it.produce(layout, write(picture(2)), { origin: 7, capturedAt: 1234 });
  expect(passed?.frame).toMatchObject({ sequence: 2, origin: 7, capturedAt: 1234 });
  expect((await second).bytes).toEqual(picture(2));
  expect(await it.produce(layout, write(picture(3)))).toMatchObject({ taken: 0, frame: { sequence: 3, origin: 3 } });
  expect(it.sequence).toBe(3);
  expect(it.leases).toBe(0);
});

test('a slot an importer holds is never written: with every slot held produce offers nothing, and a release frees one', async () => {
  const { exporter: it, target, write } = await exporter();
  const held = keeper(target);
  try {
    for (let n = 1; n <= SLOTS; n++) expect((await it.produce(layout, write(picture(n))))?.taken).toBe(1);
    expect(it.leases).toBe(SLOTS);
    let written = 0;
    const full = await it.produce(layout, (dst) => { written += 1; write(picture(99))(dst); });
    expect(full).toBeUndefined();
    expect(written).toBe(0);
    // The held frames kept their bytes.
    const bytes = await Promise.all(held.leases.map((lease) => readFrame(held.table, lease.fd)));
    expect(bytes).toEqual([1, 2, 3].map((n) => picture(n)));
    // Give the second frame back: the next frame goes into its slot, the others are untouched.
    const [second] = held.leases.splice(1, 1);
    second?.release();
    expect((await it.produce(layout, write(picture(4))))?.frame.sequence).toBe(4);
    expect(held.leases).toHaveLength(SLOTS);
    const after = await Promise.all(held.leases.map((lease) => readFrame(held.table, lease.fd)));
    expect(after).toEqual([1, 3, 4].map((n) => picture(n)));
  } finally {
    held.stop();
  }
});

test('a write that fails gives its slot back unwritten and passes the error on; the next frame goes through', async () => {
  const { exporter: it, target, write } = await exporter();
  await expect(it.produce(layout, () => Promise.reject(new Error('no picture')))).rejects.toThrow('no picture');
  expect(it.sequence).toBe(0);
  const next = nextFrame(target);
  expect((await it.produce(layout, write(picture(5))))?.frame.sequence).toBe(1);
  expect((await next).bytes).toEqual(picture(5));
});

test('a new frame size gets a new ring, made once the old ring is given back', async () => {
  const { exporter: it, target, device, write } = await exporter();
  const held = keeper(target);
  try {
    await it.produce(layout, write(picture(1)));
    const bigger = rgbaFrameLayout(WIDTH * 2, HEIGHT);
    let done = false;
    const resized = it.produce(bigger, write(picture(2, WIDTH * 2, HEIGHT))).then((offered) => { done = true; return offered; });
    // Still waiting for the old ring's frame after a round trip to the GPU: nothing of the new size yet.
    await device.queue.onSubmittedWorkDone();
    expect(done).toBe(false);
    expect(bufinfoEntries().every((e) => e.size === layout.byteLength)).toBe(true);
    held.leases.splice(0).forEach((lease) => { lease.release(); });
    expect((await resized)?.frame.layout).toEqual(bigger);
    expect(it.layout).toEqual(bigger);
    expect(bufinfoEntries().map((e) => e.size)).toEqual(Array<number>(SLOTS).fill(bigger.byteLength));
  } finally {
    held.stop();
  }
});

test('close asks for every frame back, waits for it, and closes the table and destroys the heap: nothing is left', async () => {
  const { exporter: it, target, write } = await exporter();
  const table = new FdTable();
  let kept: FrameLease | undefined;
  // An importer that keeps its frame (as a view keeps the one on screen) until the exporter asks for it.
  target.addEventListener(FrameEvent.type, (event) => {
    if (!(event instanceof FrameEvent)) return;
    const lease = event.accept(table);
    kept = lease;
    lease.signal.addEventListener('abort', () => { lease.release(); });
  });
  await it.produce(layout, write(picture(1)));
  expect(kept?.signal.aborted).toBe(false);
  expect(it.table.openFds()).toHaveLength(SLOTS);
  const closing = it.close();
  expect(it.close()).toBe(closing);
  await closing;
  expect(kept?.signal.aborted).toBe(true);
  expect(table.openFds()).toEqual([]);
  expect(it.table.openFds()).toEqual([]);
  expectNoBuffers();
  expect(it.heapStats).toMatchObject({ liveBuffers: 0, storageBytes: 0, stagingBytes: 0 });
  await expect(it.produce(layout, write(picture(2)))).rejects.toThrow('closed');
});
