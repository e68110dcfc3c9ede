// Model-based property test: random sequences of every kind of call, on real WebGPU with
// two devices, each step checked against a plain reference model (bytes in an ArrayBuffer,
// reference counts, fd tables). fast-check prints the seed and the shrunk sequence of a
// failing run. VITE_DMABUF_MODEL_RUNS=5000 npx vitest run --project browser test/reliability
// runs thousands.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bufinfoEntries, FdTable, GpuHeap, PAGE_SIZE, type DmaDirection, type GpuDmaBuf } from 'webgpu-dmabuf';
import { expectNoLeaks, fillWithShader, newDevice, readTable, shaderPattern } from '../gpu/gpu-helpers.js';

interface ModelBuffer {
  bytes: Uint8Array;
  /** References the test itself holds (the creator's and those from get). */
  held: number;
}

interface ModelTable {
  fds: Map<number, { buf: number; cloexec: boolean }>;
}

interface Model {
  buffers: (ModelBuffer | undefined)[];
  tables: ModelTable[];
}

interface Real {
  heap: GpuHeap;
  buffers: (GpuDmaBuf | undefined)[];
  tables: FdTable[];
}

type Cmd = fc.AsyncCommand<Model, Real>;

const MAX_SIZE = 3 * PAGE_SIZE + 13;
let exporter: GPUDevice;
let importer: GPUDevice;

beforeAll(async () => {
  exporter = await newDevice('model exporter');
  importer = await newDevice('model importer');
});

afterAll(() => {
  exporter.destroy();
  importer.destroy();
});

/** References to a buffer: the test's plus one per open fd in every table. */
function refsOf(model: Model, index: number): number {
  const fds = model.tables.reduce((n, t) => n + [...t.fds.values()].filter((e) => e.buf === index).length, 0);
  return (model.buffers[index]?.held ?? 0) + fds;
}

function liveIndices(model: Model): number[] {
  return model.buffers.flatMap((b, i) => (b && refsOf(model, i) > 0 ? [i] : []));
}

function pickLive(model: Model, pick: number): number | undefined {
  const live = liveIndices(model);
  return live.length === 0 ? undefined : live[pick % live.length];
}

function real(r: Real, index: number): GpuDmaBuf {
  const buf = r.buffers[index];
  if (!buf) throw new Error(`model and real disagree: buffer ${index} is missing`);
  return buf;
}

/** After a put or close: a buffer whose references are all gone must be released. */
function settle(m: Model, r: Real, index: number): void {
  const buf = real(r, index);
  expect(buf.refCount).toBe(refsOf(m, index));
  if (refsOf(m, index) === 0) {
    expect(buf.released).toBe(true);
    m.buffers[index] = undefined;
    r.buffers[index] = undefined;
  }
}

/** `[start, start + len)` inside the buffer from two free numbers. */
function rangeIn(size: number, a: number, b: number): [number, number] {
  const start = a % size;
  return [start, 1 + (b % (size - start))];
}

class Allocate implements Cmd {
  constructor(readonly size: number) {}
  check = (m: Model) => liveIndices(m).length < 5;
  run(m: Model, r: Real): Promise<void> {
    r.buffers.push(r.heap.allocate(this.size));
    m.buffers.push({ bytes: new Uint8Array(this.size), held: 1 });
    return Promise.resolve();
  }
  toString = () => `allocate(${this.size})`;
}

class GetPut implements Cmd {
  constructor(readonly pick: number, readonly get: boolean) {}
  check = (m: Model) => liveIndices(m).some((i) => this.get || (m.buffers[i]?.held ?? 0) > 0);
  run(m: Model, r: Real): Promise<void> {
    const candidates = liveIndices(m).filter((i) => this.get || (m.buffers[i]?.held ?? 0) > 0);
    const index = candidates[this.pick % candidates.length] ?? 0;
    const model = m.buffers[index];
    if (!model) throw new Error('no such buffer');
    if (this.get) {
      expect(real(r, index).get()).toBe(real(r, index));
      model.held += 1;
    } else {
      real(r, index).put();
      model.held -= 1;
    }
    settle(m, r, index);
    return Promise.resolve();
  }
  toString = () => `${this.get ? 'get' : 'put'}(#${this.pick})`;
}

class Install implements Cmd {
  constructor(readonly pick: number, readonly table: number, readonly cloexec: boolean) {}
  check = (m: Model) => liveIndices(m).length > 0;
  run(m: Model, r: Real): Promise<void> {
    const index = pickLive(m, this.pick) ?? 0;
    const t = this.table % m.tables.length;
    const fds = m.tables[t]?.fds ?? new Map();
    let lowest = 0;
    while (fds.has(lowest)) lowest++;
    expect(r.tables[t]?.install(real(r, index), { cloexec: this.cloexec })).toBe(lowest);
    fds.set(lowest, { buf: index, cloexec: this.cloexec });
    settle(m, r, index);
    return Promise.resolve();
  }
  toString = () => `table${this.table}.install(#${this.pick}, cloexec=${this.cloexec})`;
}

/** Picks an open fd of some table: [table index, fd, entry]. */
function pickFd(m: Model, table: number, pick: number) {
  const t = table % m.tables.length;
  const entries = [...(m.tables[t]?.fds ?? [])];
  const chosen = entries[pick % Math.max(1, entries.length)];
  return chosen && { t, fd: chosen[0], entry: chosen[1] };
}

class FdCall implements Cmd {
  constructor(readonly kind: 'close' | 'get' | 'send', readonly table: number, readonly pick: number, readonly to: number, readonly cloexec: boolean) {}
  check = (m: Model) => m.tables.some((t) => t.fds.size > 0);
  run(m: Model, r: Real): Promise<void> {
    const t0 = m.tables.findIndex((t, i) => i >= this.table % m.tables.length && t.fds.size > 0);
    const chosen = pickFd(m, t0 >= 0 ? t0 : m.tables.findIndex((t) => t.fds.size > 0), this.pick);
    if (!chosen) throw new Error('no open fd');
    const table = r.tables[chosen.t];
    if (!table) throw new Error('no such table');
    if (this.kind === 'close') {
      table.close(chosen.fd);
      m.tables[chosen.t]?.fds.delete(chosen.fd);
      expect(() => table.get(chosen.fd)).toThrow(/^EBADF: /);
    } else if (this.kind === 'get') {
      const buf = table.get(chosen.fd);
      expect(buf).toBe(real(r, chosen.entry.buf));
      buf.put();
    } else {
      const to = this.to % m.tables.length;
      const target = m.tables[to]?.fds ?? new Map();
      let lowest = 0;
      while (target.has(lowest)) lowest++;
      expect(table.send(chosen.fd, r.tables[to] ?? table, { cloexec: this.cloexec })).toBe(lowest);
      target.set(lowest, { buf: chosen.entry.buf, cloexec: this.cloexec });
    }
    settle(m, r, chosen.entry.buf);
    return Promise.resolve();
  }
  toString = () => `table${this.table}.${this.kind}(fd #${this.pick}${this.kind === 'send' ? ` -> table${this.to}` : ''})`;
}

class Spawn implements Cmd {
  constructor(readonly table: number) {}
  check = (m: Model) => m.tables.length < 5;
  run(m: Model, r: Real): Promise<void> {
    const t = this.table % m.tables.length;
    const parent = m.tables[t];
    const child = r.tables[t]?.spawn();
    if (!parent || !child) throw new Error('no such table');
    const inherited = new Map([...parent.fds].filter(([, e]) => !e.cloexec));
    expect(child.openFds()).toEqual([...inherited.keys()].sort((a, b) => a - b));
    for (const [fd, entry] of parent.fds) if (entry.cloexec) expect(() => child.get(fd)).toThrow(/^EBADF: /);
    m.tables.push({ fds: inherited });
    r.tables.push(child);
    for (const { buf } of inherited.values()) settle(m, r, buf);
    return Promise.resolve();
  }
  toString = () => `table${this.table}.spawn()`;
}

class CpuWrite implements Cmd {
  constructor(readonly pick: number, readonly a: number, readonly b: number, readonly dir: DmaDirection, readonly seed: number) {}
  check = (m: Model) => liveIndices(m).length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const index = pickLive(m, this.pick) ?? 0;
    const buf = real(r, index);
    const model = m.buffers[index];
    if (!model) throw new Error('no such buffer');
    const [start, len] = rangeIn(buf.size, this.a, this.b);
    await buf.beginCpuAccess(start, len, this.dir);
    for (let page = Math.floor(start / PAGE_SIZE); page * PAGE_SIZE < start + len; page++) {
      const view = page % 2 === 0 ? buf.kmap(page) : buf.kmapAtomic(page);
      for (let i = Math.max(start, page * PAGE_SIZE); i < Math.min(start + len, page * PAGE_SIZE + view.length); i++) {
        const at = i - page * PAGE_SIZE;
        if (this.dir === 'bidirectional') expect(view[at]).toBe(model.bytes[i]);
        view[at] = (i * 31 + this.seed) & 0xff;
        model.bytes[i] = (i * 31 + this.seed) & 0xff;
      }
      if (page % 2 === 0) buf.kunmap(page, view);
      else buf.kunmapAtomic(page, view);
    }
    buf.endCpuAccess(start, len, this.dir);
    // Not a byte outside the range may change: read the whole buffer back.
    await buf.beginCpuAccess(0, buf.size, 'from-device');
    for (let page = 0; page * PAGE_SIZE < buf.size; page++) {
      const view = buf.kmap(page);
      expect(view).toEqual(model.bytes.subarray(page * PAGE_SIZE, page * PAGE_SIZE + view.length));
      buf.kunmap(page, view);
    }
    buf.endCpuAccess(0, buf.size, 'from-device');
  }
  toString = () => `cpuWrite(#${this.pick}, ${this.a}, ${this.b}, '${this.dir}', seed ${this.seed})`;
}

class CpuRead implements Cmd {
  constructor(readonly pick: number, readonly a: number, readonly b: number) {}
  check = (m: Model) => liveIndices(m).length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const index = pickLive(m, this.pick) ?? 0;
    const buf = real(r, index);
    const model = m.buffers[index];
    if (!model) throw new Error('no such buffer');
    const [start, len] = rangeIn(buf.size, this.a, this.b);
    await buf.beginCpuAccess(start, len, 'from-device');
    const first = Math.floor(start / PAGE_SIZE);
    const view = buf.kmap(first);
    const from = start - first * PAGE_SIZE;
    const to = Math.min(view.length, start + len - first * PAGE_SIZE);
    expect(view.subarray(from, to)).toEqual(model.bytes.subarray(start, first * PAGE_SIZE + to));
    buf.kunmap(first, view);
    expect(() => buf.kmap(first + 100)).toThrow(/^EINVAL: /);
    buf.endCpuAccess(start, len, 'from-device');
    expect(() => buf.kmap(first)).toThrow(/^ERANGE: /);
  }
  toString = () => `cpuRead(#${this.pick}, ${this.a}, ${this.b})`;
}

class DeviceWrite implements Cmd {
  constructor(readonly pick: number, readonly onImporter: boolean, readonly dir: DmaDirection, readonly seed: number) {}
  check = (m: Model) => liveIndices(m).length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const index = pickLive(m, this.pick) ?? 0;
    const buf = real(r, index);
    const model = m.buffers[index];
    if (!model) throw new Error('no such buffer');
    const device = this.onImporter ? importer : exporter;
    const attachment = buf.attach(device);
    const sgt = await attachment.map(this.dir);
    if (this.dir === 'bidirectional') expect(await readTable(device, sgt)).toEqual(model.bytes);
    fillWithShader(device, sgt, this.seed);
    await attachment.unmap(sgt, this.dir);
    buf.detach(attachment);
    // A device write reaches the buffer when the direction brings it back (always, on the exporter's own device).
    if (!this.onImporter || this.dir === 'from-device' || this.dir === 'bidirectional') model.bytes = shaderPattern(buf.size, this.seed);
  }
  toString = () => `deviceWrite(#${this.pick}, ${this.onImporter ? 'importer' : 'exporter'}, '${this.dir}', seed ${this.seed})`;
}

class DeviceRead implements Cmd {
  constructor(readonly pick: number, readonly onImporter: boolean) {}
  check = (m: Model) => liveIndices(m).length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const index = pickLive(m, this.pick) ?? 0;
    const buf = real(r, index);
    const device = this.onImporter ? importer : exporter;
    const attachment = buf.attach(device);
    const sgt = await attachment.map('to-device');
    expect(await readTable(device, sgt)).toEqual(m.buffers[index]?.bytes);
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
  }
  toString = () => `deviceRead(#${this.pick}, ${this.onImporter ? 'importer' : 'exporter'})`;
}

class AtomicLimit implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Model) => liveIndices(m).length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const buf = real(r, pickLive(m, this.pick) ?? 0);
    await buf.beginCpuAccess(0, buf.size, 'from-device');
    const one = buf.kmapAtomic(0);
    const two = buf.kmapAtomic(0);
    expect(() => buf.kmapAtomic(0)).toThrow(/^EBUSY: /);
    buf.kunmapAtomic(0, one);
    buf.kunmapAtomic(0, two);
    buf.endCpuAccess(0, buf.size, 'from-device');
  }
  toString = () => `atomicLimit(#${this.pick})`;
}

const pick = fc.nat(50);
const dirOf = (dirs: DmaDirection[]) => fc.constantFrom(...dirs);
const commands = [
  fc.integer({ min: 1, max: MAX_SIZE }).map((size) => new Allocate(size)),
  fc.tuple(pick, fc.boolean()).map(([p, get]) => new GetPut(p, get)),
  fc.tuple(pick, fc.nat(4), fc.boolean()).map(([p, t, c]) => new Install(p, t, c)),
  fc.tuple(fc.constantFrom('close' as const, 'get' as const, 'send' as const), fc.nat(4), pick, fc.nat(4), fc.boolean()).map(
    ([kind, t, p, to, c]) => new FdCall(kind, t, p, to, c),
  ),
  fc.nat(4).map((t) => new Spawn(t)),
  fc.tuple(pick, fc.nat(MAX_SIZE), fc.nat(MAX_SIZE), dirOf(['to-device', 'bidirectional']), fc.nat(255)).map(
    ([p, a, b, dir, seed]) => new CpuWrite(p, a, b, dir, seed),
  ),
  fc.tuple(pick, fc.nat(MAX_SIZE), fc.nat(MAX_SIZE)).map(([p, a, b]) => new CpuRead(p, a, b)),
  fc.tuple(pick, fc.boolean(), dirOf(['to-device', 'from-device', 'bidirectional', 'none']), fc.nat(255)).map(
    ([p, onImporter, dir, seed]) => new DeviceWrite(p, onImporter, dir, seed),
  ),
  fc.tuple(pick, fc.boolean()).map(([p, onImporter]) => new DeviceRead(p, onImporter)),
  pick.map((p) => new AtomicLimit(p)),
];

const runs = Number(import.meta.env.VITE_DMABUF_MODEL_RUNS ?? 120);

test(`random operation sequences on two devices match the reference model (${runs} sequences)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'large' }), async (cmds) => {
      const heap = new GpuHeap(exporter);
      const r: Real = { heap, buffers: [], tables: [new FdTable(), new FdTable()] };
      const m: Model = { buffers: [], tables: [{ fds: new Map() }, { fds: new Map() }] };
      try {
        await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
      } finally {
        for (const table of r.tables) table.closeAll();
        r.buffers.forEach((buf, i) => {
          for (let n = m.buffers[i]?.held ?? 0; n > 0 && buf && !buf.released; n--) buf.put();
        });
      }
      expect(bufinfoEntries()).toEqual([]);
      expectNoLeaks(heap);
    }),
    { numRuns: runs },
  );
  // More runs on demand take longer than the default limit: about 30 ms a run here, with room.
}, Math.max(60_000, runs * 100));
