import { afterEach, describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { DmaBufError } from '../../src/error.js';
import { memoryDmaBuf, standInDevice } from './memory-exporter.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
});

describe('attach and detach', () => {
  test('attach calls the exporter once and lists the device; detach calls its detach exactly once', () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('importer A'));
    expect(attachment.dmabuf).toBe(buf);
    expect(bufinfoEntries()[0]?.attachments).toEqual([{ device: 'importer A', mappings: [] }]);
    buf.detach(attachment);
    expect(buf.priv.calls).toEqual(['attach importer A', 'detach importer A']);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });

  test.each([null, undefined, 'gpu', 3])('attach(%s) throws EINVAL and records nothing', (device) => {
    const buf = memoryDmaBuf(16);
    expect(() => buf.attach(device as unknown as GPUDevice)).toThrow(/^EINVAL: attach: /);
    expect(buf.priv.calls).toEqual([]);
    buf.put();
  });

  test("an exporter's refusal reaches the caller unchanged and nothing is recorded", () => {
    const refusal = new DmaBufError('EBUSY', 'attach: this exporter takes one importer');
    const buf = memoryDmaBuf(16, { fail: { attach: refusal } });
    expect(() => buf.attach(standInDevice('B'))).toThrow(refusal);
    expect(buf.attachments).toEqual([]);
    buf.put();
  });

  test('detach of another buffer\'s attachment, or twice, throws EINVAL', () => {
    const a = memoryDmaBuf(16);
    const b = memoryDmaBuf(16);
    const attachment = b.attach(standInDevice('B'));
    expect(() => { a.detach(attachment); }).toThrow(/^EINVAL: detach: /);
    b.detach(attachment);
    expect(() => { b.detach(attachment); }).toThrow(/^EINVAL: detach: /);
    expect(b.priv.calls.filter((c) => c.startsWith('detach'))).toHaveLength(1);
    a.put();
    b.put();
  });

  test('detach while a mapping is outstanding throws EBUSY; after unmap it succeeds', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('to-device');
    expect(() => { buf.detach(attachment); }).toThrow(/^EBUSY: /);
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
  });

  test('detach while a map is still under way throws EBUSY', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    const pending = attachment.map('from-device');
    expect(() => { buf.detach(attachment); }).toThrow(/^EBUSY: /);
    await attachment.unmap(await pending, 'from-device');
    buf.detach(attachment);
    buf.put();
  });
});

describe('map and unmap', () => {
  test('a table covers the buffer\'s size and is listed with its direction until unmapped', async () => {
    const buf = memoryDmaBuf(100);
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('bidirectional');
    expect(sgt.segments.reduce((n, s) => n + s.length, 0)).toBe(100);
    expect(bufinfoEntries()[0]?.attachments[0]?.mappings).toEqual(['bidirectional']);
    await attachment.unmap(sgt, 'bidirectional');
    expect(buf.priv.calls).toContain('unmapDmaBuf bidirectional');
    buf.detach(attachment);
    buf.put();
  });

  test.each(['up', '', null, 1])('map(%s) rejects with EINVAL without calling the exporter', async (dir) => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    await expect(attachment.map(dir as never)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(buf.priv.calls.some((c) => c.startsWith('mapDmaBuf'))).toBe(false);
    buf.detach(attachment);
    buf.put();
  });

  test('unmap of a table another attachment returned, of one already unmapped, or in another direction throws EINVAL', async () => {
    const buf = memoryDmaBuf(16);
    const a = buf.attach(standInDevice('A'));
    const b = buf.attach(standInDevice('B'));
    const sgt = await a.map('to-device');
    await expect(b.unmap(sgt, 'to-device')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(a.unmap(sgt, 'from-device')).rejects.toMatchObject({ code: 'EINVAL' });
    await a.unmap(sgt, 'to-device');
    await expect(a.unmap(sgt, 'to-device')).rejects.toMatchObject({ code: 'EINVAL' });
    buf.detach(a);
    buf.detach(b);
    buf.put();
  });

  test('two attachments may map at once: map holds no lock', async () => {
    const buf = memoryDmaBuf(16);
    const a = buf.attach(standInDevice('A'));
    const b = buf.attach(standInDevice('B'));
    const both = Promise.all([a.map('to-device'), b.map('to-device')]);
    expect(bufinfoEntries()[0]?.attachments.map((x) => x.device)).toEqual(['A', 'B']);
    const [sa, sb] = await both;
    await Promise.all([a.unmap(sa, 'to-device'), b.unmap(sb, 'to-device')]);
    buf.detach(a);
    buf.detach(b);
    buf.put();
  });

  test("an exporter's map that rejects with a plain Error reaches the caller as EIO, recording no mapping", async () => {
    const buf = memoryDmaBuf(16, { fail: { mapDmaBuf: new Error('no room') } });
    const attachment = buf.attach(standInDevice('A'));
    await expect(attachment.map('to-device')).rejects.toThrow(/^EIO: map: the exporter's mapDmaBuf op failed: no room/);
    buf.detach(attachment);
    buf.put();
  });

  test('release with attachments still listed detaches them without the detach op; they then refuse with EINVAL', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    buf.put();
    expect(buf.priv.calls.some((c) => c.startsWith('detach'))).toBe(false);
    await expect(attachment.map('to-device')).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
