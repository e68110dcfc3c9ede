// The ONNX Runtime adapter ('webgpu-dmabuf/onnxruntime') on real WebGPU, with ONNX Runtime
// Web's WebGPU execution provider on its own device and the producer on another device (a
// mirror) or on ONNX Runtime's (zero-copy): a producer's frame as an input tensor, a small
// model built by the test (MatMul + Add + Relu + ReduceSum) equal to ONNX Runtime's wasm (CPU)
// execution provider, an output kept on the GPU read back through its dma-buf, the copies
// counted (none on ONNX Runtime's device), and the lifetime rule: a run whose work reading the
// tensor is not yet submitted when the tensor is disposed, or a run while it lives, computes on
// the frame it was made from, never on the producer's next one.
import * as ort from 'onnxruntime-web/webgpu';
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { bufinfoEntries, FdTable, GpuHeap, type DmaBuf, type GpuDmaBuf } from 'webgpu-dmabuf';
import { exportTensor, importTensor, onnxruntimeAdapterStats } from 'webgpu-dmabuf/onnxruntime';
import { expectNoLeaks, heapFixture, settledAfterRoundTrip } from '../gpu/gpu-helpers.js';
import { expectClose as expectCloseWithin } from './expect-close.js';
import { offsetDmaBuf } from './offset-exporter.js';
import { denseModel, READ_BACK_NODE } from './onnx-model.js';

// One thread: no worker threads in a page the test files share. Vite serves the binary; the
// pre-bundled module would look for it beside itself.
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = { wasm };
ort.env.logLevel = 'error'; // not its warnings of node placement

const f = heapFixture();

/** The model's sizes: a 4 KiB float32 frame in, 2 KiB out, small enough for SwiftShader. */
const SHAPE = { rows: 64, inputs: 16, outputs: 8 };
const DIMS = [SHAPE.rows, SHAPE.inputs];
const BYTES = SHAPE.rows * SHAPE.inputs * 4;
const MODEL = denseModel(SHAPE);

/** Results equal the wasm EP's within this, relative to the value (absolute below 1). */
const TOLERANCE = 1e-5;

/** Frame `seed`'s fixed pattern: values in [-1, 1), different for each seed. */
function frame(seed: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: SHAPE.rows * SHAPE.inputs }, (_, i) => (((i * 7 + seed * 13) % 17) - 8) / 8);
}

/** The model's second input: a gain of 0.5 on every column, so `x` is used as it is. */
const gain = () => new ort.Tensor('float32', new Float32Array(SHAPE.inputs).fill(0.5), [1, SHAPE.inputs]);

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expectCloseWithin(actual, expected, TOLERANCE);
}

type Outputs = { y: ort.Tensor; sum: ort.Tensor };

function outputsOf(result: ort.InferenceSession.ReturnType): Outputs {
  const { y, sum } = result;
  if (!(y instanceof ort.Tensor) || !(sum instanceof ort.Tensor)) throw new Error('the model gives y and sum');
  return { y, sum };
}

async function floats(tensor: ort.Tensor): Promise<Float32Array> {
  const data = await tensor.getData();
  if (!(data instanceof Float32Array)) throw new Error(`a float32 tensor gave ${String(data)}`);
  return data;
}

/** Sessions: the wasm EP (the reference), the WebGPU EP, and the WebGPU EP with its read-back node on the CPU. */
let cpu: ort.InferenceSession;
let gpu: ort.InferenceSession;
let readingBack: ort.InferenceSession;
/** ONNX Runtime's WebGPU device, made with its first WebGPU session. */
let ortDevice: GPUDevice;
/** The wasm EP's answers for frames 1 and 2. */
const reference = new Map<number, { y: Float32Array; sum: Float32Array }>();

beforeAll(async () => {
  cpu = await ort.InferenceSession.create(MODEL, { executionProviders: ['wasm'] });
  for (const seed of [1, 2]) {
    const { y, sum } = outputsOf(await cpu.run({ x: new ort.Tensor('float32', frame(seed), DIMS), gain: gain() }));
    reference.set(seed, { y: await floats(y), sum: await floats(sum) });
  }
  gpu = await ort.InferenceSession.create(MODEL, { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
  readingBack = await ort.InferenceSession.create(MODEL, {
    executionProviders: [{ name: 'webgpu', forceCpuNodeNames: [READ_BACK_NODE] }],
    preferredOutputLocation: 'gpu-buffer',
  });
  const device: unknown = await ort.env.webgpu.device;
  if (!(device instanceof GPUDevice)) throw new Error('ONNX Runtime gave no GPUDevice in env.webgpu.device');
  ortDevice = device;
});

afterAll(async () => {
  await Promise.all([cpu.release(), gpu.release(), readingBack.release()]);
});

/** A heap on ONNX Runtime's device for each test, checked for leaks after it. */
let ortHeap: GpuHeap;
beforeEach(() => {
  ortHeap = new GpuHeap(ortDevice, { name: 'onnxruntime device' });
});
afterEach(() => {
  expectNoLeaks(ortHeap);
});

/** The producer's frame `seed`, written into a new buffer of `heap`. */
async function producerFrame(heap: GpuHeap, seed: number): Promise<GpuDmaBuf> {
  const buf = heap.allocate(BYTES, { name: `frame ${seed}` });
  await buf.write(frame(seed));
  return buf;
}

/**
 * Waits until the adapter has unmapped, detached and put what it held, and its fence has let
 * go of the storage and mirrors of released buffers: a `'to-device'` unmap settles at once,
 * and its fence signals after the runs in flight and the device's work.
 */
async function released(): Promise<void> {
  await ortDevice.queue.onSubmittedWorkDone();
  await expect.poll(() => bufinfoEntries().length).toBe(0);
  const held = () => [f.heap, ortHeap].map((heap) => heap.stats().storageBytes + heap.stats().mirrorBytes);
  await expect.poll(held).toEqual([0, 0]);
}

// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its buffer below
const realMapAsync = GPUBuffer.prototype.mapAsync;
let openHeld = (): void => undefined;
afterEach(() => {
  // After a test that failed before opening it: no map stays held, and ONNX Runtime's run goes on.
  GPUBuffer.prototype.mapAsync = realMapAsync;
  openHeld();
});

/**
 * Holds the resolution of the next `MAP_READ` map called from now on (ONNX Runtime's read-back
 * of what its CPU node needs) until `open()`: the real map runs; ONNX Runtime only learns of it
 * later, and so submits the work after it later. `held` resolves once that map is called.
 */
function holdNextReadBack(): { held: Promise<void>; open: () => void } {
  let open!: () => void;
  let heldNow!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const held = new Promise<void>((resolve) => (heldNow = resolve));
  openHeld = open;
  GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, mode: GPUMapModeFlags, offset?: GPUSize64, size?: GPUSize64): Promise<undefined> {
    const mapped = realMapAsync.call(this, mode, offset, size);
    if ((mode & GPUMapMode.READ) === 0) return mapped;
    GPUBuffer.prototype.mapAsync = realMapAsync;
    heldNow();
    return mapped.then((value) => gate.then(() => value));
  };
  return { held, open };
}

const sides = [
  { side: 'a producer on another device (a mirror)', heap: () => f.heap, sameDevice: false },
  { side: "a producer on ONNX Runtime's device (zero-copy)", heap: () => ortHeap, sameDevice: true },
];

describe.each(sides)('with $side', ({ heap, sameDevice }) => {
  test("a frame received as an fd, as an input tensor, gives the wasm EP's MatMul + Add + Relu + ReduceSum", async () => {
    const producer = new FdTable();
    const consumer = new FdTable();
    const sent = await producerFrame(heap(), 1);
    const fd = producer.install(sent);
    sent.put();
    const received = producer.send(fd, consumer);
    const buf = consumer.get(received);
    const copiedBefore = heap().stats().bytesCopied;
    const before = onnxruntimeAdapterStats();

    const x = await importTensor(buf, { dims: DIMS });
    buf.put(); // the tensor holds a reference of its own
    producer.close(fd);
    consumer.close(received);
    expect({ location: x.location, type: x.type, dims: x.dims }).toEqual({ location: 'gpu-buffer', type: 'float32', dims: DIMS });
    const { y, sum } = outputsOf(await gpu.run({ x, gain: gain() }));
    expectClose(await floats(sum), reference.get(1)?.sum ?? []);
    expectClose(await floats(y), reference.get(1)?.y ?? []);
    expect(await floats(x)).toEqual(frame(1)); // ONNX Runtime's read-back of the input

    // Zero-copy on ONNX Runtime's device; one transfer of the frame onto it from another.
    expect(heap().stats().bytesCopied - copiedBefore).toBe(sameDevice ? 0 : BYTES);
    if (sameDevice) expect(heap().stats().mirrorBytes).toBe(0);
    const after = onnxruntimeAdapterStats();
    expect({ imported: after.imported - before.imported, copies: after.importCopies - before.importCopies }).toEqual({ imported: 1, copies: 0 });

    x.dispose();
    y.dispose();
    sum.dispose();
    await released();
  });

  test('a tensor disposed before ONNX Runtime submitted the work reading it computes on its frame, not on the next one written or mapped right after', async () => {
    const buf = await producerFrame(heap(), 1);
    const x1 = await importTensor(buf, { dims: DIMS });
    const readBack = holdNextReadBack();
    const first = readingBack.run({ x: x1, gain: gain() }); // takes x1's buffer now, reads it after its read-back
    x1.dispose();
    const write = buf.write(frame(2)); // the producer's next frame, into the same buffer
    await readBack.held; // ONNX Runtime waits on its read-back: the work reading x1 is not submitted
    if (sameDevice) {
      // The tensor was the buffer: the write waits until ONNX Runtime's work on it has run.
      expect(await settledAfterRoundTrip(ortDevice, write)).toBe(false);
    } else {
      await write;
      // A mirror let go of too early would be given to the next attachment and refilled.
      await settledAfterRoundTrip(ortDevice, Promise.resolve());
    }
    const x2 = sameDevice ? undefined : await importTensor(buf, { dims: DIMS }); // maps frame 2
    readBack.open();
    const firstOut = outputsOf(await first);
    expectClose(await floats(firstOut.y), reference.get(1)?.y ?? []);
    await write;
    const x = x2 ?? (await importTensor(buf, { dims: DIMS }));
    const secondOut = outputsOf(await gpu.run({ x, gain: gain() }));
    expectClose(await floats(secondOut.y), reference.get(2)?.y ?? []);
    for (const tensor of [x, firstOut.y, firstOut.sum, secondOut.y, secondOut.sum]) tensor.dispose();
    buf.put();
    await released();
  });

  test('while a tensor lives, runs on it are of its frame whatever the producer writes', async () => {
    const buf = await producerFrame(heap(), 1);
    const x = await importTensor(buf, { dims: DIMS });
    const first = gpu.run({ x, gain: gain() });
    const write = buf.write(frame(2));
    // On ONNX Runtime's device the tensor is the buffer: the write waits for the tensor.
    if (sameDevice) expect(await settledAfterRoundTrip(ortDevice, write)).toBe(false);
    const firstOut = outputsOf(await first);
    const againOut = outputsOf(await gpu.run({ x, gain: gain() })); // the tensor again, after the write was called
    expectClose(await floats(firstOut.sum), reference.get(1)?.sum ?? []);
    expectClose(await floats(againOut.sum), reference.get(1)?.sum ?? []);
    x.dispose();
    await write;
    expect(await buf.read(Float32Array)).toEqual(frame(2));
    for (const tensor of [firstOut.y, firstOut.sum, againOut.y, againOut.sum]) tensor.dispose();
    buf.put();
    await released();
  });
});

describe('exportTensor', () => {
  test("an output kept on the GPU, read back through its dma-buf, equals its getData(), with no copy", async () => {
    const { y, sum } = outputsOf(await gpu.run({ x: new ort.Tensor('float32', frame(1), DIMS), gain: gain() }));
    const buffer = y.gpuBuffer;
    const before = onnxruntimeAdapterStats();
    const out = await exportTensor(y, ortHeap, { name: 'y' });
    const expected = await floats(y); // ONNX Runtime's own read-back (the tensor is then on the CPU too)
    y.dispose(); // the adapter's now: the dma-buf keeps the bytes
    // The next run's outputs do not take the buffer while the dma-buf holds it.
    const next = outputsOf(await gpu.run({ x: new ort.Tensor('float32', frame(2), DIMS), gain: gain() }));
    expect(next.y.gpuBuffer).not.toBe(buffer);
    expect(out.size).toBe(y.size * 4);
    expect(await out.read(Float32Array)).toEqual(expected);
    expectClose(expected, reference.get(1)?.y ?? []);
    // On another device, through a mirror.
    const attachment = out.attach(f.exporter);
    const sgt = await attachment.map('to-device');
    expect(sgt.segments.length).toBe(1);
    await attachment.unmap(sgt, 'to-device');
    out.detach(attachment);
    const after = onnxruntimeAdapterStats();
    expect({ exported: after.exported - before.exported, copies: after.exportCopies - before.exportCopies }).toEqual({ exported: 1, copies: 0 });
    for (const tensor of [sum, next.y, next.sum]) tensor.dispose();
    out.put();
    await released();
  });

  test('an output whose buffer is larger than the tensor is exported as a copy, counted, and equals its getData()', async () => {
    const { y, sum } = outputsOf(await gpu.run({ x: new ort.Tensor('float32', frame(2), DIMS), gain: gain() }));
    const buffer = sum.gpuBuffer;
    const expected = await floats(sum); // ONNX Runtime's own read-back: the tensor keeps its buffer
    const before = onnxruntimeAdapterStats();
    const out = await exportTensor(sum, ortHeap);
    const after = onnxruntimeAdapterStats();
    const copied = buffer.size !== sum.size * 4;
    expect({ copies: after.exportCopies - before.exportCopies, bytes: after.bytesCopied - before.bytesCopied }).toEqual(copied ? { copies: 1, bytes: sum.size * 4 } : { copies: 0, bytes: 0 });
    expect(await out.read(Float32Array)).toEqual(expected);
    y.dispose();
    out.put();
    await released();
  });

  test('refuses what is not a tensor, a tensor on the CPU and a heap on another device, keeping nothing', async () => {
    await expect(exportTensor({ location: 'gpu-buffer' } as ort.Tensor, ortHeap)).rejects.toThrow(/^EINVAL: exportTensor: source must be a Tensor of onnxruntime-web\/webgpu/);
    const onCpu = new ort.Tensor('float32', frame(1), DIMS);
    await expect(exportTensor(onCpu, ortHeap)).rejects.toThrow(/^EINVAL: exportTensor: the tensor is not in a GPUBuffer \(its location is 'cpu'\)/);
    const { y, sum } = outputsOf(await gpu.run({ x: onCpu, gain: gain() }));
    await expect(exportTensor(y, f.heap)).rejects.toThrow(/^EINVAL: exportTensor: heap must be a GpuHeap on ONNX Runtime's WebGPU device/);
    expect(y.location).toBe('gpu-buffer');
    y.dispose();
    sum.dispose();
    expect(ortHeap.stats().liveBuffers).toBe(0);
  });
});

describe('importTensor', () => {
  test('a buffer whose one GPUBuffer starts past offset 0 is imported as a copy, counted', async () => {
    const buf = offsetDmaBuf(ortDevice, frame(1));
    const before = onnxruntimeAdapterStats();
    const x = await importTensor(buf, { dims: DIMS });
    buf.put();
    const { y, sum } = outputsOf(await gpu.run({ x, gain: gain() }));
    expectClose(await floats(sum), reference.get(1)?.sum ?? []);
    const after = onnxruntimeAdapterStats();
    expect({ copies: after.importCopies - before.importCopies, bytes: after.bytesCopied - before.bytesCopied }).toEqual({ copies: 1, bytes: BYTES });
    for (const tensor of [x, y, sum]) tensor.dispose();
    await released();
  });

  test('refuses what is not a dma-buf, dims that are not sizes, a tensor larger than the buffer and a type of another size, keeping nothing', async () => {
    const buf = await producerFrame(f.heap, 1);
    await expect(importTensor(new Float32Array(4) as unknown as DmaBuf, { dims: [4] })).rejects.toThrow(/^EINVAL: importTensor: buf must be a DmaBuf/);
    await expect(importTensor(buf, { dims: [64, -16] })).rejects.toThrow(/^EINVAL: importTensor: dims must be a list of non-negative integers, got \[64,-16\]/);
    await expect(importTensor(buf, { dims: [65, 16] })).rejects.toThrow(/^EINVAL: importTensor: a tensor of dims \[65, 16\] takes 4160 bytes, more than the buffer's 4096/);
    await expect(importTensor(buf, { dims: DIMS, type: 'float16' as 'float32' })).rejects.toThrow(/^EINVAL: importTensor: type must be one of float32, int32, uint32, got "float16"/);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });
});
