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

  test('the text has the kernel layout: zero-padded numbers, devices with their mappings, CPU ranges, kmaps, pending fences, a blank line a buffer', async () => {
    const a = memoryDmaBuf(2 * PAGE_SIZE, { name: 'frame' });
    const b = memoryDmaBuf(100);
    b.get();
    const display = a.attach(standInDevice('display'));
    const idle = a.attach(standInDevice('idle'));
    const toDevice = await display.map('to-device');
    const fromDevice = await display.map('from-device');
    await a.beginCpuAccess(0, 2 * PAGE_SIZE, 'bidirectional');
    const kmapped = a.kmap(0);
    const atomic = a.kmapAtomic(1);
    const fence = new DmaFence();
    a.resv.addFence(fence, 'write');
    const pad = (n: number) => String(n).padStart(8, '0');
    expect(bufinfo()).toBe(
      [
        'Dma-buf Objects:',
        'size\tcount\texp_name\tid\tname',
        `${pad(2 * PAGE_SIZE)}\t00000001\tmemory\t${pad(a.id)}\tframe`,
        '\tAttached Devices:',
        '\tdisplay (mapped to-device, from-device)',
        '\tidle (not mapped)',
        'Total 2 devices attached',
        `\tCPU access [0, ${2 * PAGE_SIZE}) bidirectional`,
        '\tkmaps: 1, atomic: 1',
        `\twrite fence: context ${fence.context} seqno 1 unsignalled`,
        '',
        `00000100\t00000002\tmemory\t${pad(b.id)}\t<none>`,
        '\tAttached Devices:',
        'Total 0 devices attached',
        '',
        `Total 2 objects, ${2 * PAGE_SIZE + 100} bytes`,
      ].join('\n'),
    );
    fence.signal();
    a.kunmap(0, kmapped);
    a.kunmapAtomic(1, atomic);
    a.endCpuAccess(0, 2 * PAGE_SIZE, 'bidirectional');
    await display.unmap(toDevice, 'to-device');
    await display.unmap(fromDevice, 'from-device');
    a.detach(display);
    a.detach(idle);
    a.put();
    b.put();
    b.put();
    expect(bufinfoEntries()).toEqual([]);
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
