/**
 * `cpu-write`: the CPU writes a whole buffer and the GPU has it. Ours:
 * `beginCpuAccess('to-device')`, write every page through kmap (or the whole buffer through
 * vmap), `endCpuAccess`. Against
 * `queue.writeBuffer`, a reused `MAP_WRITE` staging buffer copied on the GPU, and TypeGPU's
 * `buffer.write()`. Every operation ends when the device's queue is idle, so the bytes are in
 * the buffer for the next GPU command.
 */
import * as d from 'typegpu/data';
import { PAGE_SIZE } from 'webgpu-dmabuf';
import { KiB, MiB, powersOfFour, type BenchOp, type Scenario } from '../scenario.js';
import { exportedBuffer, pattern } from './exported-buffer.js';

const RAW = ['raw-write-buffer', 'raw-map-write'];

export const cpuWrite: Scenario = {
  id: 'cpu-write',
  title: 'CPU write of a whole buffer',
  measures: "beginCpuAccess('to-device'), write each page through kmap (or all through vmap), endCpuAccess, until the GPU queue is idle; the baselines write the same bytes and wait the same way.",
  metric: 'throughput',
  ratio: 'baseline',
  variants: [
    { id: 'dmabuf', label: 'dmabuf kmap', role: 'ours', against: RAW },
    { id: 'dmabuf-vmap', label: 'dmabuf vmap', role: 'ours', against: RAW },
    { id: 'raw-write-buffer', label: 'raw writeBuffer', role: 'raw', against: RAW },
    { id: 'raw-map-write', label: 'raw MAP_WRITE staging', role: 'raw', against: RAW },
    { id: 'typegpu', label: 'TypeGPU write()', role: 'library', against: RAW },
  ],
  sizes: (quick) => (quick ? [4 * KiB, 1 * MiB] : powersOfFour(4 * KiB, 64 * MiB)),
  async prepare(env, size) {
    const { exporter: device } = env;
    const target = await exportedBuffer(env, size, 'bench cpu-write');
    const { buf, buffer, pages } = target;
    const source = pattern(size);
    const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, label: 'bench MAP_WRITE staging' });
    const typed = env.root.createBuffer(d.arrayOf(d.u32, size / 4), buffer);
    const idle = () => device.queue.onSubmittedWorkDone();
    const ops = new Map<string, BenchOp>([
      ['dmabuf', async () => {
        await buf.beginCpuAccess(0, size, 'to-device');
        for (let page = 0; page < pages; page++) {
          const view = buf.kmap(page);
          view.set(source.subarray(page * PAGE_SIZE, page * PAGE_SIZE + view.length));
          buf.kunmap(page, view);
        }
        buf.endCpuAccess(0, size, 'to-device');
        await idle();
      }],
      ['dmabuf-vmap', async () => {
        await buf.beginCpuAccess(0, size, 'to-device');
        const view = buf.vmap();
        view.set(source);
        buf.vunmap(view);
        buf.endCpuAccess(0, size, 'to-device');
        await idle();
      }],
      ['raw-write-buffer', async () => {
        device.queue.writeBuffer(buffer, 0, source);
        await idle();
      }],
      ['raw-map-write', async () => {
        await staging.mapAsync(GPUMapMode.WRITE, 0, size);
        new Uint8Array(staging.getMappedRange(0, size)).set(source);
        staging.unmap();
        const encoder = device.createCommandEncoder({ label: 'bench MAP_WRITE copy' });
        encoder.copyBufferToBuffer(staging, 0, buffer, 0, size);
        device.queue.submit([encoder.finish()]);
        await idle();
      }],
      ['typegpu', async () => {
        typed.write(source.buffer);
        await idle();
      }],
    ]);
    return {
      ops,
      bytesPerOp: size,
      async dispose() {
        typed.destroy();
        staging.destroy();
        await target.release();
      },
    };
  },
};
