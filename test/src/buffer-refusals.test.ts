// What a buffer's calls refuse, and what they hand the exporter's own failures on as: each
// refusal is a DmaBufError whose code, call and reason say exactly what was wrong.
import { afterEach, describe, expect, test } from 'vitest';
import { atomicKmapsHeld } from '../../src/atomic-kmap-slots.js';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { exportDmaBuf, type DmaBuf } from '../../src/dma-buf.js';
import { DmaBufError } from '../../src/error.js';
import type { DmaBufOps } from '../../src/ops.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf, memoryStorage, standInDevice, type MemoryStorage, NOTHING_OPS } from './memory-exporter.js';
import { fields, refusal } from './refusal.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
  expect(atomicKmapsHeld()).toBe(0);
});


const ops = NOTHING_OPS;

/** The reason a call on the released buffer `buf` gives. */
const released = (buf: { readonly id: number }) => `the buffer (id ${buf.id}) is already released`;

describe('exportDmaBuf', () => {
  test.each([
    ['no priv', { priv: undefined, ops, size: 4 }, 'priv is required, got undefined'],
    ['ops that are a number', { priv: {}, ops: 5, size: 4 }, 'ops must be an object, got 5'],
    ['ops that are null', { priv: {}, ops: null, size: 4 }, 'ops must be an object, got null'],
    ['ops that are a function', { priv: {}, ops: Object.assign(() => undefined, ops), size: 4 }, 'ops must be an object, got a function'],
    ['size 0', { priv: {}, ops, size: 0 }, 'size must be a positive integer, got 0'],
    ['a name that is not a string', { priv: {}, ops, size: 4, name: 5 }, 'name must be a string, got 5'],
    ['a name of 33 bytes', { priv: {}, ops, size: 4, name: 'x'.repeat(33) }, 'name is 33 bytes; the limit is 32'],
    ['an exporter name that is not a string', { priv: {}, ops, size: 4, exporter: 5 }, 'exporter must be a string, got 5'],
  ])('%s is EINVAL naming exportDmaBuf and the fault, and creates nothing', async (_what, options, reason) => {
    expect(fields(await refusal(() => exportDmaBuf(options as never)))).toEqual({ code: 'EINVAL', call: 'exportDmaBuf', reason });
  });

  test('a buffer exported without an exporter name shows <unnamed exporter>', () => {
    const buf = exportDmaBuf({ priv: {}, ops, size: 4 });
    expect(buf.exporter).toBe('<unnamed exporter>');
    expect(bufinfoEntries()[0]?.exporter).toBe('<unnamed exporter>');
    buf.put();
  });

  test('each buffer gets a new id, larger than the one before', () => {
    const a = exportDmaBuf({ priv: {}, ops, size: 4 });
    const b = exportDmaBuf({ priv: {}, ops, size: 4 });
    const c = exportDmaBuf({ priv: {}, ops, size: 4 });
    expect([b.id - a.id, c.id - b.id]).toEqual([1, 1]);
    a.put();
    b.put();
    c.put();
  });
});

describe('name', () => {
  test('setting a name that is not a string, or is too long, is EINVAL naming name, and keeps the old one', async () => {
    const buf = memoryDmaBuf(8, { name: 'old' });
    expect(fields(await refusal(() => { buf.name = 5 as never; }))).toEqual({ code: 'EINVAL', call: 'name', reason: 'name must be a string, got 5' });
    expect(fields(await refusal(() => { buf.name = 'é'.repeat(17); }))).toEqual({ code: 'EINVAL', call: 'name', reason: 'name is 34 bytes; the limit is 32' });
    expect(buf.name).toBe('old');
    buf.put();
  });

  test('setting the name of a released buffer is EINVAL naming name, before the name is looked at', async () => {
    const buf = memoryDmaBuf(8);
    buf.put();
    expect(fields(await refusal(() => { buf.name = 5 as never; }))).toEqual({ code: 'EINVAL', call: 'name', reason: released(buf) });
  });
});

/** Every call of a buffer that refuses once it is released, by name. */
const CALLS: readonly (readonly [string, (buf: DmaBuf<MemoryStorage>) => unknown])[] = [
  ['get', (b) => b.get()],
  ['put', (b) => { b.put(); }],
  ['attach', (b) => b.attach(standInDevice('late'))],
  ['detach', (b) => { b.detach({} as never); }],
  ['beginCpuAccess', (b) => b.beginCpuAccess(0, 1, 'to-device')],
  ['endCpuAccess', (b) => { b.endCpuAccess(0, 1, 'to-device'); }],
  ['kmap', (b) => b.kmap(0)],
  ['kmapAtomic', (b) => b.kmapAtomic(0)],
  ['kunmap', (b) => { b.kunmap(0, new Uint8Array(1)); }],
  ['kunmapAtomic', (b) => { b.kunmapAtomic(0, new Uint8Array(1)); }],
  ['vmap', (b) => b.vmap()],
  ['vunmap', (b) => { b.vunmap(new Uint8Array(1)); }],
  ['read', (b) => b.read(Uint8Array)],
  ['write', (b) => b.write(new Uint8Array(1))],
  ['exportSyncFile', (b) => b.exportSyncFile('read')],
  ['importSyncFile', (b) => { b.importSyncFile({} as never, 'read'); }],
];

describe('a released buffer', () => {
  test.each(CALLS)('refuses %s with EINVAL naming the call and the buffer, and calls no exporter op', async (call, run) => {
    const buf = memoryDmaBuf(8);
    buf.put();
    expect(fields(await refusal(() => run(buf)))).toEqual({ code: 'EINVAL', call, reason: released(buf) });
    expect(memoryStorage(buf).calls).toEqual(['release']);
  });

  test('cancels its reservation with EINVAL naming put and the buffer', () => {
    const buf = memoryDmaBuf(8);
    buf.put();
    const error = (() => {
      try {
        buf.resv.check('map');
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DmaBufError);
    const cause = (error as DmaBufError).cause;
    expect(cause).toBeInstanceOf(DmaBufError);
    expect(fields(cause as DmaBufError)).toEqual({ code: 'EINVAL', call: 'put', reason: `the last reference to buffer ${buf.id} is gone` });
  });

  test('lists no attachments, no CPU access and no windows in its own bufInfo', async () => {
    const buf = memoryDmaBuf(2 * PAGE_SIZE);
    const attachment = buf.attach(standInDevice('A'));
    await attachment.map('to-device');
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.kmap(0);
    buf.kmapAtomic(0);
    buf.put();
    expect(buf.bufInfo()).toMatchObject({ refCount: 0, attachments: [], cpuAccess: [], kmaps: 0, atomicKmaps: 0 });
  });

  test('gives back only the atomic slots its own windows held', async () => {
    const holder = memoryDmaBuf(PAGE_SIZE);
    await holder.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const held = holder.kmapAtomic(0);
    const buf = memoryDmaBuf(PAGE_SIZE);
    buf.put();
    expect(atomicKmapsHeld()).toBe(1);
    holder.kunmapAtomic(0, held);
    holder.endCpuAccess(0, PAGE_SIZE, 'from-device');
    holder.put();
  });
});

describe('bad arguments', () => {
  test.each([
    [null, 'null'],
    [undefined, 'undefined'],
    ['gpu', '"gpu"'],
    [3, '3'],
  ])('attach(%s) is EINVAL naming attach and the device', async (device, shown) => {
    const buf = memoryDmaBuf(8);
    expect(fields(await refusal(() => buf.attach(device as never)))).toEqual({ code: 'EINVAL', call: 'attach', reason: `device must be a GPUDevice, got ${shown}` });
    expect(memoryStorage(buf).calls).toEqual([]);
    buf.put();
  });

  test("detach of an attachment already detached is EINVAL saying it is not this buffer's", async () => {
    const buf = memoryDmaBuf(8);
    const attachment = buf.attach(standInDevice('A'));
    buf.detach(attachment);
    expect(fields(await refusal(() => { buf.detach(attachment); }))).toEqual({ code: 'EINVAL', call: 'detach', reason: 'the attachment is not one of this buffer, or it is already detached' });
    buf.put();
  });

  test.each([
    ['exportSyncFile', (b: DmaBuf<MemoryStorage>) => b.exportSyncFile('readwrite' as never)],
    ['importSyncFile', (b: DmaBuf<MemoryStorage>) => { b.importSyncFile(b.exportSyncFile('read'), 'readwrite' as never); }],
  ] as const)('%s with unknown flags is EINVAL naming the call and the flags', async (call, run) => {
    const buf = memoryDmaBuf(8);
    expect(fields(await refusal(() => run(buf)))).toEqual({ code: 'EINVAL', call, reason: `flags must be 'read', 'write' or 'rw', got "readwrite"` });
    buf.put();
  });

  test('vmap without CPU access over the whole buffer is ERANGE naming vmap and the size', async () => {
    const buf = memoryDmaBuf(8);
    await buf.beginCpuAccess(0, 7, 'from-device');
    expect(fields(await refusal(() => buf.vmap()))).toEqual({ code: 'ERANGE', call: 'vmap', reason: 'no active beginCpuAccess covers the whole buffer (8 bytes)' });
    buf.endCpuAccess(0, 7, 'from-device');
    buf.put();
  });
});

describe("the exporter's failures", () => {
  test.each([
  ['attach', (b: DmaBuf<MemoryStorage>) => b.attach(standInDevice('A'))],
  ['beginCpuAccess', (b: DmaBuf<MemoryStorage>) => b.beginCpuAccess(0, 1, 'to-device')],
  ] as const)("a %s op that throws a plain Error is EIO naming the call and the op", async (op, run) => {
    const buf = memoryDmaBuf(8, { fail: { [op]: new Error('broken') } });
    expect(fields(await refusal(() => run(buf)))).toEqual({ code: 'EIO', call: op, reason: `the exporter's ${op} op failed: broken` });
    expect(bufinfoEntries()[0]).toMatchObject({ attachments: [], cpuAccess: [] });
    buf.put();
  });

  test("a detach op that throws a plain Error is EIO naming detach and the op, and the attachment is detached all the same", async () => {
    const buf = memoryDmaBuf(8, { fail: { detach: new Error('broken') } });
    const attachment = buf.attach(standInDevice('A'));
    expect(fields(await refusal(() => { buf.detach(attachment); }))).toEqual({ code: 'EIO', call: 'detach', reason: "the exporter's detach op failed: broken" });
    expect(bufinfoEntries()[0]?.attachments).toEqual([]);
    buf.put();
  });

  test("an endCpuAccess op that throws a plain Error is EIO naming endCpuAccess and the op", async () => {
    const buf = memoryDmaBuf(8, { fail: { endCpuAccess: new Error('broken') } });
    await buf.beginCpuAccess(0, 8, 'to-device');
    expect(fields(await refusal(() => { buf.endCpuAccess(0, 8, 'to-device'); }))).toEqual({ code: 'EIO', call: 'endCpuAccess', reason: "the exporter's endCpuAccess op failed: broken" });
    buf.put();
  });

  test('endCpuAccess of an exporter without the op succeeds', async () => {
    const buf = memoryDmaBuf(8, { omit: ['beginCpuAccess', 'endCpuAccess'] });
    await buf.beginCpuAccess(0, 8, 'to-device');
    buf.endCpuAccess(0, 8, 'to-device');
    expect(bufinfoEntries()[0]?.cpuAccess).toEqual([]);
    buf.put();
  });
});

describe('kmap and kmapAtomic', () => {
  test('each calls its own exporter op, and kunmap and kunmapAtomic theirs, with the page and the view', async () => {
    const buf = memoryDmaBuf(2 * PAGE_SIZE);
    await buf.beginCpuAccess(0, 2 * PAGE_SIZE, 'from-device');
    buf.kunmap(1, buf.kmap(1));
    buf.kunmapAtomic(0, buf.kmapAtomic(0));
    expect(memoryStorage(buf).calls.slice(1)).toEqual(['kmap 1', 'kunmap 1', 'kmapAtomic 0', 'kunmapAtomic 0']);
    buf.endCpuAccess(0, 2 * PAGE_SIZE, 'from-device');
    buf.put();
  });

  test.each(['kmap', 'kmapAtomic'] as const)('%s of a page beyond the buffer is EINVAL naming the call and the page', async (call) => {
    const buf = memoryDmaBuf(PAGE_SIZE);
    expect(fields(await refusal(() => buf[call](1)))).toEqual({ code: 'EINVAL', call, reason: "page 1 is beyond the buffer's 1 pages" });
    buf.put();
  });

  test.each(['kmap', 'kmapAtomic'] as const)("an exporter's %s that throws its own DmaBufError reaches the caller unchanged; a plain Error is EIO", async (call) => {
    const own = new DmaBufError('ENOMEM', call, 'no window');
    const buf = memoryDmaBuf(PAGE_SIZE, { fail: { [call]: own } });
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(await refusal(() => buf[call](0))).toBe(own);
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 0, atomicKmaps: 0 });
    expect(atomicKmapsHeld()).toBe(0);
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
    const plain = memoryDmaBuf(PAGE_SIZE, { fail: { [call]: new Error('broken') } });
    await plain.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(fields(await refusal(() => plain[call](0)))).toEqual({ code: 'EIO', call, reason: `the exporter's ${call} op failed: broken` });
    expect(atomicKmapsHeld()).toBe(0);
    plain.endCpuAccess(0, PAGE_SIZE, 'from-device');
    plain.put();
  });

  test.each(['kmap', 'kmapAtomic'] as const)("an exporter's %s that returns something else than a Uint8Array is EIO naming the call, and holds nothing", async (call) => {
    const odd: DmaBufOps<object> = { ...ops, kmap: () => new Uint16Array(4) as never, kmapAtomic: () => new Uint16Array(4) as never };
    const buf = exportDmaBuf({ priv: {}, ops: odd, size: PAGE_SIZE });
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    expect(fields(await refusal(() => buf[call](0)))).toEqual({ code: 'EIO', call, reason: `the exporter's ${call} op returned an object for page 0, not a Uint8Array` });
    expect(atomicKmapsHeld()).toBe(0);
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 0, atomicKmaps: 0 });
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });

  test.each(['kunmap', 'kunmapAtomic'] as const)("an exporter's %s that throws a plain Error is EIO naming the call and the op, and the window is ended", async (call) => {
    const buf = memoryDmaBuf(PAGE_SIZE, { fail: { [call]: new Error('broken') } });
    await buf.beginCpuAccess(0, PAGE_SIZE, 'from-device');
    const view = call === 'kunmap' ? buf.kmap(0) : buf.kmapAtomic(0);
    expect(fields(await refusal(() => { buf[call](0, view); }))).toEqual({ code: 'EIO', call, reason: `the exporter's ${call} op failed: broken` });
    expect(bufinfoEntries()[0]).toMatchObject({ kmaps: 0, atomicKmaps: 0 });
    buf.endCpuAccess(0, PAGE_SIZE, 'from-device');
    buf.put();
  });
});
