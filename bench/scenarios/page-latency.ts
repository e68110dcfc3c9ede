/**
 * `page-latency`: the CPU reads one random page of a 64 MiB buffer, again and again. Ours:
 * `beginCpuAccess` of that page, kmap, copy out, `endCpuAccess`. Against raw WebGPU with a new
 * 4 KiB `MAP_READ` buffer per read and with one reused. The runner counts the staging
 * buffers the heap creates once warm (the target is none).
 */
import { PAGE_SIZE } from 'webgpu-dmabuf';
import { MiB, type BenchOp, type Scenario } from '../scenario.js';
import { copyAndMap, exportedBuffer, readStaging } from './exported-buffer.js';

const RAW = ['raw-new-staging', 'raw-reused-staging'];

/** A small deterministic generator of page numbers (xorshift32), so runs read the same pages. */
function pageSequence(pages: number, seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % pages;
  };
}

export const pageLatency: Scenario = {
  id: 'page-latency',
  title: 'Latency of reading one random page',
  measures: "beginCpuAccess('from-device') of one random 4 KiB page of the buffer, kmap, copy out, endCpuAccess; the baselines copy that page into a MAP_READ buffer and map it.",
  metric: 'latency',
  ratio: 'baseline',
  variants: [
    { id: 'dmabuf', label: 'dmabuf kmap', role: 'ours', against: RAW },
    { id: 'raw-new-staging', label: 'raw, new staging', role: 'raw', against: RAW },
    { id: 'raw-reused-staging', label: 'raw, reused staging', role: 'raw', against: RAW },
  ],
  sizes: (quick) => [(quick ? 4 : 64) * MiB],
  async prepare(env, size) {
    const { exporter: device } = env;
    const target = await exportedBuffer(env, size, 'bench page-latency');
    const { buf, buffer, pages } = target;
    const out = new Uint8Array(PAGE_SIZE);
    const reused = readStaging(device, PAGE_SIZE, 'bench reused page staging');
    const next = pageSequence(pages, 0x9e3779b9);
    const ops = new Map<string, BenchOp>([
      ['dmabuf', async () => {
        const page = next();
        await buf.beginCpuAccess(page * PAGE_SIZE, PAGE_SIZE, 'from-device');
        const view = buf.kmap(page);
        out.set(view);
        buf.kunmap(page, view);
        buf.endCpuAccess(page * PAGE_SIZE, PAGE_SIZE, 'from-device');
      }],
      ['raw-new-staging', async () => {
        const staging = readStaging(device, PAGE_SIZE, 'bench new page staging');
        out.set(new Uint8Array(await copyAndMap(device, buffer, next() * PAGE_SIZE, staging, PAGE_SIZE)));
        staging.destroy();
      }],
      ['raw-reused-staging', async () => {
        out.set(new Uint8Array(await copyAndMap(device, buffer, next() * PAGE_SIZE, reused, PAGE_SIZE)));
        reused.unmap();
      }],
    ]);
    return {
      ops,
      bytesPerOp: PAGE_SIZE,
      async dispose() {
        reused.destroy();
        await target.release();
      },
    };
  },
};
