// Model-based test of overlapping calls: independent modules call map, unmap, CPU access and
// put on the same buffers without waiting for each other. Each run starts a handful of tasks
// at once (each a short script of public calls, on two importer devices and the CPU), and
// fast-check's scheduler (`fc.scheduler()`) decides in which order every awaited promise hands
// control back, so the runs explore the interleavings. A reference model with call-order
// semantics checks each step: a map sees exactly the bytes of every write called before it;
// a CPU read sees them (or later ones), except where an overlapping range that writes shows
// its own window, as gpu/cpu-pages.ts defines; at the end the buffer holds what the writes
// made of it in call order. A failure prints its seed,
// the shrunk tasks and the scheduler's order.
// VITE_DMABUF_INTERLEAVED_RUNS=2000 npx vitest run --project browser test/reliability/interleaved-model.browser.test.ts
// runs more.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bufinfoEntries, GpuHeap, PAGE_SIZE, type DmaDirection, type GpuDmaBuf } from 'webgpu-dmabuf';
import { expectNoLeaks, fillWithShader, newDevice, readTable, shaderPattern } from '../gpu/gpu-helpers.js';

const MAX_SIZE = 3 * PAGE_SIZE + 13;
let exporter: GPUDevice;
let importers: GPUDevice[] = [];

beforeAll(async () => {
  exporter = await newDevice('interleaved exporter');
  importers = [await newDevice('interleaved importer A'), await newDevice('interleaved importer B')];
});

afterAll(() => {
  exporter.destroy();
  for (const device of importers) device.destroy();
});

/** One buffer as the model sees it: its bytes after every write so far, in call order. */
class ModelBuffer {
  /** `versions[k]`: the bytes after the k-th write; the last is now. */
  readonly versions: Uint8Array[];
  /** Values CPU writers put through a window at each offset (they may show in overlapping views). */
  readonly cpuWritten = new Map<number, Set<number>>();
  /** Offsets a `'to-device'` range covered: what its window holds before the CPU writes is undefined, and overlapping views show it. */
  readonly unwritten = new Set<number>();
  /** For offsets a `'bidirectional'` range covered, the oldest version such a range began at: overlapping views show its staged bytes. */
  readonly staged = new Map<number, number>();
  released = false;

  constructor(size: number) {
    this.versions = [new Uint8Array(size)];
  }

  get now(): Uint8Array {
    return this.versions[this.versions.length - 1] ?? new Uint8Array(0);
  }

  /** The version a call made now must see at least. */
  get version(): number {
    return this.versions.length - 1;
  }

  write(at: number, bytes: Uint8Array): void {
    const next = this.now.slice();
    next.set(bytes, at);
    this.versions.push(next);
  }

  /** Whether `value` may show at `offset` to a CPU view begun when `version` was current. */
  allows(offset: number, value: number, version: number): boolean {
    if (this.unwritten.has(offset) || (this.cpuWritten.get(offset)?.has(value) ?? false)) return true;
    for (let k = Math.min(version, this.staged.get(offset) ?? version); k < this.versions.length; k++) if (this.versions[k]?.[offset] === value) return true;
    return false;
  }

  /** A range that writes begins at `version`: overlapping views may show its window (the DOC table of gpu/cpu-pages.ts). */
  writer(start: number, len: number, dir: DmaDirection, version: number): void {
    for (let i = start; i < start + len; i++) {
      if (dir === 'to-device') this.unwritten.add(i);
      else this.staged.set(i, Math.min(version, this.staged.get(i) ?? version));
    }
  }

  wrote(offset: number, value: number): void {
    let set = this.cpuWritten.get(offset);
    if (!set) this.cpuWritten.set(offset, (set = new Set()));
    set.add(value);
  }
}

interface World {
  readonly heap: GpuHeap;
  readonly buffers: { readonly real: GpuDmaBuf; readonly model: ModelBuffer }[];
  /** Hands control back when the scheduler says so. */
  step<T>(promise: Promise<T>, label: string): Promise<T>;
}

/** An offset's first differing byte, for a readable failure. */
function firstMismatch(what: string, offsets: number[], ok: (offset: number) => boolean, value: (offset: number) => number | undefined): void {
  const bad = offsets.find((offset) => !ok(offset));
  if (bad !== undefined) expect.fail(`${what}: byte ${bad} is ${value(bad)}, which no call order allows`);
}

/** Offsets `[start, start + len)` in a buffer of `size` bytes, from two free numbers. */
function rangeIn(size: number, a: number, b: number): [number, number] {
  const start = a % size;
  return [start, 1 + (b % (size - start))];
}

/** Whether the buffer is released: read through a call, as another task may release it while this one waits. */
function gone(model: ModelBuffer): boolean {
  return model.released;
}

/** Whether an error is the `EINVAL` of a call on a buffer the model has released. */
function releasedUnder(model: ModelBuffer, error: unknown): boolean {
  return model.released && (error as { code?: unknown } | null)?.code === 'EINVAL';
}

interface Task {
  /** Which buffer of the run it works on (modulo their number). */
  readonly buf: number;
  run(world: World): Promise<void>;
  toString(): string;
}

/**
 * An importer on its own device maps in `dir`, writes every byte with a shader and unmaps.
 * When `dir` moves bytes to it, its mirror holds exactly the bytes as of the map call; when
 * `dir` moves them back, its write takes effect at the unmap call.
 */
class DeviceAccess implements Task {
  constructor(readonly buf: number, readonly device: number, readonly dir: DmaDirection, readonly seed: number) {}
  async run(w: World): Promise<void> {
    const { real, model } = w.buffers[this.buf % w.buffers.length] ?? fail();
    const device = importers[this.device % importers.length] ?? fail();
    if (gone(model)) return;
    const attachment = real.attach(device);
    const expected = model.now.slice();
    const sgt = await w.step(attachment.map(this.dir), `${String(this)} map`);
    if (gone(model)) return;
    if (this.dir === 'to-device' || this.dir === 'bidirectional') {
      expect(await w.step(readTable(device, sgt), `${String(this)} read`), `${String(this)}: the mirror`).toEqual(expected);
      if (gone(model)) return;
    }
    fillWithShader(device, sgt, this.seed);
    const unmapped = attachment.unmap(sgt, this.dir);
    if (this.dir === 'from-device' || this.dir === 'bidirectional') model.write(0, shaderPattern(real.size, this.seed));
    await w.step(unmapped, `${String(this)} unmap`);
    if (!gone(model)) real.detach(attachment);
  }
  toString = () => `deviceAccess(#${this.buf}, importer ${this.device}, '${this.dir}', seed ${this.seed})`;
}

/** Every page of `[start, start + len)`, each visited through kmap. */
function eachByte(real: GpuDmaBuf, start: number, len: number, visit: (view: Uint8Array, at: number, offset: number) => void): void {
  for (let page = Math.floor(start / PAGE_SIZE); page * PAGE_SIZE < start + len; page++) {
    const view = real.kmap(page);
    for (let i = Math.max(start, page * PAGE_SIZE); i < Math.min(start + len, page * PAGE_SIZE + view.length); i++) visit(view, i - page * PAGE_SIZE, i);
    real.kunmap(page, view);
  }
}

/** The CPU writes a range: its bytes take effect at the `endCpuAccess` call, as the shared pages hold them then. */
class CpuWrite implements Task {
  constructor(readonly buf: number, readonly a: number, readonly b: number, readonly dir: DmaDirection, readonly seed: number) {}
  async run(w: World): Promise<void> {
    const { real, model } = w.buffers[this.buf % w.buffers.length] ?? fail();
    if (gone(model)) return;
    const [start, len] = rangeIn(real.size, this.a, this.b);
    const version = model.version;
    model.writer(start, len, this.dir, version);
    await w.step(real.beginCpuAccess(start, len, this.dir), `${String(this)} begin`);
    if (gone(model)) return;
    const offsets = Array.from({ length: len }, (_, k) => start + k);
    if (this.dir === 'bidirectional') {
      const seen = new Map<number, number>();
      eachByte(real, start, len, (view, at, i) => seen.set(i, view[at] ?? -1));
      firstMismatch(`${String(this)}: the window`, offsets, (i) => model.allows(i, seen.get(i) ?? -1, version), (i) => seen.get(i));
    }
    eachByte(real, start, len, (view, at, i) => {
      const value = (i * 31 + this.seed) & 0xff;
      view[at] = value;
      model.wrote(i, value);
    });
    // Other tasks may write the same pages now.
    await w.step(Promise.resolve(), `${String(this)} writes`);
    if (gone(model)) return;
    const landed = new Uint8Array(len);
    eachByte(real, start, len, (view, at, i) => (landed[i - start] = view[at] ?? 0));
    firstMismatch(`${String(this)}: its bytes before the end`, offsets, (i) => model.cpuWritten.get(i)?.has(landed[i - start] ?? -1) ?? false, (i) => landed[i - start]);
    real.endCpuAccess(start, len, this.dir);
    model.write(start, landed);
  }
  toString = () => `cpuWrite(#${this.buf}, ${this.a}, ${this.b}, '${this.dir}', seed ${this.seed})`;
}

/** The CPU reads a range: it sees every write called before its begin (and perhaps later ones, or overlapping CPU writes in progress). */
class CpuRead implements Task {
  constructor(readonly buf: number, readonly a: number, readonly b: number) {}
  async run(w: World): Promise<void> {
    const { real, model } = w.buffers[this.buf % w.buffers.length] ?? fail();
    if (gone(model)) return;
    const [start, len] = rangeIn(real.size, this.a, this.b);
    const version = model.version;
    await w.step(real.beginCpuAccess(start, len, 'from-device'), `${String(this)} begin`);
    if (gone(model)) return;
    const seen = new Map<number, number>();
    eachByte(real, start, len, (view, at, i) => seen.set(i, view[at] ?? -1));
    const offsets = Array.from({ length: len }, (_, k) => start + k);
    firstMismatch(`${String(this)}: the window`, offsets, (i) => model.allows(i, seen.get(i) ?? -1, version), (i) => seen.get(i));
    await w.step(Promise.resolve(), `${String(this)} holds`);
    if (!gone(model)) real.endCpuAccess(start, len, 'from-device');
  }
  toString = () => `cpuRead(#${this.buf}, ${this.a}, ${this.b})`;
}

/** The last reference goes while the other tasks are under way: they stop with EINVAL, nothing leaks. */
class PutLast implements Task {
  constructor(readonly buf: number) {}
  async run(w: World): Promise<void> {
    const { real, model } = w.buffers[this.buf % w.buffers.length] ?? fail();
    await w.step(Promise.resolve(), String(this));
    if (gone(model)) return;
    model.released = true;
    real.put();
  }
  toString = () => `putLast(#${this.buf})`;
}

function fail(): never {
  throw new Error('the model has no such buffer or device');
}

const pick = fc.nat(7);
const task: fc.Arbitrary<Task> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(pick, pick, fc.constantFrom<DmaDirection>('from-device', 'bidirectional', 'to-device', 'none'), fc.nat(255)).map(([b, d, dir, s]) => new DeviceAccess(b, d, dir, s)) },
  { weight: 3, arbitrary: fc.tuple(pick, fc.nat(MAX_SIZE), fc.nat(MAX_SIZE), fc.constantFrom<DmaDirection>('to-device', 'bidirectional'), fc.nat(255)).map(([b, x, y, dir, s]) => new CpuWrite(b, x, y, dir, s)) },
  { weight: 3, arbitrary: fc.tuple(pick, fc.nat(MAX_SIZE), fc.nat(MAX_SIZE)).map(([b, x, y]) => new CpuRead(b, x, y)) },
  { weight: 1, arbitrary: pick.map((b) => new PutLast(b)) },
);

const runs = Number(import.meta.env.VITE_DMABUF_INTERLEAVED_RUNS ?? 200);

test(`overlapping calls from independent modules keep call order under any interleaving (${runs} runs)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), fc.array(fc.integer({ min: 1, max: MAX_SIZE }), { minLength: 1, maxLength: 2 }), fc.array(task, { minLength: 2, maxLength: 8 }), async (s, sizes, tasks) => {
      // Small chunks: a cross-device transfer takes several steps, so more can happen between them.
      const heap = new GpuHeap(exporter, { chunkBytes: 4096 });
      const world: World = {
        heap,
        buffers: sizes.map((size) => ({ real: heap.allocate(size), model: new ModelBuffer(size) })),
        step: async (promise, label) => {
          // Settled before the scheduler sees it: a rejection waiting for its turn is not unhandled.
          const outcome = await s.schedule(promise.then((value) => ({ value }), (error: unknown) => ({ error })), label);
          if ('error' in outcome) throw outcome.error;
          return outcome.value;
        },
      };
      const errors: unknown[] = [];
      const running = tasks.map((t) =>
        s.schedule(Promise.resolve(), `start ${t.toString()}`).then(() => t.run(world)).catch((error: unknown) => {
          const model = world.buffers[t.buf % world.buffers.length]?.model;
          if (!model || !releasedUnder(model, error)) errors.push(error);
        }),
      );
      try {
        await s.waitFor(Promise.all(running));
        if (errors.length > 0) throw errors[0];
        // In the end each buffer holds what its writes made of it, in call order.
        for (const { real, model } of world.buffers) {
          if (model.released) continue;
          await real.beginCpuAccess(0, real.size, 'from-device');
          const all = new Uint8Array(real.size);
          eachByte(real, 0, real.size, (view, at, i) => (all[i] = view[at] ?? 0));
          real.endCpuAccess(0, real.size, 'from-device');
          expect(all, 'the bytes after every task').toEqual(model.now);
        }
      } finally {
        // A failing run must not leave buffers to the next one.
        for (const { real } of world.buffers) if (!real.released) real.put();
      }
      expect(bufinfoEntries()).toEqual([]);
      expectNoLeaks(heap);
    }),
    { numRuns: runs },
  );
  // More runs on demand take longer than the default limit: about 30 ms a run here, with room.
}, Math.max(60_000, runs * 100));
