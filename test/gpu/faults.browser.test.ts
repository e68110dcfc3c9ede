import { describe, expect, test } from 'vitest';
import { PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture, fillWithShader, newDevice, readTable, shaderPattern } from './gpu-helpers.js';

const f = heapFixture({ devicesPerTest: true });

describe("the heap's device lost", () => {
  test('a cross-device map under way rejects with ENODEV, and put still releases', async () => {
    const buf = f.heap.allocate(4 * 1024 * 1024);
    const attachment = buf.attach(f.importer);
    const mapping = attachment.map('to-device');
    f.exporter.destroy();
    await expect(mapping).rejects.toMatchObject({ name: 'DmaBufError', code: 'ENODEV' });
    buf.detach(attachment);
    buf.put();
  });

  test('later maps, CPU accesses and allocations throw ENODEV', async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const attachment = buf.attach(f.exporter);
    f.exporter.destroy();
    await f.exporter.lost;
    await expect(attachment.map('to-device')).rejects.toMatchObject({ code: 'ENODEV' });
    await expect(buf.beginCpuAccess(0, PAGE_SIZE, 'from-device')).rejects.toMatchObject({ code: 'ENODEV' });
    expect(() => f.heap.allocate(PAGE_SIZE)).toThrow(/^ENODEV: /);
    buf.detach(attachment);
    buf.put();
  });

  test('a CPU access under way rejects with ENODEV and records no range', async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const begin = buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    f.exporter.destroy();
    await expect(begin).rejects.toMatchObject({ code: 'ENODEV' });
    expect(() => buf.kmap(0)).toThrow(/^ERANGE: /);
    buf.put();
  });
});

describe("an importer's device lost", () => {
  test('its unmap fails with ENODEV while another f.importer carries on', async () => {
    const third = await newDevice('third');
    const buf = f.heap.allocate(PAGE_SIZE);
    const doomed = buf.attach(f.importer);
    const sgt = await doomed.map('from-device');
    f.importer.destroy();
    await f.importer.lost;
    await expect(doomed.unmap(sgt, 'from-device')).rejects.toMatchObject({ code: 'ENODEV' });
    await expect(doomed.map('to-device')).rejects.toMatchObject({ code: 'ENODEV' });
    buf.detach(doomed);

    const own = buf.attach(f.exporter);
    const written = await own.map('from-device');
    fillWithShader(f.exporter, written, 8);
    await own.unmap(written, 'from-device');
    buf.detach(own);
    const healthy = buf.attach(third);
    const mirror = await healthy.map('to-device');
    expect(await readTable(third, mirror)).toEqual(shaderPattern(PAGE_SIZE, 8));
    await healthy.unmap(mirror, 'to-device');
    buf.detach(healthy);
    buf.put();
    third.destroy();
  });
});

describe('release', () => {
  test('the last put destroys storage, mirrors and CPU staging still held', async () => {
    const buf = f.heap.allocate(PAGE_SIZE);
    const attachment = buf.attach(f.importer);
    await attachment.map('to-device');
    await buf.beginCpuAccess(0, PAGE_SIZE, 'bidirectional');
    buf.kmapAtomic(0);
    expect(f.heap.stats().mirrorBytes).toBe(PAGE_SIZE);
    buf.put();
    expect(f.heap.stats()).toMatchObject({ liveBuffers: 0, storageBytes: 0, mirrorBytes: 0 });
    expect(() => buf.kmap(0)).toThrow(/^EINVAL: /);
  });
});
