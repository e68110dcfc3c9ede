import { afterEach, describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { exportDmaBuf } from '../../src/dma-buf.js';
import { DmaFence } from '../../src/dma-fence.js';
import { DmaBufError } from '../../src/error.js';
import type { DmaBufOps } from '../../src/ops.js';
import { memoryDmaBuf, memoryStorage, standInDevice } from './memory-exporter.js';

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
    expect(memoryStorage(buf).calls).toEqual(['attach importer A', 'detach importer A']);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });

  test.each([null, undefined, 'gpu', 3])('attach(%s) throws EINVAL and records nothing', (device) => {
    const buf = memoryDmaBuf(16);
    expect(() => buf.attach(device as unknown as GPUDevice)).toThrow(/^EINVAL: attach: /);
    expect(memoryStorage(buf).calls).toEqual([]);
    buf.put();
  });

  test("an exporter's refusal reaches the caller unchanged and nothing is recorded", () => {
    const refusal = new DmaBufError('EBUSY', 'attach', 'this exporter takes one importer');
    const buf = memoryDmaBuf(16, { fail: { attach: refusal } });
    expect(() => buf.attach(standInDevice('B'))).toThrow(refusal);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });

  test('detach of another buffer\'s attachment, or twice, throws EINVAL', () => {
    const a = memoryDmaBuf(16);
    const b = memoryDmaBuf(16);
    const attachment = b.attach(standInDevice('B'));
    expect(() => { a.detach(attachment); }).toThrow(/^EINVAL: detach: /);
    b.detach(attachment);
    expect(() => { b.detach(attachment); }).toThrow(/^EINVAL: detach: /);
    expect(memoryStorage(b).calls.filter((c) => c.startsWith('detach'))).toHaveLength(1);
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
    expect(memoryStorage(buf).calls).toContain('unmapDmaBuf bidirectional');
    buf.detach(attachment);
    buf.put();
  });

  test.each(['up', '', null, 1])('map(%s) rejects with EINVAL without calling the exporter', async (dir) => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    await expect(attachment.map(dir as never)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(memoryStorage(buf).calls.some((c) => c.startsWith('mapDmaBuf'))).toBe(false);
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
    expect(memoryStorage(buf).calls.some((c) => c.startsWith('detach'))).toBe(false);
    await expect(attachment.map('to-device')).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

describe('unmap options: until', () => {
  test("unmap hands the exporter's unmapDmaBuf the fence given as until, and nothing without one", async () => {
    const seen: unknown[] = [];
    const ops: DmaBufOps<object> = {
      mapDmaBuf: (_priv, attachment) => Promise.resolve({ segments: [{ buffer: { label: 'segment' } as GPUBuffer, offset: 0, start: 0, length: attachment.dmabuf.size }] }),
      unmapDmaBuf: (_priv, _attachment, _sgt, _dir, until) => { seen.push(until); },
      release: () => undefined,
      kmap: () => new Uint8Array(16),
      kmapAtomic: () => new Uint8Array(16),
    };
    const buf = exportDmaBuf({ priv: {}, ops, size: 16 });
    const attachment = buf.attach(standInDevice('A'));
    const until = new DmaFence();
    await attachment.unmap(await attachment.map('to-device'), 'to-device', { until });
    await attachment.unmap(await attachment.map('to-device'), 'to-device');
    await attachment.unmap(await attachment.map('to-device'), 'to-device', {});
    expect(seen).toEqual([until, undefined, undefined]);
    buf.detach(attachment);
    buf.put();
  });

  const fence = new DmaFence();
  test.each([
    ['options that are not an object', 5, /^EINVAL: unmap: options must be an object, got 5/],
    ['an until that is not a fence', { until: 'later' }, /^EINVAL: unmap: until must be a DmaFence, got "later"/],
    ['an until that is a Proxy of a fence', { until: new Proxy(fence, {}) }, /^EINVAL: unmap: until must be a DmaFence itself, got a look-alike of a DmaFence/],
    ['an until made with Object.create', { until: Object.create(DmaFence.prototype) as DmaFence }, /^EINVAL: unmap: until must be a DmaFence itself, got a look-alike of a DmaFence/],
  ])('unmap with %s throws EINVAL and leaves the table mapped', async (_what, options, message) => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('from-device');
    await expect(attachment.unmap(sgt, 'from-device', options as never)).rejects.toThrow(message);
    expect(memoryStorage(buf).calls.some((c) => c.startsWith('unmapDmaBuf'))).toBe(false);
    expect(bufinfoEntries()[0]?.attachments[0]?.mappings).toEqual(['from-device']);
    await attachment.unmap(sgt, 'from-device');
    buf.detach(attachment);
    buf.put();
  });
});

describe('attach options: contiguous', () => {
  test("contiguous is the attachment's, for the exporter to honour; default false", () => {
    const buf = memoryDmaBuf(16);
    const plain = buf.attach(standInDevice('A'));
    const one = buf.attach(standInDevice('B'), { contiguous: true });
    expect([plain.contiguous, one.contiguous]).toEqual([false, true]);
    buf.detach(plain);
    buf.detach(one);
    buf.put();
  });

  test.each([['yes'], [1], [null]])('contiguous %s throws EINVAL before the exporter is called, recording nothing', (value) => {
    const buf = memoryDmaBuf(16);
    expect(() => buf.attach(standInDevice('A'), { contiguous: value as unknown as boolean })).toThrow(/^EINVAL: attach: contiguous must be a boolean/);
    expect(memoryStorage(buf).calls).toEqual([]);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });
});

describe('attach options: usage', () => {
  test('the usage asked for is the attachment\'s, for the exporter to check at attach; default 0', () => {
    const buf = memoryDmaBuf(16);
    const plain = buf.attach(standInDevice('A'));
    const vertex = buf.attach(standInDevice('B'), { usage: 0x0020 });
    expect([plain.usage, vertex.usage]).toEqual([0, 0x0020]);
    buf.detach(plain);
    buf.detach(vertex);
    buf.put();
  });

  test.each([
    ['-1', { usage: -1 }, /attach: usage must be a non-negative integer, got -1/],
    ['1.5', { usage: 1.5 }, /attach: usage must be a non-negative integer/],
    ['a string', { usage: '32' }, /attach: usage must be a non-negative integer, got "32"/],
    ['an unknown bit', { usage: 0x0400 }, /attach: usage 1024 has bits that are no GPUBufferUsage flag/],
    ['options that are not an object', 5, /attach: options must be an object/],
  ])('usage %s throws EINVAL before the exporter is called, recording nothing', (_, options, message) => {
    const buf = memoryDmaBuf(16);
    expect(() => buf.attach(standInDevice('A'), options as never)).toThrow(message);
    expect(memoryStorage(buf).calls).toEqual([]);
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });
});

/** An exporter that says it moves `size` bytes whenever a direction asks it to, and logs the priv each op received. */
function movingDmaBuf(size: number, unmapReturns?: unknown) {
  const priv = { name: 'moving' };
  const seen: unknown[] = [];
  const ops: DmaBufOps<typeof priv> = {
    mapDmaBuf: (p, _attachment, dir) => {
      seen.push(p);
      const moves = dir === 'to-device' || dir === 'bidirectional';
      return Promise.resolve({ segments: [{ buffer: { label: 'moving' } as GPUBuffer, offset: 0, start: 0, length: size }], bytesMoved: moves ? size : 0 });
    },
    unmapDmaBuf: (p, _attachment, _sgt, dir) => {
      seen.push(p);
      if (unmapReturns !== undefined) return unmapReturns as number;
      return dir === 'from-device' || dir === 'bidirectional' ? size : undefined;
    },
    release: (p) => { seen.push(p); },
    kmap: () => new Uint8Array(0),
    kmapAtomic: () => new Uint8Array(0),
  };
  return { buf: exportDmaBuf({ priv, ops, size }), priv, seen };
}

describe('attachment.stats()', () => {
  test('counts maps, unmaps and the bytes the exporter says each moved, per attachment', async () => {
    const { buf } = movingDmaBuf(10);
    const a = buf.attach(standInDevice('A'));
    const b = buf.attach(standInDevice('B'));
    for (const dir of ['to-device', 'from-device', 'bidirectional', 'none'] as const) await a.unmap(await a.map(dir), dir);
    const outstanding = await b.map('to-device');
    expect(a.stats()).toEqual({ maps: 4, unmaps: 4, bytesToDevice: 20, bytesFromDevice: 20 });
    expect(b.stats()).toEqual({ maps: 1, unmaps: 0, bytesToDevice: 10, bytesFromDevice: 0 });
    await b.unmap(outstanding, 'to-device');
    buf.detach(a);
    buf.detach(b);
    expect(a.stats()).toEqual({ maps: 4, unmaps: 4, bytesToDevice: 20, bytesFromDevice: 20 });
    buf.put();
  });

  test('a map or unmap that fails counts nothing', async () => {
    const buf = memoryDmaBuf(16, { fail: { mapDmaBuf: new Error('no room') } });
    const attachment = buf.attach(standInDevice('A'));
    await expect(attachment.map('to-device')).rejects.toMatchObject({ code: 'EIO' });
    await expect(attachment.map('up' as never)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(attachment.stats()).toEqual({ maps: 0, unmaps: 0, bytesToDevice: 0, bytesFromDevice: 0 });
    buf.detach(attachment);
    buf.put();
  });

  test('an unmap op that returns something else than a byte count is EIO', async () => {
    const { buf } = movingDmaBuf(10, -3);
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('from-device');
    await expect(attachment.unmap(sgt, 'from-device')).rejects.toThrow(/^EIO: unmap: the exporter's unmapDmaBuf returned -3, not a byte count/);
    expect(attachment.stats().unmaps).toBe(0);
    buf.detach(attachment);
    buf.put();
  });
});

describe('the sealed contract', () => {
  test("every op receives the exporter's priv; the buffer shows it nowhere", async () => {
    const { buf, priv, seen } = movingDmaBuf(8);
    expect('priv' in buf).toBe(false);
    expect(Object.values(buf)).not.toContain(priv);
    const attachment = buf.attach(standInDevice('A'));
    expect(Object.values(attachment)).not.toContain(priv);
    await attachment.unmap(await attachment.map('to-device'), 'to-device');
    buf.detach(attachment);
    buf.put();
    expect(seen).toEqual([priv, priv, priv]);
  });

  test('neither the buffer nor the attachment exposes the attachments list or the hooks detach and release use', () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    expect('attachments' in buf).toBe(false);
    for (const hook of ['markDetached', 'busy', 'bufInfo']) expect(hook in attachment).toBe(false);
    expect(Object.keys(attachment).sort()).toEqual(['contiguous', 'device', 'dmabuf', 'usage']);
    buf.detach(attachment);
    buf.put();
  });
});
