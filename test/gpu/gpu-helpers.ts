// Helpers for browser tests on real WebGPU: devices of their own, reading and writing
// buffers by hand (raw WebGPU, so the library is checked against something it did not do),
// and the one-line leak check every test ends with.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { bufinfoEntries, GpuHeap, PAGE_SIZE, type DmaBuf, type GpuDmaBuf, type SgTable } from 'webgpu-dmabuf';
import { expectNoGpuErrors } from '../gpu-errors.js';
import { fillWithShader } from './shader-pattern.js';

export { fillWithShader, shaderByte, shaderPattern } from './shader-pattern.js';

/**
 * A device from its own adapter, as an independent module gets one. Its uncaptured WebGPU
 * errors (validation, out-of-memory) fail the test (test/browser-setup.ts).
 */
export async function newDevice(label: string): Promise<GPUDevice> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter: see scripts/chromium.mjs for the flags');
  const device = await adapter.requestDevice({ label });
  device.label = label;
  return device;
}

/** Bytes `[offset, offset + size)` of `buffer` (needs COPY_SRC), read back by hand. */
export async function readBytes(device: GPUDevice, buffer: GPUBuffer, offset: number, size: number): Promise<Uint8Array> {
  const padded = Math.ceil(size / 4) * 4;
  const readback = device.createBuffer({ size: padded, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, readback, 0, padded);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const bytes = new Uint8Array(readback.getMappedRange().slice(0, size));
  readback.destroy();
  return bytes;
}

/** Every byte of a mapped table, in order, read back on `device`. */
export async function readTable(device: GPUDevice, sgt: SgTable): Promise<Uint8Array> {
  const total = sgt.segments.reduce((sum, s) => sum + s.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const segment of sgt.segments) {
    out.set(await readBytes(device, segment.buffer, segment.offset, segment.length), at);
    at += segment.length;
  }
  return out;
}

/**
 * The check every browser test ends with: no WebGPU error, nothing live in the heap, and
 * after `heap.destroy()` not a byte of staging or idle mirrors left.
 */
export function expectNoLeaks(heap: GpuHeap): void {
  expectNoGpuErrors();
  const live = heap.stats();
  expect({ liveBuffers: live.liveBuffers, storageBytes: live.storageBytes, mirrorBytes: live.mirrorBytes }).toEqual({
    liveBuffers: 0,
    storageBytes: 0,
    mirrorBytes: 0,
  });
  heap.destroy();
  const { stagingBytes, idleMirrorBytes } = heap.stats();
  expect({ stagingBytes, idleMirrorBytes }).toEqual({ stagingBytes: 0, idleMirrorBytes: 0 });
}

/** What {@link heapFixture} gives each test: two devices and a heap of its own on the first. */
export interface HeapFixture {
  exporter: GPUDevice;
  importer: GPUDevice;
  heap: GpuHeap;
}

/**
 * Gives every test of the file two devices (each from its own adapter) and a new heap on the
 * exporter's, and ends every test with the checks: no dma-buf of the realm left, no leak in
 * the heap (which is then destroyed), no uncaptured WebGPU error. The devices serve the whole
 * file, as an app's do (a new pair costs more than most tests), and are destroyed after it;
 * `devicesPerTest` gives each test a pair of its own, for files whose tests destroy them.
 */
export function heapFixture(options: { devicesPerTest?: boolean } = {}): HeapFixture {
  const fixture = {} as HeapFixture;
  const devices = async () => {
    fixture.exporter = await newDevice('exporter');
    fixture.importer = await newDevice('importer');
  };
  const destroyDevices = () => {
    fixture.exporter.destroy();
    fixture.importer.destroy();
  };
  if (!options.devicesPerTest) {
    beforeAll(devices);
    afterAll(destroyDevices);
  }
  beforeEach(async () => {
    if (options.devicesPerTest) await devices();
    fixture.heap = new GpuHeap(fixture.exporter);
  });
  afterEach(() => {
    expect(bufinfoEntries()).toEqual([]);
    expectNoLeaks(fixture.heap);
    if (options.devicesPerTest) destroyDevices();
  });
  return fixture;
}

/** A buffer of `size` bytes from the fixture's heap holding the shader pattern of `seed`, written on the exporter. */
export async function patternedBuffer(fixture: HeapFixture, size: number, seed: number): Promise<GpuDmaBuf> {
  const buf = fixture.heap.allocate(size);
  const attachment = buf.attach(fixture.exporter);
  const sgt = await attachment.map('from-device');
  fillWithShader(fixture.exporter, sgt, seed);
  await attachment.unmap(sgt, 'from-device');
  buf.detach(attachment);
  return buf;
}

/**
 * Whether `promise` has settled once `device` has run what was queued and the realm has had a
 * turn: for checking that an operation is held back (by a fence), without a fixed sleep.
 */
export async function settledAfterRoundTrip(device: GPUDevice, promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  await device.queue.onSubmittedWorkDone();
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}

/** Every byte of the buffer as a CPU read called now sees it: a whole-buffer `'from-device'` access, a kmap per page. */
export async function cpuRead(buf: Pick<DmaBuf, 'size' | 'beginCpuAccess' | 'endCpuAccess' | 'kmap' | 'kunmap'>): Promise<Uint8Array> {
  await buf.beginCpuAccess(0, buf.size, 'from-device');
  const all = new Uint8Array(buf.size);
  for (let page = 0; page * PAGE_SIZE < buf.size; page++) {
    const view = buf.kmap(page);
    all.set(view, page * PAGE_SIZE);
    buf.kunmap(page, view);
  }
  buf.endCpuAccess(0, buf.size, 'from-device');
  return all;
}
