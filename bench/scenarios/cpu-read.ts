/**
 * `cpu-read`: the CPU reads a whole buffer. Ours: `beginCpuAccess('from-device')`, kmap every
 * page and copy it out (or vmap the whole buffer and copy it out at once), `endCpuAccess`. Against raw WebGPU (a new `MAP_READ` buffer per read,
 * and one reused) and TypeGPU's `buffer.read()` on the same `GPUBuffer`.
 */
import * as d from 'typegpu/data';
import { PAGE_SIZE } from 'webgpu-dmabuf';
import { KiB, MiB, powersOfFour, type BenchOp, type Scenario } from '../scenario.js';
import { copyAndMap, exportedBuffer, readStaging } from './exported-buffer.js';

const RAW = ['raw-new-staging', 'raw-reused-staging'];

export const cpuRead: Scenario = {
  id: 'cpu-read',
  title: 'CPU read of a whole buffer',
  measures: "beginCpuAccess('from-device'), kmap each page (or vmap the buffer) and copy it out, endCpuAccess; the baselines copy into a MAP_READ buffer, mapAsync and copy out.",
  metric: 'throughput',
  ratio: 'baseline',
  variants: [
    { id: 'dmabuf', label: 'dmabuf kmap', role: 'ours', against: RAW },
    { id: 'dmabuf-vmap', label: 'dmabuf vmap', role: 'ours', against: RAW },
    { id: 'raw-new-staging', label: 'raw, new staging', role: 'raw', against: RAW },
    { id: 'raw-reused-staging', label: 'raw, reused staging', role: 'raw', against: RAW },
    { id: 'typegpu', label: 'TypeGPU read()', role: 'library', against: RAW },
  ],
  sizes: (quick) => (quick ? [4 * KiB, 1 * MiB] : powersOfFour(4 * KiB, 64 * MiB)),
  async prepare(env, size) {
    const { exporter: device } = env;
    const target = await exportedBuffer(env, size, 'bench cpu-read');
    const { buf, buffer, pages } = target;
    const out = new Uint8Array(size);
    const reused = readStaging(device, size, 'bench reused staging');
    const typed = env.root.createBuffer(d.arrayOf(d.u32, size / 4), buffer);
    const ops = new Map<string, BenchOp>([
      ['dmabuf', async () => {
        await buf.beginCpuAccess(0, size, 'from-device');
        for (let page = 0; page < pages; page++) {
          const view = buf.kmap(page);
          out.set(view, page * PAGE_SIZE);
          buf.kunmap(page, view);
        }
        buf.endCpuAccess(0, size, 'from-device');
      }],
      ['dmabuf-vmap', async () => {
        await buf.beginCpuAccess(0, size, 'from-device');
        const view = buf.vmap();
        out.set(view);
        buf.vunmap(view);
        buf.endCpuAccess(0, size, 'from-device');
      }],
      ['raw-new-staging', async () => {
        const staging = readStaging(device, size, 'bench new staging');
        out.set(new Uint8Array(await copyAndMap(device, buffer, 0, staging, size)));
        staging.destroy();
      }],
      ['raw-reused-staging', async () => {
        out.set(new Uint8Array(await copyAndMap(device, buffer, 0, reused, size)));
        reused.unmap();
      }],
      ['typegpu', async () => {
        await typed.read();
      }],
    ]);
    return {
      ops,
      bytesPerOp: size,
      async dispose() {
        typed.destroy();
        reused.destroy();
        await target.release();
      },
    };
  },
};
