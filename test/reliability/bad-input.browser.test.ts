// The bad-input matrix: every public call and constructor with wrong types, NaN, negative,
// fractional, huge and out-of-range numbers, unknown directions, released buffers, foreign
// attachments and tables, and fds of another table. Each must fail with its documented
// DmaBufError code, naming the call, and leave every byte and count as it was.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import {
  bufinfoEntries,
  DmaBufError,
  exportDmaBuf,
  FdTable,
  GpuHeap,
  PAGE_SIZE,
  type DmaBufAttachment,
  type DmaBufErrorCode,
  type DmaBufOps,
  type GpuDmaBuf,
  type GpuStorage,
  type SgTable,
} from 'webgpu-dmabuf';
import { expectNoLeaks, newDevice } from '../gpu/gpu-helpers.js';

interface World {
  heap: GpuHeap;
  exporter: GPUDevice;
  importer: GPUDevice;
  buf: GpuDmaBuf;
  other: GpuDmaBuf;
  released: GpuDmaBuf;
  attachment: DmaBufAttachment<GpuStorage>;
  foreign: DmaBufAttachment<GpuStorage>;
  sgt: SgTable;
  table: FdTable;
  otherTable: FdTable;
  fd: number;
  otherFd: number;
}

let w: World;
const SIZE = 2 * PAGE_SIZE + 5;
// The devices serve every case (a failed call must not break them either); each case has a
// heap, buffers, attachments and tables of its own.
let devices: { exporter: GPUDevice; importer: GPUDevice };

beforeAll(async () => {
  devices = { exporter: await newDevice('exporter'), importer: await newDevice('importer') };
});

afterAll(() => {
  devices.exporter.destroy();
  devices.importer.destroy();
});

beforeEach(async () => {
  const { exporter, importer } = devices;
  const heap = new GpuHeap(exporter);
  const buf = heap.allocate(SIZE, { name: 'victim' });
  await buf.beginCpuAccess(0, SIZE, 'to-device');
  for (let page = 0; page < 3; page++) {
    const view = buf.kmap(page);
    view.forEach((_, i) => (view[i] = (page * 13 + i) & 0xff));
    buf.kunmap(page, view);
  }
  buf.endCpuAccess(0, SIZE, 'to-device');
  const other = heap.allocate(PAGE_SIZE);
  const released = heap.allocate(PAGE_SIZE);
  released.put();
  const attachment = buf.attach(importer);
  const sgt = await attachment.map('to-device');
  const foreign = other.attach(importer);
  const table = new FdTable();
  const otherTable = new FdTable();
  const fd = table.install(buf);
  otherTable.install(other);
  const otherFd = otherTable.install(other);
  w = { heap, exporter, importer, buf, other, released, attachment, foreign, sgt, table, otherTable, fd, otherFd };
});

afterEach(async () => {
  await w.attachment.unmap(w.sgt, 'to-device');
  w.buf.detach(w.attachment);
  w.other.detach(w.foreign);
  w.table.closeAll();
  w.otherTable.closeAll();
  w.buf.put();
  w.other.put();
  expect(bufinfoEntries()).toEqual([]);
  expectNoLeaks(w.heap);
});

/** Everything a failed call must leave as it was. */
async function snapshot() {
  await w.buf.beginCpuAccess(0, SIZE, 'from-device');
  const bytes = [0, 1, 2].map((page) => {
    const view = w.buf.kmap(page);
    const copy = Array.from(view);
    w.buf.kunmap(page, view);
    return copy;
  });
  w.buf.endCpuAccess(0, SIZE, 'from-device');
  const { liveBuffers, storageBytes, mirrorBytes } = w.heap.stats();
  return { bytes, refs: [w.buf.refCount, w.other.refCount], liveBuffers, storageBytes, mirrorBytes, info: bufinfoEntries(), fds: [w.table.openFds(), w.otherTable.openFds()] };
}

type Case = [description: string, call: string, code: DmaBufErrorCode, run: () => unknown];

const NUMBERS: [string, unknown][] = [
  ['NaN', Number.NaN],
  ['-1', -1],
  ['1.5', 1.5],
  ['Infinity', Infinity],
  ['2^53', 2 ** 53],
  ["'1'", '1'],
  ['null', null],
  ['undefined', undefined],
  ['an object', {}],
];
const DIRECTIONS: unknown[] = ['up', '', 'TO-DEVICE', null, 1, undefined];
// Wrong types on purpose: the calls must stand them at run time.
const n = (value: unknown): never => value as never;
const validOps: DmaBufOps<object> = {
  mapDmaBuf: () => Promise.resolve({ segments: [] }),
  unmapDmaBuf: () => undefined,
  release: () => undefined,
  kmap: () => new Uint8Array(0),
  kmapAtomic: () => new Uint8Array(0),
};

const cases: Case[] = [
  ...NUMBERS.map(([label, v]): Case => [`allocate(${label})`, 'allocate', 'EINVAL', () => w.heap.allocate(n(v))]),
  ...NUMBERS.map(([label, v]): Case => [`allocate with usage ${label}`, 'allocate', 'EINVAL', () => w.heap.allocate(4, { usage: n(v === undefined ? -1 : v) })]),
  ['allocate beyond the budget', 'allocate', 'ENOMEM', () => w.heap.allocate(2 ** 40)],
  ...NUMBERS.map(([label, v]): Case => [`new GpuHeap with budgetBytes ${label}`, 'new GpuHeap', 'EINVAL', () => new GpuHeap(w.exporter, { budgetBytes: n(v === undefined ? 0 : v) })]),
  ['new GpuHeap(null)', 'new GpuHeap', 'EINVAL', () => new GpuHeap(n(null))],
  ['exportDmaBuf without options', 'exportDmaBuf', 'EINVAL', () => exportDmaBuf(n(undefined))],
  ['exportDmaBuf without priv', 'exportDmaBuf', 'EINVAL', () => exportDmaBuf({ priv: n(undefined), ops: validOps, size: 4 })],
  ['exportDmaBuf without kmapAtomic', 'exportDmaBuf', 'EINVAL', () => exportDmaBuf({ priv: {}, ops: { ...validOps, kmapAtomic: n(undefined) }, size: 4 })],
  ...NUMBERS.map(([label, v]): Case => [`exportDmaBuf with size ${label}`, 'exportDmaBuf', 'EINVAL', () => exportDmaBuf({ priv: {}, ops: validOps, size: n(v) })]),
  ...([null, undefined, 'gpu', 7] as unknown[]).map((d): Case => [`attach(${String(d)})`, 'attach', 'EINVAL', () => w.buf.attach(n(d))]),
  ['attach({})', 'attach', 'EINVAL', () => w.buf.attach(n({}))],
  ...NUMBERS.map(([label, v]): Case => [`attach with usage ${label}`, 'attach', 'EINVAL', () => w.buf.attach(w.importer, { usage: n(v === undefined ? -1 : v) })]),
  ['attach with usage MAP_READ', 'attach', 'EINVAL', () => w.buf.attach(w.importer, { usage: GPUBufferUsage.MAP_READ })],
  ['attach with an unknown usage bit', 'attach', 'EINVAL', () => w.buf.attach(w.importer, { usage: 0x400 })],
  ["attach on the exporter's device with usage the storage lacks", 'attach', 'EINVAL', () => w.buf.attach(w.exporter, { usage: GPUBufferUsage.INDEX })],
  ...NUMBERS.map(([label, v]): Case => [`allocate with segmentAlign ${label}`, 'allocate', 'EINVAL', () => w.heap.allocate(4, { segmentAlign: n(v === undefined ? 0 : v) })]),
  ['allocate with contiguous "yes"', 'allocate', 'EINVAL', () => w.heap.allocate(4, { contiguous: n('yes') })],
  ['allocate contiguous beyond the device limit', 'allocate', 'ENOMEM', () => w.heap.allocate(w.exporter.limits.maxStorageBufferBindingSize + 4, { contiguous: true })],
  ...NUMBERS.filter(([, v]) => v !== undefined).map(([label, v]): Case => [`entries(${label})`, 'entries', 'EINVAL', () => w.sgt.entries(n(v))]),
  ['detach of another buffer\'s attachment', 'detach', 'EINVAL', () => { w.buf.detach(w.foreign); }],
  ['detach({})', 'detach', 'EINVAL', () => { w.buf.detach(n({})); }],
  ['detach with a mapping outstanding', 'detach', 'EBUSY', () => { w.buf.detach(w.attachment); }],
  ...DIRECTIONS.map((d): Case => [`map(${String(d)})`, 'map', 'EINVAL', () => w.attachment.map(n(d))]),
  ['unmap of a table another attachment returned', 'unmap', 'EINVAL', () => w.foreign.unmap(w.sgt, 'to-device')],
  ['unmap({})', 'unmap', 'EINVAL', () => w.attachment.unmap(n({}), 'to-device')],
  ['unmap in another direction than mapped', 'unmap', 'EINVAL', () => w.attachment.unmap(w.sgt, 'bidirectional')],
  ...DIRECTIONS.map((d): Case => [`unmap(sgt, ${String(d)})`, 'unmap', 'EINVAL', () => w.attachment.unmap(w.sgt, n(d))]),
  ...NUMBERS.map(([label, v]): Case => [`beginCpuAccess(${label}, 4)`, 'beginCpuAccess', 'EINVAL', () => w.buf.beginCpuAccess(n(v), 4, 'from-device')]),
  ...NUMBERS.map(([label, v]): Case => [`beginCpuAccess(0, ${label})`, 'beginCpuAccess', 'EINVAL', () => w.buf.beginCpuAccess(0, n(v), 'from-device')]),
  ['beginCpuAccess(0, 0)', 'beginCpuAccess', 'EINVAL', () => w.buf.beginCpuAccess(0, 0, 'from-device')],
  ['beginCpuAccess one byte past the end', 'beginCpuAccess', 'EINVAL', () => w.buf.beginCpuAccess(1, SIZE, 'from-device')],
  ...DIRECTIONS.map((d): Case => [`beginCpuAccess(0, 4, ${String(d)})`, 'beginCpuAccess', 'EINVAL', () => w.buf.beginCpuAccess(0, 4, n(d))]),
  ['endCpuAccess with no begin', 'endCpuAccess', 'EINVAL', () => { w.buf.endCpuAccess(0, 4, 'to-device'); }],
  ...NUMBERS.map(([label, v]): Case => [`kmap(${label})`, 'kmap', 'EINVAL', () => w.buf.kmap(n(v))]),
  ['kmap of the page past the last', 'kmap', 'EINVAL', () => w.buf.kmap(3)],
  ['kmap of a page no range covers', 'kmap', 'ERANGE', () => w.buf.kmap(0)],
  ...NUMBERS.map(([label, v]): Case => [`kmapAtomic(${label})`, 'kmapAtomic', 'EINVAL', () => w.buf.kmapAtomic(n(v))]),
  ['kmapAtomic of a page no range covers', 'kmapAtomic', 'ERANGE', () => w.buf.kmapAtomic(2)],
  ['kunmap of a view never mapped', 'kunmap', 'EINVAL', () => { w.buf.kunmap(0, new Uint8Array(PAGE_SIZE)); }],
  ['kunmapAtomic of a view never mapped', 'kunmapAtomic', 'EINVAL', () => { w.buf.kunmapAtomic(0, new Uint8Array(PAGE_SIZE)); }],
  ['a name of 33 bytes', 'name', 'EINVAL', () => { w.buf.name = 'x'.repeat(33); }],
  ['a name that is a number', 'name', 'EINVAL', () => { w.buf.name = n(7); }],
  ['get of a released buffer', 'get', 'EINVAL', () => w.released.get()],
  ['put of a released buffer', 'put', 'EINVAL', () => { w.released.put(); }],
  ['attach to a released buffer', 'attach', 'EINVAL', () => w.released.attach(w.exporter)],
  ['beginCpuAccess of a released buffer', 'beginCpuAccess', 'EINVAL', () => w.released.beginCpuAccess(0, 4, 'from-device')],
  ['kmap of a released buffer', 'kmap', 'EINVAL', () => w.released.kmap(0)],
  ['naming a released buffer', 'name', 'EINVAL', () => { w.released.name = 'late'; }],
  ['install of a released buffer', 'install', 'EINVAL', () => w.table.install(w.released)],
  ['install of something else', 'install', 'EINVAL', () => w.table.install(n({ size: 4 }))],
  ...[null, 'yes', 1].map((c): Case => [`install with cloexec ${String(c)}`, 'install', 'EINVAL', () => w.table.install(w.buf, { cloexec: n(c) })]),
  ...[...NUMBERS, ['99', 99] as [string, unknown]].map(([label, v]): Case => [`get(${label})`, 'get', 'EBADF', () => w.table.get(n(v))]),
  ...NUMBERS.map(([label, v]): Case => [`close(${label})`, 'close', 'EBADF', () => { w.table.close(n(v)); }]),
  ['get of an fd open only in another table', 'get', 'EBADF', () => w.table.get(w.otherFd)],
  ['close of an fd open only in another table', 'close', 'EBADF', () => { w.table.close(w.otherFd); }],
  ['send of an fd open only in another table', 'send', 'EBADF', () => w.table.send(w.otherFd, w.otherTable)],
  ['send to something that is not a table', 'send', 'EINVAL', () => w.table.send(w.fd, n({}))],
  // Look-alikes of the heap (a Proxy, as Vue's reactive() gives, or an Object.create of its prototype).
  ['allocate on a Proxy of the heap', 'allocate', 'EINVAL', () => new Proxy(w.heap, {}).allocate(PAGE_SIZE)],
  ['stats on an Object.create of the heap', 'stats', 'EINVAL', () => (Object.create(GpuHeap.prototype) as GpuHeap).stats()],
  ['destroyed of a Proxy of the heap', 'destroyed', 'EINVAL', () => new Proxy(w.heap, {}).destroyed],
  ['destroy on an Object.create of the heap', 'destroy', 'EINVAL', () => { (Object.create(GpuHeap.prototype) as GpuHeap).destroy(); }],
];

test.each(cases)('%s fails with %s and changes nothing', async (_, call, code, run) => {
  const before = await snapshot();
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DmaBufError);
  expect(caught).toMatchObject({ code });
  expect((caught as Error).message).toContain(call);
  expect(await snapshot()).toEqual(before);
});
