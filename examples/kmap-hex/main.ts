// A hex view of one page of a GPU buffer that a shader keeps writing, read through the
// dma-buf CPU-access calls: beginCpuAccess, kmap, kunmap, endCpuAccess.
import { FdTable, GpuHeap, PAGE_SIZE, requestGpuDevice } from 'webgpu-dmabuf';

const BYTES = 4 * PAGE_SIZE;
const ROW = 16;
const SHOWN_ROWS = 24;

const element = (id: string): HTMLElement => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`no #${id}`);
  return found;
};
const hex = element('hex');
const pageSelect = element('page') as HTMLSelectElement;
const pause = element('pause');
const status = element('status');

/** The shader: word i of the buffer becomes (frame << 16) | i, so every page changes every frame. */
const SHADER = /* wgsl */ `
  @group(0) @binding(0) var<storage, read_write> words: array<u32>;
  @group(0) @binding(1) var<uniform> frame: u32;
  @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
    if (id.x < arrayLength(&words)) { words[id.x] = (frame << 16u) | id.x; }
  }`;

function hexDump(bytes: Uint8Array, base: number): string {
  const lines: string[] = [];
  for (let row = 0; row < Math.min(SHOWN_ROWS, bytes.length / ROW); row++) {
    const slice = [...bytes.subarray(row * ROW, row * ROW + ROW)];
    const hexes = slice.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = slice.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(base + row * ROW).toString(16).padStart(8, '0')}  ${hexes}  ${text}`);
  }
  return lines.join('\n') + `\n… ${(PAGE_SIZE / ROW - SHOWN_ROWS).toString()} more rows in this page`;
}

async function main(): Promise<void> {
  const device = await requestGpuDevice({ label: 'kmap example' });
  const heap = new GpuHeap(device, { name: 'kmap-example' });
  const table = new FdTable();
  const buf = heap.allocate(BYTES, { name: 'shader output' });
  const fd = table.install(buf);
  buf.put();
  for (let page = 0; page * PAGE_SIZE < BYTES; page++) pageSelect.add(new Option(`${page.toString()} (bytes ${(page * PAGE_SIZE).toString()}–${((page + 1) * PAGE_SIZE - 1).toString()})`, String(page)));
  pause.addEventListener('click', () => { pause.setAttribute('aria-pressed', String(pause.getAttribute('aria-pressed') !== 'true')); });

  // The writer: maps the buffer on its own (the exporter's) device and runs the shader.
  const module = device.createShaderModule({ code: SHADER });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const uniform = device.createBuffer({ size: 4, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const writer = table.get(fd);
  const attachment = writer.attach(device);
  let frame = 0;

  const tick = async () => {
    if (pause.getAttribute('aria-pressed') !== 'true') {
      frame += 1;
      const sgt = await attachment.map('from-device');
      const segment = sgt.segments[0];
      if (!segment) throw new Error('no segment');
      device.queue.writeBuffer(uniform, 0, new Uint32Array([frame]));
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: segment.buffer } }, { binding: 1, resource: { buffer: uniform } }] }));
      pass.dispatchWorkgroups(Math.ceil(BYTES / 4 / 64));
      pass.end();
      device.queue.submit([encoder.finish()]);
      await attachment.unmap(sgt, 'from-device');
    }
    // The reader: CPU access to one page, which sees all GPU work submitted before it.
    const page = Number(pageSelect.value);
    const reader = table.get(fd);
    try {
      await reader.beginCpuAccess(page * PAGE_SIZE, PAGE_SIZE, 'from-device');
      const view = reader.kmap(page);
      hex.textContent = hexDump(view, page * PAGE_SIZE);
      reader.kunmap(page, view);
      reader.endCpuAccess(page * PAGE_SIZE, PAGE_SIZE, 'from-device');
    } finally {
      reader.put();
    }
    const stats = heap.stats();
    status.textContent = `frame ${frame.toString()} · ${stats.bytesCopied.toString()} bytes staged for the CPU so far · ${stats.stagingBuffersCreated.toString()} staging buffer(s) created`;
    requestAnimationFrame(() => { void tick().catch(show); });
  };
  await tick();
}

function show(error: unknown): void {
  const p = document.createElement('p');
  p.className = 'error';
  p.setAttribute('role', 'alert');
  p.textContent = error instanceof Error ? error.message : String(error);
  hex.replaceWith(p);
}

main().catch(show);
