/**
 * `map-same-device`: an importer on the exporter's own device attaches, maps, unmaps and
 * detaches. Zero-copy: the time should not grow with the size, and no byte is copied.
 */
import { KiB, MiB, powersOfFour, type BenchOp, type Scenario } from '../scenario.js';

export const mapSameDevice: Scenario = {
  id: 'map-same-device',
  title: 'Map on the same device (zero-copy)',
  measures: "attach + map('bidirectional') + unmap + detach on the exporter's device; ratios are to the same operation on 4 KiB.",
  metric: 'latency',
  ratio: 'first-size',
  variants: [{ id: 'dmabuf', label: 'dmabuf map', role: 'ours' }],
  sizes: (quick) => (quick ? [4 * KiB, 1 * MiB] : powersOfFour(4 * KiB, 256 * MiB)),
  prepare(env, size) {
    const { exporter: device, heap } = env;
    const buf = heap.allocate(size, { name: 'bench map-same-device' });
    const ops = new Map<string, BenchOp>([
      ['dmabuf', async () => {
        const attachment = buf.attach(device);
        const sgt = await attachment.map('bidirectional');
        await attachment.unmap(sgt, 'bidirectional');
        buf.detach(attachment);
      }],
    ]);
    return Promise.resolve({
      ops,
      bytesPerOp: size,
      dispose: () => {
        buf.put();
        return Promise.resolve();
      },
    });
  },
};
