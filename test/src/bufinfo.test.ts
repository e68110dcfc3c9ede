import { describe, expect, test } from 'vitest';
import { bufinfo, bufinfoEntries } from '../../src/bufinfo.js';
import { DmaFence } from '../../src/dma-fence.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf, standInDevice } from './memory-exporter.js';

describe('bufinfo', () => {
  test('lists every live buffer with its size, count, exporter, name, attachments, mappings and CPU ranges', async () => {
    const a = memoryDmaBuf(PAGE_SIZE, { name: 'frame' });
    const b = memoryDmaBuf(100);
    const attachment = a.attach(standInDevice('display'));
    const sgt = await attachment.map('to-device');
    await b.beginCpuAccess(10, 20, 'bidirectional');
    const view = b.kmapAtomic(0);
    expect(bufinfoEntries()).toEqual([
      { id: a.id, size: PAGE_SIZE, exporter: 'memory', name: 'frame', refCount: 1, attachments: [{ device: 'display', mappings: ['to-device'] }], cpuAccess: [], kmaps: 0, atomicKmaps: 0, fences: [] },
      { id: b.id, size: 100, exporter: 'memory', name: '<none>', refCount: 1, attachments: [], cpuAccess: [{ start: 10, len: 20, direction: 'bidirectional' }], kmaps: 0, atomicKmaps: 1, fences: [] },
    ]);
    const text = bufinfo();
    expect(text).toContain('\tdisplay (mapped to-device)');
    expect(text).toContain('\tCPU access [10, 30) bidirectional');
    expect(text.split('\n').at(-1)).toBe(`Total 2 objects, ${PAGE_SIZE + 100} bytes`);
    b.kunmapAtomic(0, view);
    b.endCpuAccess(10, 20, 'bidirectional');
    await attachment.unmap(sgt, 'to-device');
    a.detach(attachment);
    a.put();
    b.put();
    expect(bufinfo()).toBe('Dma-buf Objects:\nsize\tcount\texp_name\tid\tname\nTotal 0 objects, 0 bytes');
  });

  test('entries are plain data: changing one changes nothing, and none leads back to a buffer', () => {
    const buf = memoryDmaBuf(8, { name: 'kept' });
    const [entry] = bufinfoEntries();
    expect(JSON.parse(JSON.stringify(entry))).toEqual(entry);
    (entry as { name: string }).name = 'changed';
    expect(bufinfoEntries()[0]?.name).toBe('kept');
    buf.put();
    expect(bufinfoEntries()).toEqual([]);
  });

  test('pending fences are listed with their class, strongest first, and leave the listing once signalled', () => {
    const buf = memoryDmaBuf(8);
    const reader = new DmaFence();
    const writer = new DmaFence();
    buf.resv.addFence(reader, 'read');
    buf.resv.addFence(writer, 'write');
    expect(bufinfoEntries()[0]?.fences).toEqual([
      { context: writer.context, seqno: 1, usage: 'write' },
      { context: reader.context, seqno: 1, usage: 'read' },
    ]);
    expect(bufinfo()).toContain(`\twrite fence: context ${writer.context} seqno 1 unsignalled`);
    writer.signal();
    reader.signal();
    expect(bufinfoEntries()[0]?.fences).toEqual([]);
    buf.put();
  });

  test('unnamed devices get a stable number', () => {
    const buf = memoryDmaBuf(8);
    const device = standInDevice('');
    const first = buf.attach(device);
    const second = buf.attach(device);
    const [x, y] = bufinfoEntries()[0]?.attachments ?? [];
    expect(x?.device).toMatch(/^device #\d+$/);
    expect(y?.device).toBe(x?.device);
    buf.detach(first);
    buf.detach(second);
    buf.put();
  });
});
