// A buffer's segment layout crosses realms with its fd: a worker's mirror of a page buffer
// allocated with `segmentAlign` keeps its segment boundaries on multiples of the alignment,
// and a contiguous buffer larger than one segment can be on the worker's device is refused
// at attach with ENOMEM, as an importer in the page would be, and so is an attachment that asks
// for one buffer (`contiguous` at attach) of a buffer past that limit. Each realm has its own device
// on a real adapter; no bytes move (maps in 'none').
import { afterEach, expect, test } from 'vitest';
import { FdTable, GpuHeap, type GpuDmaBuf } from 'webgpu-dmabuf';
import { expectNoLeaks } from '../gpu/gpu-helpers.js';
import { agentFixture, startAgent } from './agent.js';

let device: GPUDevice | undefined;
let heap: GpuHeap | undefined;

// Registered before the agent fixture's: hooks run last-registered first, so this one runs
// once the worker is stopped and every buffer of the page is gone.
afterEach(() => {
  if (heap) expectNoLeaks(heap);
  device?.destroy();
  heap = undefined;
  device = undefined;
});

const agents = agentFixture();
const { table } = agents;

const MiB = 1024 * 1024;
/** The worker's device has the default binding limit: a buffer past it needs two segments there. */
const DEFAULT_BINDING = 128 * MiB;

/** A heap on a page device whose binding limit is raised to `binding` bytes. */
async function pageHeap(binding: number): Promise<GpuHeap> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter: see scripts/chromium.mjs for the flags');
  device = await adapter.requestDevice({ label: 'page exporter', requiredLimits: { maxStorageBufferBindingSize: binding, maxBufferSize: binding } });
  heap = new GpuHeap(device);
  return heap;
}

/** Sends `buf` (giving the caller's reference to the page's table) to a new worker: its fd there. */
async function sendToWorker(buf: GpuDmaBuf): Promise<{ call: <T>(command: string, args: Record<string, unknown>) => Promise<T>; theirs: number }> {
  const fd = table.install(buf);
  buf.put();
  const agent = agents.use(await startAgent(new FdTable()));
  const theirs = agent.call<number>('receive');
  await agent.socket.send(table, fd);
  table.close(fd);
  return { call: (command, args) => agent.call(command, args), theirs: await theirs };
}

interface MapLayout {
  layout: { contiguous: boolean; align: number };
  segments: { start: number; length: number }[];
  limit: number;
}

test("a worker's mirror of a buffer allocated with segmentAlign cuts its segments on multiples of the alignment", async () => {
  const align = 12;
  const size = DEFAULT_BINDING + 4096;
  const buf = (await pageHeap(DEFAULT_BINDING)).allocate(size, { segmentAlign: align });
  const { call, theirs } = await sendToWorker(buf);
  const { layout, segments, limit } = await call<MapLayout>('map-layout', { fd: theirs });
  expect(limit).toBe(DEFAULT_BINDING);
  expect(layout).toEqual({ contiguous: false, align });
  expect(segments.length).toBeGreaterThan(1);
  for (const segment of segments) expect(segment.start % align, `the segment at ${segment.start}`).toBe(0);
  expect(segments.reduce((sum, s) => sum + s.length, 0)).toBe(size);
});

test('a contiguous buffer larger than one segment on the worker\'s device is refused at attach there with ENOMEM', async () => {
  const size = DEFAULT_BINDING + 4096;
  const buf = (await pageHeap(2 * DEFAULT_BINDING)).allocate(size, { contiguous: true });
  const { call, theirs } = await sendToWorker(buf);
  await expect(call('map-layout', { fd: theirs })).rejects.toThrow(/^ENOMEM: attach: a contiguous buffer of 134221824 bytes does not fit one segment/);
});

test("a worker's attachment that asks for one buffer of a buffer larger than one segment can be there is refused with ENOMEM; without asking, its mirror has two segments", async () => {
  const size = DEFAULT_BINDING + 4096;
  const buf = (await pageHeap(2 * DEFAULT_BINDING)).allocate(size);
  const { call, theirs } = await sendToWorker(buf);
  await expect(call('map-layout', { fd: theirs, contiguous: true })).rejects.toThrow(/^ENOMEM: attach: a contiguous buffer of 134221824 bytes does not fit one segment/);
  const { segments } = await call<MapLayout>('map-layout', { fd: theirs });
  expect(segments).toHaveLength(2);
});
