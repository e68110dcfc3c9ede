// Two independent modules, each with its own GPUDevice and fd table, sharing one dma-buf:
// the producer exports, the consumer imports through an fd, maps on its own device,
// computes, and the producer sees the result. Nothing but the fd crosses between them.
import { FdTable, GpuHeap, PAGE_SIZE, requestGpuDevice, type SgTable } from 'webgpu-dmabuf';

const COUNT = 1024;
const log = document.getElementById('log');
const run = document.getElementById('run');
const say = (line: string) => { if (log) log.textContent += `${line}\n`; };

/** A module: its own device and fd table. */
interface Module {
  readonly name: string;
  readonly device: GPUDevice;
  readonly table: FdTable;
}

async function newModule(name: string): Promise<Module> {
  return { name, device: await requestGpuDevice({ label: `${name} device` }), table: new FdTable() };
}

/** The consumer's work: double every u32 of the mapped buffer, on its own device. */
function doubleAll(device: GPUDevice, sgt: SgTable): void {
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> v: array<u32>;
           @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
             if (id.x < arrayLength(&v)) { v[id.x] = v[id.x] * 2u; }
           }`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const encoder = device.createCommandEncoder();
  for (const segment of sgt.segments) {
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: segment.buffer, offset: segment.offset, size: segment.length } }] }));
    pass.dispatchWorkgroups(Math.ceil(segment.length / 4 / 64));
    pass.end();
  }
  device.queue.submit([encoder.finish()]);
}

async function demo(): Promise<void> {
  if (log) log.textContent = '';
  const producer = await newModule('producer');
  const consumer = await newModule('consumer');
  const heap = new GpuHeap(producer.device, { name: 'producer-heap' });
  try {
    // Producer: allocate, fill 0..COUNT-1 through CPU access, install in its table.
    const buf = heap.allocate(COUNT * 4, { name: 'numbers' });
    await buf.beginCpuAccess(0, COUNT * 4, 'to-device');
    for (let page = 0; page * PAGE_SIZE < COUNT * 4; page++) {
      const view = buf.kmap(page);
      const words = new Uint32Array(view.buffer, view.byteOffset, view.byteLength / 4);
      words.forEach((_, i) => { words[i] = page * (PAGE_SIZE / 4) + i; });
      buf.kunmap(page, view);
    }
    buf.endCpuAccess(0, COUNT * 4, 'to-device');
    const producerFd = producer.table.install(buf);
    buf.put();
    say(`producer: exported "numbers" (${String(COUNT * 4)} bytes) as fd ${String(producerFd)} on ${producer.device.label}`);

    // The fd crosses to the consumer's table; nothing else does.
    const consumerFd = producer.table.send(producerFd, consumer.table);
    say(`consumer: received it as fd ${String(consumerFd)} in its own table`);

    // Consumer: get, attach its own device, map both ways, compute, unmap, detach, put.
    const imported = consumer.table.get(consumerFd);
    const attachment = imported.attach(consumer.device);
    const before = heap.stats().bytesCopied;
    const sgt = await attachment.map('bidirectional');
    const mapped = heap.stats().bytesCopied;
    say(`consumer: mapped 'bidirectional' on ${consumer.device.label}: ${String(sgt.segments.length)} segment(s) valid there; the heap staged ${String(mapped - before)} bytes over`);
    doubleAll(consumer.device, sgt);
    await attachment.unmap(sgt, 'bidirectional');
    const unmapped = heap.stats().bytesCopied;
    imported.detach(attachment);
    imported.put();
    consumer.table.close(consumerFd);
    say(`consumer: unmapped (the heap copied the ${String(unmapped - mapped)} result bytes back), detached and closed its fd`);

    // Producer: read the result through CPU access.
    const mine = producer.table.get(producerFd);
    await mine.beginCpuAccess(0, 16, 'from-device');
    const view = mine.kmap(0);
    const first = [...new Uint32Array(view.buffer, view.byteOffset, 4)];
    mine.kunmap(0, view);
    mine.endCpuAccess(0, 16, 'from-device');
    mine.put();
    say(`producer: reads [${first.join(', ')}, …]: doubled by the consumer's device`);
    producer.table.closeAll();
    const stats = heap.stats();
    say(`heap: ${String(stats.liveBuffers)} live buffers, ${String(stats.mirrorBytes)} mirror bytes after everyone let go`);
  } finally {
    producer.table.closeAll();
    consumer.table.closeAll();
    // With every buffer put, the heap frees its staging and idle mirrors (EBUSY otherwise).
    if (heap.stats().liveBuffers === 0) heap.destroy();
    consumer.device.destroy();
    producer.device.destroy();
  }
}

function start(): void {
  demo().catch((error: unknown) => { say(`error: ${error instanceof Error ? error.message : String(error)}`); });
}

run?.addEventListener('click', start);
start();
