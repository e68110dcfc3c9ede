// The TensorFlow.js adapter ('webgpu-dmabuf/tfjs') on real WebGPU, with TensorFlow.js's WebGPU
// backend on a device of its own (the importer's) and on the producer's (the exporter's):
// a producer's frame as a tensor, conv2d + relu + a reduction on it equal to TensorFlow.js's
// CPU backend, a tensor's output read back through its dma-buf, the copies counted (none on
// the producer's device), and the lifetime rule: commands TensorFlow.js has not yet submitted
// when a tensor is disposed, or while it lives, compute on the frame it was made from, never
// on the producer's next one.
import '@tensorflow/tfjs-backend-cpu';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bufinfoEntries, FdTable, GpuHeap, type GpuDmaBuf } from 'webgpu-dmabuf';
import { exportTensor, importTensor, tfjsAdapterStats } from 'webgpu-dmabuf/tfjs';
import { expectNoLeaks, heapFixture, settledAfterRoundTrip } from '../gpu/gpu-helpers.js';
import { expectClose as expectCloseWithin } from './expect-close.js';
import { offsetDmaBuf } from './offset-exporter.js';

const f = heapFixture();

/** The frame's shape (NHWC) and the filter's: 4 KiB of float32, small enough for SwiftShader. */
const SHAPE = [1, 16, 16, 4] as [number, number, number, number];
const FILTER = [3, 3, 4, 8] as [number, number, number, number];
const ELEMENTS = SHAPE.reduce((a, b) => a * b, 1);
const BYTES = ELEMENTS * 4;

/** Results equal the CPU backend's within this, relative to the value (absolute below 1). */
const TOLERANCE = 1e-4;

/** Frame `seed`'s fixed pattern: values in [-1, 1), different for each seed. */
function frame(seed: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: ELEMENTS }, (_, i) => (((i * 7 + seed * 13) % 17) - 8) / 8);
}

const filterValues = Float32Array.from({ length: FILTER.reduce((a, b) => a * b, 1) }, (_, i) => ((i % 5) - 2) / 4);

/** The model: conv2d, relu, and the mean of every channel over the image. */
function model(x: tf.Tensor4D): { features: tf.Tensor4D; pooled: tf.Tensor } {
  return tf.tidy(() => {
    const features = tf.relu(tf.conv2d(x, tf.tensor4d(filterValues, FILTER), 1, 'same'));
    return { features, pooled: tf.mean(features, [1, 2]) };
  });
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expectCloseWithin(actual, expected, TOLERANCE);
}

/** A TensorFlow.js WebGPU backend on `device`, registered under `name` with the WebGPU kernels. */
function registerBackend(name: string, device: GPUDevice): WebGPUBackend {
  const backend = new WebGPUBackend(device);
  tf.registerBackend(name, () => backend);
  for (const kernel of tf.getKernelsForBackend('webgpu')) tf.registerKernel({ ...kernel, backendName: name });
  return backend;
}

function removeBackend(name: string): void {
  for (const kernel of tf.getKernelsForBackend(name)) tf.unregisterKernel(kernel.kernelName, name);
  tf.removeBackend(name);
}

/** TensorFlow.js's backends: its own device (the importer's), the producer's device, the CPU. */
const ON_OWN = 'dmabuf-test-own-device';
const ON_PRODUCER = 'dmabuf-test-producer-device';
let onOwn: WebGPUBackend;
let onProducer: WebGPUBackend;
/** The CPU backend's answers for frames 1 and 2: the features and the pooled channels. */
const reference = new Map<number, { features: Float32Array; pooled: Float32Array }>();

beforeAll(async () => {
  await tf.setBackend('cpu');
  for (const seed of [1, 2]) {
    const x = tf.tensor4d(frame(seed), SHAPE);
    const { features, pooled } = model(x);
    reference.set(seed, { features: (await features.data()) as Float32Array, pooled: (await pooled.data()) as Float32Array });
    tf.dispose([x, features, pooled]);
  }
  onOwn = registerBackend(ON_OWN, f.importer);
  onProducer = registerBackend(ON_PRODUCER, f.exporter);
});

afterAll(async () => {
  await tf.setBackend('cpu');
  removeBackend(ON_OWN);
  removeBackend(ON_PRODUCER);
});

/** The producer's frame `seed`, written into a new buffer of the fixture's heap. */
async function producerFrame(seed: number): Promise<GpuDmaBuf> {
  const buf = f.heap.allocate(BYTES, { name: `frame ${seed}` });
  await buf.write(frame(seed));
  return buf;
}

/** Waits until the adapter has unmapped, detached and put what it held (after the device's work). */
async function released(device: GPUDevice): Promise<void> {
  await device.queue.onSubmittedWorkDone();
  await expect.poll(() => bufinfoEntries().length).toBe(0);
}

const sides = [
  { side: "TensorFlow.js's own device (a mirror)", name: ON_OWN, backend: () => onOwn, device: () => f.importer },
  { side: "the producer's device (zero-copy)", name: ON_PRODUCER, backend: () => onProducer, device: () => f.exporter },
];

describe.each(sides)('on $side', ({ name, backend, device }) => {
  test("a frame received as an fd, as a tensor, gives the CPU backend's conv2d + relu + mean", async () => {
    await tf.setBackend(name);
    const producer = new FdTable();
    const consumer = new FdTable();
    const sent = await producerFrame(1);
    const fd = producer.install(sent);
    sent.put();
    const received = producer.send(fd, consumer);
    const buf = consumer.get(received);
    const copiedBefore = f.heap.stats().bytesCopied;
    const before = tfjsAdapterStats(backend());

    const x = await importTensor<tf.Rank.R4>(buf, backend(), { shape: SHAPE });
    buf.put(); // the tensor holds a reference of its own
    producer.close(fd);
    consumer.close(received);
    const { features, pooled } = model(x);
    expectClose(await pooled.data(), reference.get(1)?.pooled ?? []);
    expectClose(await features.data(), reference.get(1)?.features ?? []);

    // Zero-copy on the producer's device; one transfer of the frame onto another device.
    const sameDevice = device() === f.exporter;
    expect(f.heap.stats().bytesCopied - copiedBefore).toBe(sameDevice ? 0 : BYTES);
    if (sameDevice) expect(f.heap.stats().mirrorBytes).toBe(0);
    const after = tfjsAdapterStats(backend());
    expect({ imported: after.imported - before.imported, copies: after.importCopies - before.importCopies }).toEqual({ imported: 1, copies: 0 });

    tf.dispose([x, features, pooled]);
    await released(device());
  });

  test('a tensor disposed before TensorFlow.js submitted its work computes on its frame, not on the next one written or mapped right after', async () => {
    await tf.setBackend(name);
    const buf = await producerFrame(1);
    const x1 = await importTensor<tf.Rank.R4>(buf, backend(), { shape: SHAPE });
    const first = model(x1); // recorded, not submitted: fewer dispatches than TensorFlow.js's batch
    x1.dispose();
    const write = buf.write(frame(2)); // the producer's next frame, into the same buffer
    // Once the adapter has detached, its mirror is idle: the next attachment may be given it.
    await expect.poll(() => bufinfoEntries().find((entry) => entry.name === 'frame 1')?.attachments.length).toBe(0);
    const x2 = await importTensor<tf.Rank.R4>(buf, backend(), { shape: SHAPE }); // maps frame 2, into that mirror
    const second = model(x2);
    expectClose(await first.pooled.data(), reference.get(1)?.pooled ?? []);
    expectClose(await second.pooled.data(), reference.get(2)?.pooled ?? []);
    await write;
    tf.dispose([x2, first.features, first.pooled, second.features, second.pooled]);
    buf.put();
    await released(device());
  });

  test('while a tensor lives, its results are of its frame whatever the producer writes', async () => {
    await tf.setBackend(name);
    const buf = await producerFrame(1);
    const x = await importTensor<tf.Rank.R4>(buf, backend(), { shape: SHAPE });
    const { features, pooled } = model(x); // recorded, not submitted
    const write = buf.write(frame(2));
    // On the producer's device the tensor is the buffer: the write waits for the tensor.
    if (device() === f.exporter) expect(await settledAfterRoundTrip(f.exporter, write)).toBe(false);
    expectClose(await pooled.data(), reference.get(1)?.pooled ?? []);
    const again = model(x); // the tensor again, after the write was called
    expectClose(await again.pooled.data(), reference.get(1)?.pooled ?? []);
    x.dispose();
    await write;
    expect(await buf.read(Float32Array)).toEqual(frame(2));
    tf.dispose([features, pooled, again.features, again.pooled]);
    buf.put();
    await released(device());
  });
});

describe('exportTensor', () => {
  test("a tensor's output read back through its dma-buf equals its data(), with no copy", async () => {
    await tf.setBackend(ON_OWN);
    const heap = new GpuHeap(f.importer);
    const input = tf.tensor4d(frame(1), SHAPE);
    const { features, pooled } = model(input);
    const before = tfjsAdapterStats(onOwn);
    const out = await exportTensor(features, onOwn, heap, { name: 'features' }); // not yet submitted: the adapter submits it
    tf.dispose([input, features, pooled]); // the dma-buf keeps the bytes
    expect(out.size).toBe(features.size * 4);
    // A third module reads it on the producer's device's heap... through the dma-buf's own reads.
    const bytes = await out.read(Float32Array);
    expectClose(bytes, reference.get(1)?.features ?? []);
    const after = tfjsAdapterStats(onOwn);
    expect({ exported: after.exported - before.exported, copies: after.exportCopies - before.exportCopies }).toEqual({ exported: 1, copies: 0 });
    out.put();
    await released(f.importer);
    expectNoLeaks(heap);
  });

  test("a tensor made from an application's GPUBuffer without COPY_DST is exported as a copy, counted", async () => {
    await tf.setBackend(ON_OWN);
    const heap = new GpuHeap(f.importer);
    const own = f.importer.createBuffer({ size: BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Float32Array(own.getMappedRange()).set(frame(3));
    own.unmap();
    const t = tf.tensor({ buffer: own, zeroCopy: true }, SHAPE);
    const before = tfjsAdapterStats(onOwn);
    const out = await exportTensor(t, onOwn, heap);
    const after = tfjsAdapterStats(onOwn);
    expect({ copies: after.exportCopies - before.exportCopies, bytes: after.bytesCopied - before.bytesCopied }).toEqual({ copies: 1, bytes: BYTES });
    expect(await out.read(Float32Array)).toEqual(await t.data());
    t.dispose();
    out.put();
    own.destroy();
    await released(f.importer);
    expectNoLeaks(heap);
  });
});

describe('importTensor', () => {
  test('a buffer whose one GPUBuffer starts past offset 0 is imported as a copy, counted', async () => {
    await tf.setBackend(ON_OWN);
    const device = f.importer;
    const buf = offsetDmaBuf(device, frame(1));
    const before = tfjsAdapterStats(onOwn);
    const x = await importTensor<tf.Rank.R4>(buf, onOwn, { shape: SHAPE });
    buf.put();
    const { features, pooled } = model(x);
    expectClose(await pooled.data(), reference.get(1)?.pooled ?? []);
    const after = tfjsAdapterStats(onOwn);
    expect({ copies: after.importCopies - before.importCopies, bytes: after.bytesCopied - before.bytesCopied }).toEqual({ copies: 1, bytes: BYTES });
    tf.dispose([x, features, pooled]);
    await released(device);
  });

  test('refuses a backend that is not the active one, and a tensor larger than the buffer, keeping nothing', async () => {
    await tf.setBackend(ON_OWN);
    const buf = await producerFrame(1);
    await expect(importTensor(buf, onProducer, { shape: SHAPE })).rejects.toThrow(/^EINVAL: importTensor: the backend is not TensorFlow.js's active backend/);
    await expect(importTensor(buf, onOwn, { shape: [1, 17, 16, 4] })).rejects.toThrow(/^EINVAL: importTensor: a tensor of shape \[1, 17, 16, 4\] takes 4352 bytes, more than the buffer's 4096/);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });
});
