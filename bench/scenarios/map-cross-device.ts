/**
 * `map-cross-device`: an importer on a second device maps the buffer `'to-device'` (the
 * exporter's bytes move to its mirror) or `'from-device'` (its mirror's bytes move back at
 * unmap). Against a hand-written transfer between two plain buffers: a copy into a reused
 * `MAP_READ` buffer, `mapAsync`, and `writeBuffer` on the other device. Every operation ends
 * when the receiving device's queue is idle.
 */
import { KiB, MiB, powersOfFour, type BenchOp, type Scenario } from '../scenario.js';
import { copyAndMap, readStaging } from './exported-buffer.js';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A hand-written transfer of `size` bytes from `from` (on `fromDevice`, through `staging`) to `to` (on `toDevice`). */
function handTransfer(fromDevice: GPUDevice, from: GPUBuffer, staging: GPUBuffer, toDevice: GPUDevice, to: GPUBuffer, size: number): BenchOp {
  return async () => {
    toDevice.queue.writeBuffer(to, 0, await copyAndMap(fromDevice, from, 0, staging, size));
    staging.unmap();
    await toDevice.queue.onSubmittedWorkDone();
  };
}

export const mapCrossDevice: Scenario = {
  id: 'map-cross-device',
  title: 'Map into another device',
  measures: "map + unmap on an importer's own device: 'to-device' moves the bytes to it at map, 'from-device' back at unmap; the baselines move the same bytes by hand.",
  metric: 'throughput',
  ratio: 'baseline',
  variants: [
    { id: 'dmabuf-to-device', label: "dmabuf 'to-device'", role: 'ours', against: ['raw-to-importer'] },
    { id: 'raw-to-importer', label: 'raw exporter -> importer', role: 'raw', against: ['raw-to-importer'] },
    { id: 'dmabuf-from-device', label: "dmabuf 'from-device'", role: 'ours', against: ['raw-to-exporter'] },
    { id: 'raw-to-exporter', label: 'raw importer -> exporter', role: 'raw', against: ['raw-to-exporter'] },
  ],
  sizes: (quick) => (quick ? [64 * KiB, 1 * MiB] : powersOfFour(64 * KiB, 64 * MiB)),
  prepare(env, size) {
    const { exporter, importer, heap } = env;
    const buf = heap.allocate(size, { name: 'bench map-cross-device' });
    const attachment = buf.attach(importer);
    const onExporter = exporter.createBuffer({ size, usage: STORAGE, label: 'bench raw on exporter' });
    const onImporter = importer.createBuffer({ size, usage: STORAGE, label: 'bench raw on importer' });
    const exporterStaging = readStaging(exporter, size, 'bench hand transfer staging');
    const importerStaging = readStaging(importer, size, 'bench hand transfer staging');
    const ops = new Map<string, BenchOp>([
      ['dmabuf-to-device', async () => {
        const sgt = await attachment.map('to-device');
        await attachment.unmap(sgt, 'to-device');
        await importer.queue.onSubmittedWorkDone();
      }],
      ['raw-to-importer', handTransfer(exporter, onExporter, exporterStaging, importer, onImporter, size)],
      ['dmabuf-from-device', async () => {
        const sgt = await attachment.map('from-device');
        await attachment.unmap(sgt, 'from-device');
        await exporter.queue.onSubmittedWorkDone();
      }],
      ['raw-to-exporter', handTransfer(importer, onImporter, importerStaging, exporter, onExporter, size)],
    ]);
    return Promise.resolve({
      ops,
      bytesPerOp: size,
      dispose: () => {
        buf.detach(attachment);
        buf.put();
        onExporter.destroy();
        onImporter.destroy();
        exporterStaging.destroy();
        importerStaging.destroy();
        return Promise.resolve();
      },
    });
  },
};
