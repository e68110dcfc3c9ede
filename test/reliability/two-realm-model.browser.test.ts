// Model-based tests across two realms: the page and a real module worker, each
// with its own fd table, its own heap and its own two devices (each from its own adapter),
// joined by the FdSocket that spawnWorker makes. fast-check generates steps that run in either
// realm on buffers exported in one and passed to the other, by inheritance through
// spawnWorker or by send/receive on the socket.
//
// 1. Steps one at a time: references taken and given back (get/put, close, send in either
//    direction), CPU access (begin, kmap/kmapAtomic writes and reads, vmap, end) and device
//    access (attach the realm's own device, map and unmap in each direction, a shader's
//    writes) in either realm. A byte model of each buffer is checked exactly after each
//    step: every byte read in either realm equals it. After each step each realm's debug
//    listing (name, exporter, size, references) and heap are checked against the reference
//    rules of docs/workers.md (the rules across realms): an importing realm's proxy holds its own references;
//    the exporting realm holds one more while the other realm holds any; the buffer is
//    released in the exporting realm, once, when the last reference anywhere is gone. Each
//    run ends by giving every reference back in a generated order, checked the same way.
// 2. Steps from both realms issued without awaiting each other, in an order fast-check's
//    scheduler (`fc.scheduler()`) picks: device access (map, shader, unmap, each direction),
//    CPU writes and reads, and either realm closing its fd in the middle. Only what the
//    contract promises is asserted (docs/workers.md, remote/serve.ts and connection.ts):
//    calls on one buffer take effect in each realm's own call order; across realms an effect
//    is known to have happened only through an answer the page awaited (the exporting realm's
//    call was made; the importing realm's write was answered: an unmap that moved bytes back
//    resolved, or a later call of that realm that reads from the exporting realm resolved). A
//    read may show any write that no write known to come after it (and before the read) has
//    replaced; a map's mirror, no write called after it in its realm; bytes under a CPU window
//    that writes and overlaps the read meanwhile (in its realm or the exporting one, whose
//    pages serve the reads) are not checked, as the contract leaves them undefined. The buffer
//    must live on while any reference is held anywhere (an fd closed in the exporting realm
//    leaves it serving the other) and be released there once after the last one.
// Both transports ('shared-memory', 'message') are drawn for every run of each part.
//
// A failure prints its seed and the shrunk steps. More runs:
// VITE_DMABUF_TWO_REALM_RUNS=200 npx vitest run --project browser test/reliability/two-realm-model.browser.test.ts
// (VITE_DMABUF_TWO_REALM_SEED and VITE_DMABUF_TWO_REALM_PATH replay a failure).
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { bufinfoEntries, FdTable, GpuHeap, PAGE_SIZE, type DmaDirection, type FdSocketTransport, type GpuDmaBuf, type GpuHeapStats } from 'webgpu-dmabuf';
import { expectNoLeaks, newDevice } from '../gpu/gpu-helpers.js';
import { shaderByte } from '../gpu/shader-pattern.js';
import { cpuByte, type RealmReport } from '../workers/realm-commands.js';
import { terminateAgents } from '../workers/agent.js';
import { pageRealm, spawnRealmWorker, type Realm, type RealmName, type RealmWorker } from '../workers/realms.js';

const runs = Number(import.meta.env.VITE_DMABUF_TWO_REALM_RUNS ?? 8);
// A failure's seed and path replay it (with -t naming its test): VITE_DMABUF_TWO_REALM_SEED=…
// VITE_DMABUF_TWO_REALM_PATH=….
const replaySeed = import.meta.env.VITE_DMABUF_TWO_REALM_SEED as string | undefined;
const replayPath = import.meta.env.VITE_DMABUF_TWO_REALM_PATH as string | undefined;
const replay = replaySeed === undefined ? {} : { seed: Number(replaySeed), ...(replayPath === undefined ? {} : { path: replayPath }) };
const MAX_SIZE = 3 * PAGE_SIZE + 13;
const REALMS: readonly RealmName[] = ['page', 'worker'];
const other = (realm: RealmName): RealmName => (realm === 'page' ? 'worker' : 'page');
const movesToDevice = (dir: DmaDirection): boolean => dir === 'to-device' || dir === 'bidirectional';
const movesFromDevice = (dir: DmaDirection): boolean => dir === 'from-device' || dir === 'bidirectional';

let pageDevices: GPUDevice[] = [];

beforeAll(async () => {
  pageDevices = [await newDevice('page A'), await newDevice('page B')];
});

afterEach(() => {
  terminateAgents();
});

afterAll(() => {
  for (const device of pageDevices) device.destroy();
});

/** `[start, start + len)` inside a buffer of `size` bytes, from two free numbers. */
function rangeIn(size: number, a: number, b: number): [number, number] {
  const start = a % size;
  return [start, 1 + (b % (size - start))];
}

/** The first offset where `seen` and `expected` differ, named for a readable failure. */
function expectBytes(seen: Uint8Array, expected: Uint8Array, what: string): void {
  expect(seen.length, `${what}: length`).toBe(expected.length);
  const bad = seen.findIndex((value, i) => value !== expected[i]);
  if (bad >= 0) expect.fail(`${what}: byte ${bad} is ${seen[bad]}, the model says ${expected[bad]}`);
}

/** A realm and its worker, set up for one run. */
interface World {
  readonly realms: Record<RealmName, Realm>;
  readonly worker: RealmWorker;
  readonly pageTable: FdTable;
  readonly pageHeap: GpuHeap;
  /** Numbers for the realms' CPU accesses and attachments. */
  nextId: number;
}

/** How the realms' bytes travel: forced on the page's end of the socket. */
const transportArb = fc.constantFrom<FdSocketTransport>('shared-memory', 'message');

/** Starts a run's worker with spawnWorker from `pageTable`, and the page realm on the same socket. */
async function startWorld(pageTable: FdTable, pageHeap: GpuHeap, transport: FdSocketTransport): Promise<World> {
  const worker = await spawnRealmWorker(pageTable, { socket: { transport } });
  const workerTransport = await worker.realm.call('transport');
  expect([worker.socket.transport, workerTransport], 'the transport at both ends').toEqual([transport, transport]);
  return { realms: { page: pageRealm(pageTable, worker.socket, pageDevices, pageHeap), worker: worker.realm }, worker, pageTable, pageHeap, nextId: 1 };
}

/**
 * Ends a run: the worker's heap destroyed with nothing left, no WebGPU error in it, the worker
 * terminated, the socket closed, nothing left in the page's listing, the page's heap checked
 * for leaks. After a failure, only cleans up (its own checks would hide the failure), so that
 * the runs fast-check makes while shrinking start from nothing.
 */
async function endWorld(w: World, failed: boolean): Promise<void> {
  if (failed) {
    // The worker's death closes its fds: the page drops what it held for it.
    w.worker.terminate();
    try {
      await w.realms.page.call('drop-all');
      await expect.poll(() => bufinfoEntries().length).toBe(0);
      if (!w.worker.socket.closed) w.worker.socket.close();
      w.pageHeap.destroy();
    } catch {
      // Best effort: the failure being reported is the run's own.
    }
    return;
  }
  try {
    const { stagingBytes, idleMirrorBytes } = await w.realms.worker.call<GpuHeapStats>('destroy-heap');
    expect({ stagingBytes, idleMirrorBytes }, 'the worker heap after destroy').toEqual({ stagingBytes: 0, idleMirrorBytes: 0 });
    expect(await w.realms.worker.call('gpu-errors'), 'WebGPU errors in the worker').toEqual([]);
  } finally {
    w.worker.terminate();
    w.worker.socket.close();
  }
  expect(bufinfoEntries()).toEqual([]);
  expectNoLeaks(w.pageHeap);
}

// ---------------------------------------------------------------------------------------
// 1. Steps one at a time.

interface ModelBuffer {
  readonly name: string;
  readonly size: number;
  readonly exporter: RealmName;
  bytes: Uint8Array;
  released: boolean;
  /** The page's buffer object, for a buffer the page exports (its `released` flag). */
  readonly real: GpuDmaBuf | undefined;
}

interface ModelRealm {
  /** Open fds: fd → buffer index. */
  readonly fds: Map<number, number>;
  /** References taken with get: handle → buffer index. */
  readonly held: Map<number, number>;
}

interface Model {
  readonly buffers: ModelBuffer[];
  readonly realms: Record<RealmName, ModelRealm>;
  nextHandle: number;
}

type Cmd = fc.AsyncCommand<Model, World>;

function lowestFree(fds: Map<number, number>): number {
  let fd = 0;
  while (fds.has(fd)) fd++;
  return fd;
}

/** References the realm's own code holds on buffer `b`: its fds and its gets. */
function local(m: Model, realm: RealmName, b: number): number {
  const { fds, held } = m.realms[realm];
  return [...fds.values(), ...held.values()].filter((x) => x === b).length;
}

/** The buffer's reference count in `realm` (0: not there): the exporting realm holds one more while the other realm holds any. */
function refsIn(m: Model, realm: RealmName, b: number): number {
  const buffer = m.buffers[b];
  if (!buffer) return 0;
  return local(m, realm, b) + (realm === buffer.exporter && local(m, other(realm), b) > 0 ? 1 : 0);
}

/** What a realm's listing and heap must show. */
interface Expected {
  readonly listing: Record<string, { exporter: string; size: number; refCount: number }>;
  readonly liveBuffers: number;
  readonly fds: number[];
}

const heapName = (realm: RealmName): string => `${realm}-heap`;

function expected(m: Model, realm: RealmName): Expected {
  const listing: Expected['listing'] = {};
  m.buffers.forEach((buffer, b) => {
    const refCount = refsIn(m, realm, b);
    if (refCount > 0) listing[buffer.name] = { exporter: heapName(buffer.exporter), size: buffer.size, refCount };
  });
  return {
    listing,
    liveBuffers: m.buffers.filter((buffer) => buffer.exporter === realm && !buffer.released).length,
    fds: [...m.realms[realm].fds.keys()].sort((x, y) => x - y),
  };
}

function observed(report: RealmReport): Expected {
  const listing: Expected['listing'] = {};
  // A buffer listed twice (a second proxy, or a proxy of the realm's own buffer) shows as a second key.
  for (const entry of report.listing) listing[entry.name in listing ? `${entry.name} again` : entry.name] = { exporter: entry.exporter, size: entry.size, refCount: entry.refCount };
  return { listing, liveBuffers: report.heap.liveBuffers, fds: [...report.fds] };
}

/**
 * After a step: buffers whose last reference anywhere is gone are released (in the model),
 * and both realms' listings, heaps and fds match the model. References given back by
 * message settle a little later: poll until they do.
 */
async function settle(m: Model, w: World): Promise<void> {
  m.buffers.forEach((buffer, b) => {
    if (!buffer.released && local(m, 'page', b) + local(m, 'worker', b) === 0) buffer.released = true;
  });
  const want = { page: expected(m, 'page'), worker: expected(m, 'worker') };
  await expect
    .poll(async () => ({ page: observed(await w.realms.page.call<RealmReport>('report')), worker: observed(await w.realms.worker.call<RealmReport>('report')) }))
    .toEqual(want);
  for (const buffer of m.buffers) if (buffer.real) expect(buffer.real.released, `${buffer.name} released in the page`).toBe(buffer.released);
}

/** The `pick`-th open fd of `realm` (in fd order), with its buffer. */
function pickFd(m: Model, realm: RealmName, pick: number): { fd: number; b: number; buffer: ModelBuffer } {
  const fds = [...m.realms[realm].fds].sort(([x], [y]) => x - y);
  const chosen = fds[pick % Math.max(1, fds.length)];
  const buffer = chosen && m.buffers[chosen[1]];
  if (!chosen || !buffer) throw new Error(`the model has no fd open in the ${realm}`);
  return { fd: chosen[0], b: chosen[1], buffer };
}

const hasFd = (m: Model, realm: RealmName): boolean => m.realms[realm].fds.size > 0;

class Export implements Cmd {
  constructor(readonly realm: RealmName, readonly size: number) {}
  check = (m: Model) => m.buffers.filter((b) => !b.released).length < 3;
  async run(m: Model, w: World): Promise<void> {
    const name = `b${m.buffers.length}`;
    const fd = await w.realms[this.realm].call<number>('export', { size: this.size, name });
    expect(fd, 'the new fd').toBe(lowestFree(m.realms[this.realm].fds));
    let real: GpuDmaBuf | undefined;
    if (this.realm === 'page') {
      real = w.pageTable.get(fd) as GpuDmaBuf;
      real.put();
    }
    m.realms[this.realm].fds.set(fd, m.buffers.length);
    m.buffers.push({ name, size: this.size, exporter: this.realm, bytes: new Uint8Array(this.size), released: false, real });
    await settle(m, w);
  }
  toString = () => `${this.realm}.export(${this.size})`;
}

/** Sends an fd over the socket; the other realm receives it at its lowest free fd. */
class Send implements Cmd {
  constructor(readonly from: RealmName, readonly pick: number) {}
  check = (m: Model) => hasFd(m, this.from);
  async run(m: Model, w: World): Promise<void> {
    const to = other(this.from);
    const { fd, b } = pickFd(m, this.from, this.pick);
    const received = w.realms[to].call<number>('receive');
    await w.realms[this.from].call('send', { fd });
    const got = await received;
    expect(got, `the fd received in the ${to}`).toBe(lowestFree(m.realms[to].fds));
    const buffer = m.buffers[b];
    if (to === 'page' && buffer?.real) {
      // Back in its own realm: the buffer itself, not a proxy of it.
      const back = w.pageTable.get(got);
      back.put();
      expect(back, `${buffer.name} back in the page`).toBe(buffer.real);
    }
    m.realms[to].fds.set(got, b);
    await settle(m, w);
  }
  toString = () => `${this.from}.send(fd #${this.pick})`;
}

class Get implements Cmd {
  constructor(readonly realm: RealmName, readonly pick: number) {}
  check = (m: Model) => hasFd(m, this.realm);
  async run(m: Model, w: World): Promise<void> {
    const { fd, b } = pickFd(m, this.realm, this.pick);
    const handle = m.nextHandle++;
    await w.realms[this.realm].call('get', { fd, handle });
    m.realms[this.realm].held.set(handle, b);
    await settle(m, w);
  }
  toString = () => `${this.realm}.get(fd #${this.pick})`;
}

class Put implements Cmd {
  constructor(readonly realm: RealmName, readonly pick: number) {}
  check = (m: Model) => m.realms[this.realm].held.size > 0;
  async run(m: Model, w: World): Promise<void> {
    const handles = [...m.realms[this.realm].held.keys()];
    const handle = handles[this.pick % handles.length] ?? 0;
    await w.realms[this.realm].call('put', { handle });
    m.realms[this.realm].held.delete(handle);
    await settle(m, w);
  }
  toString = () => `${this.realm}.put(#${this.pick})`;
}

class Close implements Cmd {
  constructor(readonly realm: RealmName, readonly pick: number) {}
  check = (m: Model) => hasFd(m, this.realm);
  async run(m: Model, w: World): Promise<void> {
    const { fd } = pickFd(m, this.realm, this.pick);
    await w.realms[this.realm].call('close', { fd });
    m.realms[this.realm].fds.delete(fd);
    await settle(m, w);
  }
  toString = () => `${this.realm}.close(fd #${this.pick})`;
}

/** Reads `[start, start + len)` through CPU access in `realm` (kmap, or vmap for the whole buffer) and compares it with the model. */
async function cpuRead(w: World, realm: Realm, fd: number, buffer: ModelBuffer, start: number, len: number, what: string): Promise<void> {
  const id = w.nextId++;
  const whole = start === 0 && len === buffer.size;
  await realm.call('begin', { id, fd, start, len, dir: 'from-device' });
  try {
    const seen = await realm.call<Uint8Array>(whole ? 'vmap' : 'window', { id });
    expectBytes(seen, buffer.bytes.subarray(start, start + len), what);
  } finally {
    await realm.call('end', { id });
  }
}

/**
 * The CPU writes a range in `realm`; then that realm reads the whole buffer back, which (in an
 * importing realm) is served after the write has ended in the exporting realm: so the model
 * holds for both realms from the next step on. Not a byte outside the range may change.
 */
class CpuWrite implements Cmd {
  constructor(readonly realm: RealmName, readonly pick: number, readonly a: number, readonly b: number, readonly dir: DmaDirection, readonly seed: number) {}
  check = (m: Model) => hasFd(m, this.realm);
  async run(m: Model, w: World): Promise<void> {
    const { fd, buffer } = pickFd(m, this.realm, this.pick);
    const [start, len] = rangeIn(buffer.size, this.a, this.b);
    const realm = w.realms[this.realm];
    const id = w.nextId++;
    await realm.call('begin', { id, fd, start, len, dir: this.dir });
    try {
      const seen = await realm.call<Uint8Array>('window', { id, seed: this.seed });
      if (this.dir === 'bidirectional') expectBytes(seen, buffer.bytes.subarray(start, start + len), `${String(this)}: the window`);
    } finally {
      await realm.call('end', { id });
    }
    for (let i = start; i < start + len; i++) buffer.bytes[i] = cpuByte(i, this.seed);
    await cpuRead(w, realm, fd, buffer, 0, buffer.size, `${String(this)}: the whole buffer after`);
    await settle(m, w);
  }
  toString = () => `${this.realm}.cpuWrite(fd #${this.pick}, ${this.a}, ${this.b}, '${this.dir}', seed ${this.seed})`;
}

class CpuRead implements Cmd {
  constructor(readonly realm: RealmName, readonly pick: number, readonly a: number, readonly b: number) {}
  check = (m: Model) => hasFd(m, this.realm);
  async run(m: Model, w: World): Promise<void> {
    const { fd, buffer } = pickFd(m, this.realm, this.pick);
    const [start, len] = rangeIn(buffer.size, this.a, this.b);
    await cpuRead(w, w.realms[this.realm], fd, buffer, start, len, String(this));
    await settle(m, w);
  }
  toString = () => `${this.realm}.cpuRead(fd #${this.pick}, ${this.a}, ${this.b})`;
}

/** Runs `use` with an attachment (numbered `id`) of `fd` in `realm` to its device `device`, detached afterwards in every case. */
async function attached(w: World, realm: Realm, fd: number, device: number, use: (id: number) => Promise<void>): Promise<void> {
  const id = w.nextId++;
  await realm.call('attach', { id, fd, device });
  try {
    await use(id);
  } finally {
    await realm.call('detach', { id });
  }
}

/**
 * The realm attaches its own device, maps in `dir` (the mapping shows the model when `dir`
 * moves bytes to the device), a shader writes every byte, and it unmaps and detaches. The
 * write reaches the buffer when `dir` moves bytes back, and always on the exporting realm's
 * heap device (zero-copy).
 */
class DeviceWrite implements Cmd {
  constructor(readonly realm: RealmName, readonly pick: number, readonly device: number, readonly dir: DmaDirection, readonly seed: number) {}
  check = (m: Model) => hasFd(m, this.realm);
  async run(m: Model, w: World): Promise<void> {
    const { fd, buffer } = pickFd(m, this.realm, this.pick);
    const realm = w.realms[this.realm];
    await attached(w, realm, fd, this.device, async (id) => {
      await realm.call('map', { id, dir: this.dir });
      if (movesToDevice(this.dir)) expectBytes(await realm.call<Uint8Array>('read-mapping', { id }), buffer.bytes, `${String(this)}: the mapping`);
      await realm.call('unmap', { id, seed: this.seed });
    });
    if ((this.realm === buffer.exporter && this.device === 0) || movesFromDevice(this.dir)) buffer.bytes = Uint8Array.from({ length: buffer.size }, (_, i) => shaderByte(i, this.seed));
    // Read back where the buffer lives when that realm has it open, else where it was written.
    const there = lowestFdOf(m, buffer);
    if (there >= 0) await cpuRead(w, w.realms[buffer.exporter], there, buffer, 0, buffer.size, `${String(this)}: the buffer in its exporting realm after`);
    else await cpuRead(w, realm, fd, buffer, 0, buffer.size, `${String(this)}: the buffer after`);
    await settle(m, w);
  }
  toString = () => `${this.realm}.deviceWrite(fd #${this.pick}, device ${this.device}, '${this.dir}', seed ${this.seed})`;
}

/** An fd of the buffer in its exporting realm, or -1 when that realm has none open. */
function lowestFdOf(m: Model, buffer: ModelBuffer): number {
  const b = m.buffers.indexOf(buffer);
  return [...m.realms[buffer.exporter].fds].filter(([, x]) => x === b).map(([fd]) => fd).sort((x, y) => x - y)[0] ?? -1;
}

class DeviceRead implements Cmd {
  constructor(readonly realm: RealmName, readonly pick: number, readonly device: number) {}
  check = (m: Model) => hasFd(m, this.realm);
  async run(m: Model, w: World): Promise<void> {
    const { fd, buffer } = pickFd(m, this.realm, this.pick);
    const realm = w.realms[this.realm];
    await attached(w, realm, fd, this.device, async (id) => {
      // Twice: every map of one attachment shows the buffer as it is.
      for (let n = 0; n < 2; n++) {
        await realm.call('map', { id, dir: 'to-device' });
        expectBytes(await realm.call<Uint8Array>('read-mapping', { id }), buffer.bytes, `${String(this)}: mapping ${n + 1}`);
        await realm.call('unmap', { id });
      }
    });
    await settle(m, w);
  }
  toString = () => `${this.realm}.deviceRead(fd #${this.pick}, device ${this.device})`;
}

const realmArb = fc.constantFrom<RealmName>(...REALMS);
const pick = fc.nat(20);
const steps = [
  fc.tuple(realmArb, fc.integer({ min: 1, max: MAX_SIZE })).map(([realm, size]) => new Export(realm, size)),
  fc.tuple(realmArb, pick).map(([realm, p]) => new Send(realm, p)),
  fc.tuple(realmArb, pick).map(([realm, p]) => new Get(realm, p)),
  fc.tuple(realmArb, pick).map(([realm, p]) => new Put(realm, p)),
  fc.tuple(realmArb, pick).map(([realm, p]) => new Close(realm, p)),
  fc.tuple(realmArb, pick, fc.nat(MAX_SIZE), fc.nat(MAX_SIZE), fc.constantFrom<DmaDirection>('to-device', 'bidirectional'), fc.nat(255)).map(([realm, p, a, b, dir, seed]) => new CpuWrite(realm, p, a, b, dir, seed)),
  fc.tuple(realmArb, pick, fc.nat(MAX_SIZE), fc.nat(MAX_SIZE)).map(([realm, p, a, b]) => new CpuRead(realm, p, a, b)),
  fc.tuple(realmArb, pick, fc.nat(1), fc.constantFrom<DmaDirection>('to-device', 'from-device', 'bidirectional', 'none'), fc.nat(255)).map(([realm, p, d, dir, seed]) => new DeviceWrite(realm, p, d, dir, seed)),
  fc.tuple(realmArb, pick, fc.nat(1)).map(([realm, p, d]) => new DeviceRead(realm, p, d)),
];

/** Buffers the page exports before it spawns the worker: inherited at the same fd unless close-on-exec. */
const inheritedArb = fc.array(fc.record({ size: fc.integer({ min: 1, max: MAX_SIZE }), cloexec: fc.boolean() }), { maxLength: 2 });

test(`steps in the page and a worker on buffers passed between them match the byte and reference model, each released once in its exporting realm after the last reference anywhere (${runs} runs)`, async () => {
  await fc.assert(
    fc.asyncProperty(transportArb, inheritedArb, fc.commands(steps, { maxCommands: 25 }), fc.nat(), async (transport, inherited, cmds, releaseOrder) => {
      const pageTable = new FdTable();
      const pageHeap = new GpuHeap(pageDevices[0] as GPUDevice, { name: heapName('page') });
      const m: Model = { buffers: [], realms: { page: { fds: new Map(), held: new Map() }, worker: { fds: new Map(), held: new Map() } }, nextHandle: 1 };
      for (const { size, cloexec } of inherited) {
        const name = `b${m.buffers.length}`;
        const buf = pageHeap.allocate(size, { name });
        const fd = pageTable.install(buf, { cloexec });
        buf.put();
        m.realms.page.fds.set(fd, m.buffers.length);
        if (!cloexec) m.realms.worker.fds.set(fd, m.buffers.length);
        m.buffers.push({ name, size, exporter: 'page', bytes: new Uint8Array(size), released: false, real: buf });
      }
      const w = await startWorld(pageTable, pageHeap, transport);
      let failed = true;
      try {
        await settle(m, w);
        await fc.asyncModelRun(() => ({ model: m, real: w }), cmds);
        // Every reference given back, in a generated order: each buffer released once its last one goes.
        const left = REALMS.flatMap((realm) => [
          ...[...m.realms[realm].fds.keys()].map((fd) => ({ realm, fd, handle: undefined })),
          ...[...m.realms[realm].held.keys()].map((handle) => ({ realm, fd: undefined, handle })),
        ]);
        const order = left.map((item, k) => ({ item, key: (k * 2_654_435_761 + releaseOrder) % 4_294_967_291 })).sort((x, y) => x.key - y.key);
        for (const { item } of order) {
          if (item.fd !== undefined) {
            await w.realms[item.realm].call('close', { fd: item.fd });
            m.realms[item.realm].fds.delete(item.fd);
          } else {
            await w.realms[item.realm].call('put', { handle: item.handle });
            m.realms[item.realm].held.delete(item.handle);
          }
          await settle(m, w);
        }
        expect(m.buffers.every((buffer) => buffer.released)).toBe(true);
        failed = false;
      } finally {
        await endWorld(w, failed);
      }
    }),
    { numRuns: runs, ...replay },
  );
}, Math.max(60_000, runs * 5_000));

// ---------------------------------------------------------------------------------------
// 2. Steps from both realms, not awaiting each other.
//
// The page is the only one that knows when anything happened: `clock` counts its events. A
// call is issued at the tick when the page makes it, or posts it to the worker (which makes
// it as the message arrives, so the worker's calls are in the order the page issued them).
// An answer is known at the tick when the task that awaited it goes on.

/** A write to the buffer as the model knows it: its bytes and when it is known to have taken effect. */
interface Write {
  readonly realm: RealmName;
  readonly start: number;
  readonly len: number;
  /** Its bytes; `undefined` while a CPU write's are not known yet (the answer to its `endCpuAccess` has not come). */
  values: Uint8Array | undefined;
  /** The tick its effect's call (an `endCpuAccess`, an `unmap`) was issued: its place in its realm's call order. */
  readonly issued: number;
  /** The tick from which its effect is known to be in the exporting realm's buffer (Infinity until then). */
  known: number;
  readonly label: string;
}

/**
 * A buffer larger than the shared ring (4 x 1 MiB): its bytes cross in several pieces, over
 * several turns of each realm, so later calls have the chance to come between them.
 */
const LARGE_SIZE = 4 * 1024 * 1024 + 2 * PAGE_SIZE + 5;

/** Whether offset `i` of a buffer of `size` bytes is checked: every one of a small buffer; of a large one, its first and last pages and one in 4099 (a prime: every place in a word and a page). */
function checked(size: number, i: number): boolean {
  return size <= MAX_SIZE || i < 2 * PAGE_SIZE || i >= size - 2 * PAGE_SIZE || i % 4099 === 0;
}

function covers(w: Write, offset: number): boolean {
  return w.start <= offset && offset < w.start + w.len;
}

/** A CPU-access range, for the reads it may disturb (the stock exporter's shared pages; remote/proxy-pages.ts). */
interface CpuRange {
  readonly realm: RealmName;
  readonly start: number;
  readonly len: number;
  readonly writes: boolean;
  readonly begun: number;
  ended: number;
}

/** A read: where, when it was issued and (for a mirror, a snapshot as of its call) when it was answered. */
interface Read {
  readonly realm: RealmName;
  readonly issued: number;
  /** The tick its answer was known; the bytes were looked at by then. */
  readonly checked: number;
  /** A map's mirror: it holds the bytes as of its call, so no write issued after it can show. */
  readonly snapshot: boolean;
  /** Its own range, when it is a writing range's window (not a disturbance of itself). */
  readonly own?: CpuRange;
}

class TwoRealmBuffer {
  readonly writes: Write[];
  readonly ranges: CpuRange[] = [];
  /** Values the CPU put through windows, per realm and offset. */
  readonly cpuWritten: Record<RealmName, Map<number, Set<number>>> = { page: new Map(), worker: new Map() };
  clock = 0;

  constructor(readonly size: number, readonly exporter: RealmName) {
    this.writes = [{ realm: exporter, start: 0, len: size, values: new Uint8Array(size), issued: -1, known: -1, label: 'the zeros it was allocated with' }];
  }

  tick(): number {
    return ++this.clock;
  }

  get importer(): RealmName {
    return other(this.exporter);
  }

  /** Whether `x`'s effect is known to come before `y` (a write or a read): same realm, call order; else `x` known before `y` was issued. */
  static before(x: Write, y: { realm: RealmName; issued: number }): boolean {
    return x.realm === y.realm ? x.issued < y.issued : x.known < y.issued;
  }

  /** The values a read may show at `offset`: those of the writes no write known to come after them (and before the read) replaced. */
  allowed(read: Read, offset: number): Set<number> {
    const covering = this.writes.filter((w) => covers(w, offset) && !(read.snapshot && this.after(read, w)));
    const visible = covering.filter((w) => !covering.some((later) => later !== w && TwoRealmBuffer.before(w, later) && TwoRealmBuffer.before(later, read)));
    return new Set(visible.flatMap((w) => this.valuesAt(w, offset)));
  }

  /** What write `w` puts at `offset`; while a CPU write's bytes are not known, any byte a CPU window of its realm was given there (or, in the exporting realm, another realm's write). */
  valuesAt(w: Write, offset: number): number[] {
    if (w.values) return [w.values[offset - w.start] ?? -1];
    return [...this.cpuValues(w.realm, offset)];
  }

  /** Bytes a CPU window in `realm` may hold at `offset`: what the CPU wrote through one there, or (in the exporting realm, whose pages serve the other realm's writes) what the other realm wrote. */
  cpuValues(realm: RealmName, offset: number): Set<number> {
    const values = new Set(this.cpuWritten[realm].get(offset));
    if (realm === this.exporter) for (const x of this.writes) if (x.realm !== realm && covers(x, offset)) for (const value of this.valuesAt(x, offset)) values.add(value);
    return values;
  }

  /** Whether write `w` was issued after a snapshot read was made (same realm), or after it was answered. */
  after(read: Read, w: Write): boolean {
    return w.realm === read.realm ? w.issued > read.issued : w.issued > read.checked;
  }

  /**
   * Whether offset `i` of a read may show a CPU window's bytes instead (not checked): a range
   * that writes, in the read's realm or the exporting realm (where reads are served), active
   * at some time while the read was under way, covers it. Their windows are undefined before
   * the CPU writes (the contract: only the range and direction given are coherent).
   */
  disturbed(read: Read, i: number): boolean {
    return this.ranges.some((g) => g !== read.own && g.writes && (g.realm === read.realm || g.realm === this.exporter) && g.start <= i && i < g.start + g.len && g.begun < read.checked && g.ended > read.issued);
  }

  /** Checks bytes `seen` of a read at `start`. */
  check(read: Read, start: number, seen: Uint8Array, what: string): void {
    for (let k = 0; k < seen.length; k++) {
      const i = start + k;
      if (!checked(this.size, i) || this.disturbed(read, i)) continue;
      const allowed = this.allowed(read, i);
      if (!allowed.has(seen[k] ?? -1)) {
        const writes = this.writes.filter((w) => covers(w, i)).map((w) => `${w.label} [${w.realm} issued ${w.issued}, known ${w.known}] = ${this.valuesAt(w, i).join(' or ')}`);
        expect.fail(`${what} (issued at ${read.issued}, answered at ${read.checked}): byte ${i} is ${seen[k]}, allowed ${[...allowed].join(', ')}; writes there: ${writes.join('; ')}`);
      }
    }
  }

  /** An importing realm's call that reads from (or writes to) the exporting realm was answered: its earlier writes have all taken effect there. */
  answered(realm: RealmName, issued: number, at: number): void {
    if (realm !== this.importer) return;
    for (const w of this.writes) if (w.realm === realm && w.issued < issued && w.known === Infinity) w.known = at;
  }

  wrote(realm: RealmName, i: number, value: number): void {
    let set = this.cpuWritten[realm].get(i);
    if (!set) this.cpuWritten[realm].set(i, (set = new Set()));
    set.add(value);
  }
}

interface Run {
  readonly w: World;
  readonly buf: TwoRealmBuffer;
  readonly fds: Record<RealmName, number>;
  /** Realms that closed their fd (a task started after that does nothing). */
  readonly closed: Set<RealmName>;
  readonly step: <T>(promise: Promise<T>, label: string) => Promise<T>;
}

interface Task {
  readonly realm: RealmName;
  run(run: Run): Promise<void>;
  toString(): string;
}

/** When a write issued at `issued` in `realm` is known to have taken effect, as issued: the exporting realm's own call places it (the page's at once; the worker's once answered). */
function knownOnIssue(buf: TwoRealmBuffer, realm: RealmName, issued: number, answeredAt: number): number {
  if (realm !== buf.exporter) return Infinity;
  return realm === 'page' ? issued : answeredAt;
}

/**
 * The realm attaches a device of its own, maps in `dir`, a shader writes every byte, it unmaps
 * and detaches. In the exporting realm the second device (its mapping is a copy, so the
 * shader's bytes take effect at the unmap call, not while it runs).
 */
class InterleavedDevice implements Task {
  constructor(readonly realm: RealmName, readonly device: number, readonly dir: DmaDirection, readonly seed: number) {}
  async run({ w, buf, fds, closed, step }: Run): Promise<void> {
    if (closed.has(this.realm)) return;
    const realm = w.realms[this.realm];
    const id = w.nextId++;
    const device = this.realm === buf.exporter ? 1 : this.device;
    await step(realm.call('attach', { id, fd: fds[this.realm], device }), `${String(this)} attach`);
    const mapIssued = buf.tick();
    await step(realm.call('map', { id, dir: this.dir }), `${String(this)} map`);
    const mapped = buf.tick();
    if (movesToDevice(this.dir)) {
      buf.answered(this.realm, mapIssued, mapped);
      const bytes = await step(realm.call<Uint8Array>('read-mapping', { id }), `${String(this)} read`);
      buf.check({ realm: this.realm, issued: mapIssued, checked: mapped, snapshot: true }, 0, bytes, `${String(this)}: the mapping`);
    }
    const unmapIssued = buf.tick();
    const unmapped = realm.call('unmap', { id, seed: this.seed });
    const write: Write | undefined = movesFromDevice(this.dir)
      ? { realm: this.realm, start: 0, len: buf.size, values: Uint8Array.from({ length: buf.size }, (_, i) => shaderByte(i, this.seed)), issued: unmapIssued, known: Infinity, label: String(this) }
      : undefined;
    if (write) buf.writes.push(write);
    await step(unmapped, `${String(this)} unmap`);
    const answered = buf.tick();
    if (write) {
      write.known = this.realm === buf.exporter ? knownOnIssue(buf, this.realm, unmapIssued, answered) : answered;
      buf.answered(this.realm, unmapIssued, answered);
    }
    await step(realm.call('detach', { id }), `${String(this)} detach`);
  }
  toString = () => `${this.realm}.device(${this.device}, '${this.dir}', seed ${this.seed})`;
}

/** The CPU writes a range in the realm; what the windows hold at `endCpuAccess` is the write. */
class InterleavedCpuWrite implements Task {
  constructor(readonly realm: RealmName, readonly a: number, readonly b: number, readonly dir: DmaDirection, readonly seed: number) {}
  async run({ w, buf, fds, closed, step }: Run): Promise<void> {
    if (closed.has(this.realm)) return;
    const realm = w.realms[this.realm];
    const [start, len] = rangeIn(buf.size, this.a, this.b);
    const id = w.nextId++;
    const range: CpuRange = { realm: this.realm, start, len, writes: true, begun: buf.tick(), ended: Infinity };
    buf.ranges.push(range);
    await step(realm.call('begin', { id, fd: fds[this.realm], start, len, dir: this.dir }), `${String(this)} begin`);
    const begun = buf.tick();
    if (this.dir === 'bidirectional') buf.answered(this.realm, range.begun, begun);
    for (let i = start; i < start + len; i++) buf.wrote(this.realm, i, cpuByte(i, this.seed));
    const seen = await step(realm.call<Uint8Array>('window', { id, seed: this.seed }), `${String(this)} write`);
    if (this.dir === 'bidirectional') buf.check({ realm: this.realm, issued: range.begun, checked: buf.tick(), snapshot: false, own: range }, start, seen, `${String(this)}: the window`);
    // Other tasks may write the same pages meanwhile.
    await step(Promise.resolve(), `${String(this)} holds`);
    const endIssued = buf.tick();
    range.ended = endIssued;
    const ended = realm.call<Uint8Array>('end', { id, read: true });
    const write: Write = { realm: this.realm, start, len, values: undefined, issued: endIssued, known: Infinity, label: String(this) };
    buf.writes.push(write);
    const landed = await step(ended, `${String(this)} end`);
    // Each byte is one the CPU wrote through a window here, or (in the exporting realm, whose pages serve the other realm's writes) one the other realm wrote.
    for (let k = 0; k < len; k++) {
      const value = landed[k] ?? -1;
      if (!buf.cpuValues(this.realm, start + k).has(value)) expect.fail(`${String(this)}: byte ${start + k} at its end is ${value}, which no CPU write put there`);
    }
    write.values = landed;
    write.known = knownOnIssue(buf, this.realm, endIssued, buf.tick());
  }
  toString = () => `${this.realm}.cpuWrite(${this.a}, ${this.b}, '${this.dir}', seed ${this.seed})`;
}

/** The CPU reads a range in the realm: it sees every write known to come before its begin, or later ones. */
class InterleavedCpuRead implements Task {
  constructor(readonly realm: RealmName, readonly a: number, readonly b: number) {}
  async run({ w, buf, fds, closed, step }: Run): Promise<void> {
    if (closed.has(this.realm)) return;
    const realm = w.realms[this.realm];
    const [start, len] = rangeIn(buf.size, this.a, this.b);
    const id = w.nextId++;
    const range: CpuRange = { realm: this.realm, start, len, writes: false, begun: buf.tick(), ended: Infinity };
    buf.ranges.push(range);
    await step(realm.call('begin', { id, fd: fds[this.realm], start, len, dir: 'from-device' }), `${String(this)} begin`);
    buf.answered(this.realm, range.begun, buf.tick());
    const seen = await step(realm.call<Uint8Array>('window', { id }), `${String(this)} window`);
    buf.check({ realm: this.realm, issued: range.begun, checked: buf.tick(), snapshot: false }, start, seen, `${String(this)}: the window`);
    await step(Promise.resolve(), `${String(this)} holds`);
    range.ended = buf.tick();
    await step(realm.call('end', { id }), `${String(this)} end`);
  }
  toString = () => `${this.realm}.cpuRead(${this.a}, ${this.b})`;
}

/**
 * The realm closes its fd while the other tasks are under way: the buffer lives on for the
 * accesses and attachments that hold references of their own, and for the other realm (the
 * exporting realm serves the importing one's reads and writes without an fd of its own).
 */
class InterleavedClose implements Task {
  constructor(readonly realm: RealmName) {}
  async run({ w, fds, closed, step }: Run): Promise<void> {
    await step(Promise.resolve(), String(this));
    if (closed.has(this.realm)) return;
    closed.add(this.realm);
    await step(w.realms[this.realm].call('close', { fd: fds[this.realm] }), `${String(this)} done`);
  }
  toString = () => `${this.realm}.close()`;
}

const interleavedTask: fc.Arbitrary<Task> = fc.oneof(
  { weight: 1, arbitrary: realmArb.map((realm) => new InterleavedClose(realm)) },
  { weight: 4, arbitrary: fc.tuple(realmArb, fc.nat(1), fc.constantFrom<DmaDirection>('to-device', 'from-device', 'bidirectional', 'none'), fc.nat(255)).map(([realm, d, dir, seed]) => new InterleavedDevice(realm, d, dir, seed)) },
  { weight: 3, arbitrary: fc.tuple(realmArb, fc.nat(MAX_SIZE), fc.nat(MAX_SIZE), fc.constantFrom<DmaDirection>('to-device', 'bidirectional'), fc.nat(255)).map(([realm, a, b, dir, seed]) => new InterleavedCpuWrite(realm, a, b, dir, seed)) },
  { weight: 3, arbitrary: fc.tuple(realmArb, fc.nat(MAX_SIZE), fc.nat(MAX_SIZE)).map(([realm, a, b]) => new InterleavedCpuRead(realm, a, b)) },
);

/** Where the buffer comes from and how the other realm gets it. */
const originArb = fc.constantFrom('page, inherited by spawnWorker' as const, 'page, sent on the socket' as const, 'worker, sent on the socket' as const);

/** The whole buffer through CPU access in `realm`: checked as a read issued now. */
async function wholeRead(run: Run, realm: RealmName, what: string): Promise<void> {
  const { w, buf, fds } = run;
  const id = w.nextId++;
  const issued = buf.tick();
  await w.realms[realm].call('begin', { id, fd: fds[realm], start: 0, len: buf.size, dir: 'from-device' });
  // Through the windows, not vmap: an importing realm that closed its fd may still be writing
  // back a CPU range it ended (nothing answers that write), and vmap of a range begun over
  // pages such a write-back staged is ERANGE (docs/ordering.md, the order of begins).
  const seen = await w.realms[realm].call<Uint8Array>('window', { id });
  const checked = buf.tick();
  buf.answered(realm, issued, checked);
  await w.realms[realm].call('end', { id });
  buf.check({ realm, issued, checked, snapshot: false }, 0, seen, what);
}

test(`steps of the page and a worker on one buffer, not awaiting each other, keep each realm's call order under any interleaving, with either realm closing its fd meanwhile; the buffer is released once after its last reference (${runs} runs)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), transportArb, originArb, fc.oneof({ weight: 7, arbitrary: fc.integer({ min: 1, max: MAX_SIZE }) }, { weight: 1, arbitrary: fc.constant(LARGE_SIZE) }), fc.array(interleavedTask, { minLength: 2, maxLength: 7 }), async (s, transport, origin, size, tasks) => {
      const pageTable = new FdTable();
      const pageHeap = new GpuHeap(pageDevices[0] as GPUDevice, { name: heapName('page') });
      const exporter: RealmName = origin.startsWith('page') ? 'page' : 'worker';
      let pageFd = -1;
      if (origin === 'page, inherited by spawnWorker') {
        const made = pageHeap.allocate(size, { name: 'shared' });
        pageFd = pageTable.install(made, { cloexec: false });
        made.put();
      }
      const w = await startWorld(pageTable, pageHeap, transport);
      let failed = true;
      try {
        const fds: Record<RealmName, number> = { page: pageFd, worker: pageFd };
        if (origin === 'page, sent on the socket') {
          fds.page = await w.realms.page.call<number>('export', { size, name: 'shared' });
          const received = w.realms.worker.call<number>('receive');
          await w.realms.page.call('send', { fd: fds.page });
          fds.worker = await received;
        } else if (origin === 'worker, sent on the socket') {
          fds.worker = await w.realms.worker.call<number>('export', { size, name: 'shared' });
          const received = w.realms.page.call<number>('receive');
          await w.realms.worker.call('send', { fd: fds.worker });
          fds.page = await received;
        }
        const buf = new TwoRealmBuffer(size, exporter);
        const run: Run = {
          w,
          buf,
          fds,
          closed: new Set(),
          step: async (promise, label) => {
            // Settled before the scheduler sees it: a rejection waiting for its turn is not unhandled.
            // Printed short in a failure's report (the bytes are in the failure's message).
            const outcome = await s.schedule(promise.then((value) => ({ value, [fc.toStringMethod]: () => 'done' }), (error: unknown) => ({ error, [fc.toStringMethod]: () => `failed: ${String(error)}` })), label);
            if ('error' in outcome) throw outcome.error;
            return outcome.value;
          },
        };
        const errors: unknown[] = [];
        const running = tasks.map((t) => s.schedule(Promise.resolve(), `start ${t.toString()}`).then(() => t.run(run)).catch((error: unknown) => { errors.push(error); }));
        await s.waitFor(Promise.all(running));
        if (errors.length > 0) throw errors[0];
        // The importing realm reads first: every write of its own has taken effect once that is answered.
        for (const realm of [buf.importer, exporter]) if (!run.closed.has(realm)) await wholeRead(run, realm, `the whole buffer in the ${realm === exporter ? 'exporting' : 'importing'} realm at the end`);
        // Released once, in the exporting realm, when the last reference anywhere goes: the
        // exporting realm holds one while the importing realm holds any; the fds closed in either order.
        const listing = async (realm: RealmName) => (await w.realms[realm].call<RealmReport>('report')).listing.map(({ name, refCount }) => ({ name, refCount }));
        const want = (realm: RealmName) => {
          const open = (r: RealmName) => (run.closed.has(r) ? 0 : 1);
          const refCount = realm === exporter ? open(exporter) + open(buf.importer) : open(buf.importer);
          return refCount > 0 ? [{ name: 'shared', refCount }] : [];
        };
        const both = async () => ({ page: await listing('page'), worker: await listing('worker') });
        await expect.poll(both).toEqual({ page: want('page'), worker: want('worker') });
        for (const realm of size % 2 === 0 ? [exporter, buf.importer] : [buf.importer, exporter]) {
          if (run.closed.has(realm)) continue;
          await w.realms[realm].call('close', { fd: fds[realm] });
          run.closed.add(realm);
          await expect.poll(both).toEqual({ page: want('page'), worker: want('worker') });
        }
        expect((await w.realms[exporter].call<RealmReport>('report')).heap.liveBuffers, 'live buffers of the exporting realm').toBe(0);
        failed = false;
      } finally {
        await endWorld(w, failed);
      }
    }),
    { numRuns: runs, ...replay },
  );
}, Math.max(60_000, runs * 5_000));
