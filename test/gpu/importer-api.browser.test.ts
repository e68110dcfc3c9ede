// The importer's API on real WebGPU: binding a whole multi-segment table with entries(),
// contiguous and segmentAlign allocations (kept on mirrors too), the usage an importer asks
// for at attach, the promise that every map of one attachment gives the same GPUBuffers,
// and the attachment's own counts of what it moved.
import { describe, expect, test } from 'vitest';
import { bufinfoEntries, DmaBufError, GpuHeap, PAGE_SIZE, type DmaBufAttachment, type DmaDirection, type SgTable } from 'webgpu-dmabuf';
import { expectNoLeaks, heapFixture, readTable, shaderPattern } from './gpu-helpers.js';

const f = heapFixture();

function expectCode(run: () => unknown, code: string, message?: RegExp): void {
  expect(run).toThrow(DmaBufError);
  expect(run).toThrow(new RegExp(`^${code}: `));
  if (message) expect(run).toThrow(message);
}

/** A bind group made from a table's `entries(0)`, with its layout. */
interface Bound {
  readonly layout: GPUBindGroupLayout;
  readonly group: GPUBindGroup;
}

/**
 * Writes the pattern of `fillWithShader` (byte i = i * 7 + seed) into every segment of `sgt`
 * with one dispatch over one bind group made from `sgt.entries(0)` (or `bound`, made earlier):
 * the shader declares a binding per segment and picks the segment by the word index.
 */
function fillAllSegmentsInOnePass(device: GPUDevice, sgt: SgTable, seed: number, bound?: Bound): Bound {
  const count = sgt.segments.length;
  const bindings = sgt.segments.map((_, i) => `@group(0) @binding(${i}) var<storage, read_write> s${i}: array<u32>;`).join('\n');
  const starts = sgt.segments.map((s) => `${s.start / 4}u`).join(', ');
  const writes = sgt.segments.map((_, i) => `if (seg == ${i}u) { if (local < arrayLength(&s${i})) { s${i}[local] = v; } }`).join('\n');
  const module = device.createShaderModule({
    code: `${bindings}
      var<private> STARTS: array<u32, ${count}> = array<u32, ${count}>(${starts});
      fn b(i: u32) -> u32 { return (i * 7u + ${seed}u) & 0xffu; }
      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
        let word = id.x;
        var seg = 0u;
        for (var k = 1u; k < ${count}u; k++) { if (word >= STARTS[k]) { seg = k; } }
        let local = word - STARTS[seg];
        let i = word * 4u;
        let v = b(i) | (b(i + 1u) << 8u) | (b(i + 2u) << 16u) | (b(i + 3u) << 24u);
        ${writes}
      }`,
  });
  const layout =
    bound?.layout ??
    device.createBindGroupLayout({
      entries: sgt.segments.map((_, i) => ({ binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' as const } })),
    });
  const pipeline = device.createComputePipeline({ layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: 'main' } });
  const group = bound?.group ?? device.createBindGroup({ layout, entries: sgt.entries(0) });
  const words = Math.ceil(sgt.segments.reduce((n, s) => n + s.length, 0) / 4);
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(Math.ceil(words / 64));
  pass.end();
  device.queue.submit([encoder.finish()]);
  return { layout, group };
}

describe('entries(): a whole table in one bind group', () => {
  test('gives one storage entry per segment with consecutive bindings, each binding its segment whole', async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    const buf = heap.allocate(3 * 4096 + 10);
    const attachment = buf.attach(f.exporter);
    const sgt = await attachment.map('none');
    const entries = sgt.entries(5);
    expect(entries.map((e) => e.binding)).toEqual([5, 6, 7, 8]);
    expect(entries.map((e) => e.resource)).toEqual(sgt.segments.map((s) => ({ buffer: s.buffer, offset: s.offset, size: Math.ceil(s.length / 4) * 4 })));
    expect(sgt.segments.map((s) => s.start)).toEqual([0, 4096, 8192, 12288]);
    expect(sgt.entries()).toEqual(sgt.entries(0));
    expect(sgt.entries(0)).not.toBe(sgt.entries(0));
    for (const bad of [-1, 1.5, Number.NaN, '0']) expectCode(() => sgt.entries(bad as number), 'EINVAL', /entries: firstBinding/);
    await attachment.unmap(sgt, 'none');
    buf.detach(attachment);
    buf.put();
    expectNoLeaks(heap);
  });

  test('a shader bound through entries() reaches every byte of a multi-segment buffer, on the exporter and on a mirror', async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    const size = 3 * 4096 + 100;
    const buf = heap.allocate(size);
    for (const [device, seed] of [[f.exporter, 3], [f.importer, 11]] as const) {
      const attachment = buf.attach(device);
      const sgt = await attachment.map('from-device');
      expect(sgt.segments).toHaveLength(4);
      fillAllSegmentsInOnePass(device, sgt, seed);
      await attachment.unmap(sgt, 'from-device');
      buf.detach(attachment);
      await buf.beginCpuAccess(0, size, 'from-device');
      const view = buf.vmap();
      expect(view).toEqual(shaderPattern(size, seed));
      buf.vunmap(view);
      buf.endCpuAccess(0, size, 'from-device');
    }
    buf.put();
    expectNoLeaks(heap);
  });
});

describe('contiguous and segmentAlign', () => {
  test('contiguous gives one segment beyond the heap\'s maxSegmentBytes, on the exporter and on a mirror', async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    const buf = heap.allocate(5 * 4096 + 2, { contiguous: true });
    for (const device of [f.exporter, f.importer]) {
      const attachment = buf.attach(device);
      const sgt = await attachment.map('to-device');
      expect(sgt.segments.map((s) => [s.start, s.length])).toEqual([[0, 5 * 4096 + 2]]);
      await attachment.unmap(sgt, 'to-device');
      buf.detach(attachment);
    }
    buf.put();
    expectNoLeaks(heap);
  });

  test('contiguous beyond the device limit is ENOMEM naming the limit, and creates nothing', () => {
    const limit = Math.min(f.exporter.limits.maxStorageBufferBindingSize, f.exporter.limits.maxBufferSize);
    const name = f.exporter.limits.maxStorageBufferBindingSize <= f.exporter.limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
    expectCode(() => f.heap.allocate(limit + 4, { contiguous: true }), 'ENOMEM', new RegExp(`allocate: a contiguous buffer of ${limit + 4} bytes does not fit one segment on exporter, whose ${name} is ${limit}`));
    expect(f.heap.stats()).toMatchObject({ liveBuffers: 0, storageBytes: 0 });
    expect(bufinfoEntries()).toEqual([]);
  });

  test('segmentAlign puts every segment boundary on a multiple of it (and of 256), on the exporter and on a mirror', async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    // 12-byte elements: boundaries on multiples of lcm(12, 256) = 768, so 3840-byte segments.
    const size = 1000 * 12;
    const buf = heap.allocate(size, { segmentAlign: 12 });
    for (const device of [f.exporter, f.importer]) {
      const attachment = buf.attach(device);
      const sgt = await attachment.map('none');
      expect(sgt.segments.map((s) => [s.start, s.length])).toEqual([[0, 3840], [3840, 3840], [7680, 3840], [11520, 480]]);
      expect(sgt.segments.every((s) => s.start % 12 === 0 && s.start % 256 === 0)).toBe(true);
      await attachment.unmap(sgt, 'none');
      buf.detach(attachment);
    }
    buf.put();
    expectNoLeaks(heap);
  });

  test('an idle mirror cut otherwise is not reused for a buffer with segmentAlign', async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    const plain = heap.allocate(12_000);
    const first = plain.attach(f.importer);
    await first.unmap(await first.map('none'), 'none');
    plain.detach(first);
    plain.put();
    expect(heap.stats().idleMirrorBytes).toBeGreaterThan(0);
    const aligned = heap.allocate(12_000, { segmentAlign: 12 });
    const second = aligned.attach(f.importer);
    const sgt = await second.map('none');
    expect(sgt.segments.map((s) => s.length)).toEqual([3840, 3840, 3840, 480]);
    expect(heap.stats().mirrorBuffersCreated).toBe(2);
    await second.unmap(sgt, 'none');
    aligned.detach(second);
    aligned.put();
    expectNoLeaks(heap);
  });

  test.each([0, -12, 1.5, Number.NaN, '12', null])('segmentAlign %s is EINVAL and creates nothing', (align) => {
    expectCode(() => f.heap.allocate(PAGE_SIZE, { segmentAlign: align as number }), 'EINVAL', /allocate: segmentAlign must be a positive integer/);
    expect(f.heap.stats().liveBuffers).toBe(0);
  });

  test('contiguous that is not a boolean is EINVAL', () => {
    expectCode(() => f.heap.allocate(PAGE_SIZE, { contiguous: 1 as unknown as boolean }), 'EINVAL', /allocate: contiguous must be a boolean/);
  });

  test('a segmentAlign whose boundaries cannot fit one segment is EINVAL when the buffer needs several, and fine when it fits one', () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    expectCode(() => heap.allocate(8192, { segmentAlign: 5000 }), 'EINVAL', /allocate: segmentAlign 5000 puts segment boundaries on multiples of 160000 bytes.*maxSegmentBytes \(4096\)/);
    expect(heap.stats().liveBuffers).toBe(0);
    heap.allocate(4096, { segmentAlign: 5000 }).put();
    expectNoLeaks(heap);
  });
});

describe('attach usage', () => {
  test('on the exporter\'s device, usage the storage has is granted; usage it lacks is EINVAL at attach and nothing is recorded', async () => {
    const buf = f.heap.allocate(PAGE_SIZE, { usage: GPUBufferUsage.VERTEX });
    const granted = buf.attach(f.exporter, { usage: GPUBufferUsage.VERTEX });
    expect(granted.usage).toBe(GPUBufferUsage.VERTEX);
    const sgt = await granted.map('none');
    expect((sgt.segments[0]?.buffer.usage ?? 0) & GPUBufferUsage.VERTEX).toBe(GPUBufferUsage.VERTEX);
    await granted.unmap(sgt, 'none');
    buf.detach(granted);
    expectCode(() => buf.attach(f.exporter, { usage: GPUBufferUsage.INDEX }), 'EINVAL', /attach: usage INDEX is not on the storage \(COPY_SRC \| COPY_DST \| VERTEX \| STORAGE\)/);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });

  test('on another device, the mirror carries the usage asked for besides the storage\'s, and a draw can use it as a vertex buffer', async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const attachment = buf.attach(f.importer, { usage: GPUBufferUsage.VERTEX | GPUBufferUsage.INDEX });
    const sgt = await attachment.map('to-device');
    const mirror = sgt.segments[0]?.buffer;
    expect(mirror && (mirror.usage & (GPUBufferUsage.VERTEX | GPUBufferUsage.INDEX | GPUBufferUsage.STORAGE))).toBe(GPUBufferUsage.VERTEX | GPUBufferUsage.INDEX | GPUBufferUsage.STORAGE);
    if (!mirror) throw new Error('no segment');
    // Bound as a vertex buffer: WebGPU validates the usage (an uncaptured error fails the test).
    const device = f.importer;
    const module = device.createShaderModule({ code: '@vertex fn vs(@location(0) p: vec2f) -> @builtin(position) vec4f { return vec4f(p, 0, 1); } @fragment fn fs() -> @location(0) vec4f { return vec4f(1); }' });
    const pipeline = device.createRenderPipeline({
      layout: 'auto',
      vertex: { module, entryPoint: 'vs', buffers: [{ arrayStride: 8, attributes: [{ shaderLocation: 0, offset: 0, format: 'float32x2' }] }] },
      fragment: { module, entryPoint: 'fs', targets: [{ format: 'rgba8unorm' }] },
    });
    const target = device.createTexture({ size: [4, 4], format: 'rgba8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginRenderPass({ colorAttachments: [{ view: target.createView(), loadOp: 'clear', storeOp: 'store' }] });
    pass.setPipeline(pipeline);
    pass.setVertexBuffer(0, mirror);
    pass.draw(3);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    target.destroy();
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
  });

  test.each([
    ['-1', -1, /attach: usage must be a non-negative integer/],
    ['1.5', 1.5, /attach: usage must be a non-negative integer/],
    ['a string', 'VERTEX', /attach: usage must be a non-negative integer/],
    ['an unknown bit', 0x400, /attach: usage 1024 has bits that are no GPUBufferUsage flag/],
    ['MAP_READ', 0x0001, /attach: usage MAP_READ has MAP_READ or MAP_WRITE/],
    ['MAP_WRITE', 0x0002, /attach: usage MAP_WRITE has MAP_READ or MAP_WRITE/],
  ])('usage %s is EINVAL at attach on either device, and nothing is recorded', (_, usage, message) => {
    const buf = f.heap.allocate(PAGE_SIZE);
    for (const device of [f.exporter, f.importer]) expectCode(() => buf.attach(device, { usage: usage as number }), 'EINVAL', message);
    expectCode(() => buf.attach(f.importer, 7 as never), 'EINVAL', /attach: options must be an object/);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });

  test('something that is not a GPUDevice is refused by the heap\'s attach op with EINVAL', () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    expectCode(() => buf.attach({} as GPUDevice), 'EINVAL', /attach: device must be a GPUDevice, got an object/);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });
});

describe('every map of one attachment gives the same GPUBuffers until it detaches', () => {
  const DIRECTIONS: readonly DmaDirection[] = ['to-device', 'from-device', 'bidirectional', 'none'];

  test.each([['the exporter\'s device', 'exporter'], ['another device', 'importer']] as const)(
    'on %s: the same buffers in every direction, and a bind group made at the first map serves every later one',
    async (_, which) => {
      const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
      const size = 2 * 4096 + 8;
      const buf = heap.allocate(size);
      const device = f[which];
      const attachment = buf.attach(device);
      // Another buffer of the same size on the same device, attached and detached meanwhile:
      // its mirror goes idle, and is never swapped in for this attachment's.
      const other = heap.allocate(size);
      const first = await attachment.map('from-device');
      const buffers = first.segments.map((s) => s.buffer);
      const bound = fillAllSegmentsInOnePass(device, first, 1);
      await attachment.unmap(first, 'from-device');
      for (const [round, dir] of [...DIRECTIONS, ...DIRECTIONS].entries()) {
        const churn = other.attach(device);
        await churn.unmap(await churn.map('none'), 'none');
        other.detach(churn);
        const sgt = await attachment.map(dir);
        expect(sgt).not.toBe(first);
        expect(sgt.segments.every((s, i) => s.buffer === buffers[i])).toBe(true);
        if (dir === 'from-device' || dir === 'bidirectional') fillAllSegmentsInOnePass(device, sgt, 20 + round, bound);
        await attachment.unmap(sgt, dir);
        if (dir === 'from-device' || dir === 'bidirectional') {
          const reader = buf.attach(f.exporter);
          const check = await reader.map('to-device');
          expect(await readTable(f.exporter, check)).toEqual(shaderPattern(size, 20 + round));
          await reader.unmap(check, 'to-device');
          buf.detach(reader);
        }
      }
      buf.detach(attachment);
      other.put();
      buf.put();
      expectNoLeaks(heap);
    },
  );
});

describe('attachment.stats()', () => {
  /** Maps and unmaps `dir` once, returning the stats after. */
  async function roundTrip(attachment: DmaBufAttachment, dir: DmaDirection) {
    const sgt = await attachment.map(dir);
    await attachment.unmap(sgt, dir);
    return attachment.stats();
  }

  test('counts the exact bytes each direction moved across devices, at a size that is not a multiple of 4 over several segments', async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    const size = 3 * 4096 + 5;
    const buf = heap.allocate(size);
    const attachment = buf.attach(f.importer);
    expect(attachment.stats()).toEqual({ maps: 0, unmaps: 0, bytesToDevice: 0, bytesFromDevice: 0 });
    expect(await roundTrip(attachment, 'to-device')).toEqual({ maps: 1, unmaps: 1, bytesToDevice: size, bytesFromDevice: 0 });
    expect(await roundTrip(attachment, 'from-device')).toEqual({ maps: 2, unmaps: 2, bytesToDevice: size, bytesFromDevice: size });
    expect(await roundTrip(attachment, 'bidirectional')).toEqual({ maps: 3, unmaps: 3, bytesToDevice: 2 * size, bytesFromDevice: 2 * size });
    expect(await roundTrip(attachment, 'none')).toEqual({ maps: 4, unmaps: 4, bytesToDevice: 2 * size, bytesFromDevice: 2 * size });
    // A map outstanding counts at once; its unmap when it is done.
    const sgt = await attachment.map('to-device');
    expect(attachment.stats()).toEqual({ maps: 5, unmaps: 4, bytesToDevice: 3 * size, bytesFromDevice: 2 * size });
    await attachment.unmap(sgt, 'to-device');
    // The heap moved exactly what the attachment says, and another attachment counts its own.
    expect(heap.stats().bytesCopied).toBe(5 * size);
    const second = buf.attach(f.importer);
    expect(await roundTrip(second, 'from-device')).toEqual({ maps: 1, unmaps: 1, bytesToDevice: 0, bytesFromDevice: size });
    buf.detach(second);
    buf.detach(attachment);
    // After detach: the final counts, and a refused map changes nothing.
    await expect(attachment.map('to-device')).rejects.toMatchObject({ code: 'EINVAL' });
    expect(attachment.stats()).toEqual({ maps: 5, unmaps: 5, bytesToDevice: 3 * size, bytesFromDevice: 2 * size });
    buf.put();
    expectNoLeaks(heap);
  });

  test('zero-copy maps on the exporter\'s device move 0 bytes in every direction', async () => {
    const buf = f.heap.allocate(PAGE_SIZE + 3);
    const attachment = buf.attach(f.exporter);
    for (const dir of ['to-device', 'from-device', 'bidirectional', 'none'] as const) await roundTrip(attachment, dir);
    expect(attachment.stats()).toEqual({ maps: 4, unmaps: 4, bytesToDevice: 0, bytesFromDevice: 0 });
    expect(f.heap.stats().bytesCopied).toBe(0);
    buf.detach(attachment);
    buf.put();
  });

  test('returns a new plain object each call, which later maps do not change', async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const attachment = buf.attach(f.importer);
    const before = attachment.stats();
    expect(attachment.stats()).not.toBe(before);
    await roundTrip(attachment, 'to-device');
    expect(before).toEqual({ maps: 0, unmaps: 0, bytesToDevice: 0, bytesFromDevice: 0 });
    buf.detach(attachment);
    buf.put();
  });
});

describe('attach(device, { contiguous: true }): one GPUBuffer on the importer\'s device', () => {
  test("on the heap's device, a split buffer gets a copy of its own in one buffer, kept in step each way and counted", async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    const size = 3 * 4096 + 10;
    const buf = heap.allocate(size);
    const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 3 + 7) & 0xff);
    await buf.write(bytes);
    const storage = buf.attach(f.exporter);
    const storageTable = await storage.map('none');
    const attachment = buf.attach(f.exporter, { contiguous: true });
    expect(attachment.contiguous).toBe(true);
    const sgt = await attachment.map('bidirectional');
    expect(sgt.segments).toHaveLength(1);
    expect(storageTable.segments.map((s) => s.buffer)).not.toContain(sgt.buffer);
    expect(await readTable(f.exporter, sgt)).toEqual(bytes);
    const written = bytes.map((b) => b ^ 0x5a);
    const padded = new Uint8Array(Math.ceil(size / 4) * 4);
    padded.set(written);
    f.exporter.queue.writeBuffer(sgt.buffer, 0, padded);
    await attachment.unmap(sgt, 'bidirectional');
    expect(await buf.read(Uint8Array)).toEqual(written);
    const again = await attachment.map('none');
    expect(again.buffer).toBe(sgt.buffer);
    await attachment.unmap(again, 'none');
    expect(attachment.stats()).toMatchObject({ bytesToDevice: size, bytesFromDevice: size });
    await storage.unmap(storageTable, 'none');
    buf.detach(storage);
    buf.detach(attachment);
    buf.put();
    expectNoLeaks(heap);
  });

  test("on the heap's device, a buffer in one segment is mapped itself (zero-copy), as without asking", async () => {
    const buf = f.heap.allocate(4096);
    const plain = buf.attach(f.exporter);
    const one = buf.attach(f.exporter, { contiguous: true });
    const [a, b] = [await plain.map('none'), await one.map('to-device')];
    expect(b.buffer).toBe(a.buffer);
    expect(one.stats().bytesToDevice).toBe(0);
    await plain.unmap(a, 'none');
    await one.unmap(b, 'to-device');
    buf.detach(plain);
    buf.detach(one);
    buf.put();
  });

  test('on another device, a buffer the heap splits is one segment there, with its bytes', async () => {
    const heap = new GpuHeap(f.exporter, { maxSegmentBytes: 4096 });
    const size = 2 * 4096 + 100;
    const buf = heap.allocate(size);
    const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 13) & 0xff);
    await buf.write(bytes);
    const attachment = buf.attach(f.importer, { contiguous: true });
    const sgt = await attachment.map('to-device');
    expect(sgt.segments).toHaveLength(1);
    expect(await readTable(f.importer, sgt)).toEqual(bytes);
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
    expectNoLeaks(heap);
  });
});
