// Model-based test of overlapping calls: independent modules call map, unmap, CPU access and
// put on the same buffers without waiting for each other. Each run starts a handful of tasks
// at once (each a short script of public calls, on two importer devices and the CPU), and
// fast-check's scheduler (`fc.scheduler()`) decides in which order every awaited promise hands
// control back, so the runs explore the interleavings. A reference model with call-order
// semantics checks each step: a map sees exactly the bytes of every write called before it;
// a CPU read sees them (or later ones), except where an overlapping range that writes shows
// its own window, as gpu/cpu-pages.ts defines; at the end the buffer holds what the writes
// made of it in call order. Modules also begin several CPU reads at once (and more while they
// hold the first), import fences of their own (software timelines the test signals later,
// some with an error: exactly the operations called while such a fence is pending, and that
// wait for its class, fail with its error, and change nothing), and some buffers are larger
// than 2 MiB (the mapped-staging path of write-only ranges). A second property draws the shape
// of rule 3 on purpose: reads begun together over pages a held read keeps staged, after a
// writer ended. A failure prints its seed, the shrunk tasks and the scheduler's order; a run
// that hangs fails after its own time budget with that trace, long before the test's timeout.
// VITE_DMABUF_INTERLEAVED_RUNS=2000 npx vitest run --project browser test/reliability/interleaved-model.browser.test.ts
// runs more (half as many of the second property); VITE_DMABUF_INTERLEAVED_SEED and
// VITE_DMABUF_INTERLEAVED_PATH replay a failure (with -t naming its test).
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bufinfoEntries, DmaFenceTimeline, GpuHeap, PAGE_SIZE, type DmaDirection, type GpuDmaBuf } from 'webgpu-dmabuf';
import { expectNoLeaks, fillWithShader, newDevice, readTable, shaderPattern } from '../gpu/gpu-helpers.js';

const MAX_SIZE = 3 * PAGE_SIZE + 13;
/** Write-only CPU ranges above this many bytes stage in mapped `MAP_WRITE` buffers (gpu/cpu-pages.ts). */
const SMALL_WRITE_BYTES = 2 * 1024 * 1024;
/** The code imported fences that fail signal with. */
const FENCE_ERROR = 'EIO';
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

/** A CPU-access range that writes, as the model remembers it. */
interface WritingRange {
  readonly start: number;
  readonly len: number;
  readonly dir: DmaDirection;
  /** The version current at its begin. */
  readonly version: number;
  /** The seed of the bytes it writes through its windows ({@link cpuByte}). */
  readonly seed: number;
  /** When its `endCpuAccess` was called, on the model's clock; `undefined` while active. */
  ended?: number;
}

/** What a CPU writer with `seed` writes at offset `i`. */
function cpuByte(i: number, seed: number): number {
  return (i * 31 + seed) & 0xff;
}

/** One buffer as the model sees it: its bytes after every write so far, in call order. */
class ModelBuffer {
  /** `versions[k]`: the bytes after the k-th write; the last is now. */
  readonly versions: Uint8Array[];
  /**
   * Every CPU range that writes, begun so far: its bytes may show in overlapping views; what
   * a `'to-device'` window holds before the CPU writes is undefined, and overlapping views
   * show it; a `'bidirectional'` window shows the bytes staged at its begin (the DOC table of
   * gpu/cpu-pages.ts).
   */
  readonly writers: WritingRange[] = [];
  /** Imported fences still pending: their class, and whether they will signal with an error. */
  readonly fences = new Set<{ readonly usage: 'read' | 'write'; readonly fails: boolean }>();
  released = false;
  /** Counts the CPU-access begins and ends called so far: when a range began or ended. */
  clock = 0;

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

  /**
   * Whether `value` may show at `offset` to a CPU view begun at `begun` on the clock, when
   * `version` was current. Writing ranges that ended before it began count for nothing but
   * the bytes they wrote back.
   */
  allows(offset: number, value: number, version: number, begun: number): boolean {
    if (this.now[offset] === value) return true;
    let oldest = version;
    for (const w of this.writers) {
      if (offset < w.start || offset >= w.start + w.len || (w.ended !== undefined && w.ended < begun)) continue;
      if (w.dir === 'to-device' || cpuByte(offset, w.seed) === value) return true;
      if (w.dir === 'bidirectional') oldest = Math.min(oldest, w.version);
    }
    for (let k = oldest; k < this.versions.length; k++) if (this.versions[k]?.[offset] === value) return true;
    return false;
  }

  /** Whether `value` at `offset` is what some CPU writer over it wrote. */
  cpuWrote(offset: number, value: number): boolean {
    return this.writers.some((w) => offset >= w.start && offset < w.start + w.len && cpuByte(offset, w.seed) === value);
  }

  /**
   * Whether an operation of `kind` called now fails: it waits for a pending imported fence
   * that will signal with an error (a reader waits for `'write'` fences, a writer for all).
   */
  doomed(kind: 'read' | 'write'): boolean {
    for (const fence of this.fences) if (fence.fails && (kind === 'write' || fence.usage === 'write')) return true;
    return false;
  }
}

interface World {
  readonly buffers: { readonly real: GpuDmaBuf; readonly model: ModelBuffer }[];
  /**
   * Hands control back when the scheduler says so. The scheduler waits for the promise of
   * the step it picks, so an operation that may wait for an imported fence (`fenced`: one was
   * pending at its call) is awaited first and only its hand-back is scheduled: the fence's
   * signal is another task's step.
   */
  step<T>(promise: Promise<T>, label: string, fenced?: boolean): Promise<T>;
}

/** Fails at the first byte of `[start, start + len)` that `ok` refuses, for a readable failure (no diff of megabytes). */
function firstMismatch(what: string, start: number, len: number, ok: (offset: number) => boolean, value: (offset: number) => number | undefined): void {
  for (let i = start; i < start + len; i++) if (!ok(i)) expect.fail(`${what}: byte ${i} is ${value(i)}, which no call order allows`);
}

/** Fails unless `actual` holds exactly `expected`, naming the first byte that differs. */
function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual.length, `${what}: its length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) expect.fail(`${what}: byte ${i} is ${actual[i]}, not ${expected[i]}`);
}

/** The bytes `[start, start + len)` as the kmap windows show them now. */
function windowBytes(real: GpuDmaBuf, start: number, len: number): Uint8Array {
  const seen = new Uint8Array(len);
  eachByte(real, start, len, (view, at, i) => (seen[i - start] = view[at] ?? 0));
  return seen;
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

/**
 * Awaits an operation the model says is `doomed` (it waits for an imported fence that will
 * fail): it must reject with that fence's error, or with `EINVAL` once the buffer is
 * released. Returns `true` when it failed as it must; an operation that is not doomed is
 * awaited as it is.
 */
async function failsIfDoomed<T>(w: World, model: ModelBuffer, doomed: boolean, operation: Promise<T>, label: string): Promise<{ failed: true } | { failed: false; value: T }> {
  // Called in the same task as the operation: the fences pending now are those it waits for.
  const fenced = model.fences.size > 0;
  if (!doomed) return { failed: false, value: await w.step(operation, label, fenced) };
  const error = await w.step(operation.then(() => undefined, (e: unknown) => e), label, fenced);
  if (releasedUnder(model, error)) throw error;
  expect((error as { code?: unknown } | undefined)?.code, `${label}: it waited for an imported fence that failed`).toBe(FENCE_ERROR);
  return { failed: true };
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
    const reads = this.dir === 'to-device' || this.dir === 'bidirectional';
    const mapped = await failsIfDoomed(w, model, reads && model.doomed('read'), attachment.map(this.dir), `${String(this)} map`);
    if (gone(model)) return;
    if (mapped.failed) {
      real.detach(attachment);
      return;
    }
    const sgt = mapped.value;
    if (this.dir === 'to-device' || this.dir === 'bidirectional') {
      expectBytes(await w.step(readTable(device, sgt), `${String(this)} read`), expected, `${String(this)}: the mirror`);
      if (gone(model)) return;
    }
    fillWithShader(device, sgt, this.seed);
    const writes = this.dir === 'from-device' || this.dir === 'bidirectional';
    const doomed = writes && model.doomed('write');
    const unmapped = attachment.unmap(sgt, this.dir);
    // A write-back that fails changes nothing; the table is given back all the same.
    if (writes && !doomed) model.write(0, shaderPattern(real.size, this.seed));
    await failsIfDoomed(w, model, doomed, unmapped, `${String(this)} unmap`);
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
    const begun = ++model.clock;
    const writer: WritingRange = { start, len, dir: this.dir, version, seed: this.seed };
    model.writers.push(writer);
    // A range that reads enters as a reader; one that only writes waits as a writer does.
    const doomed = model.doomed(this.dir === 'to-device' ? 'write' : 'read');
    const began = await failsIfDoomed(w, model, doomed, real.beginCpuAccess(start, len, this.dir), `${String(this)} begin`);
    if (gone(model) || began.failed) {
      writer.ended = ++model.clock;
      return;
    }
    if (this.dir === 'bidirectional') {
      const seen = windowBytes(real, start, len);
      firstMismatch(`${String(this)}: the window`, start, len, (i) => model.allows(i, seen[i - start] ?? -1, version, begun), (i) => seen[i - start]);
    }
    eachByte(real, start, len, (view, at, i) => (view[at] = cpuByte(i, this.seed)));
    // Other tasks may write the same pages now.
    await w.step(Promise.resolve(), `${String(this)} writes`);
    if (gone(model)) return;
    const landed = windowBytes(real, start, len);
    firstMismatch(`${String(this)}: its bytes before the end`, start, len, (i) => model.cpuWrote(i, landed[i - start] ?? -1), (i) => landed[i - start]);
    real.endCpuAccess(start, len, this.dir);
    writer.ended = ++model.clock;
    model.write(start, landed);
  }
  toString = () => `cpuWrite(#${this.buf}, ${this.a}, ${this.b}, '${this.dir}', seed ${this.seed})`;
}

/** One round of a CPU read: ranges begun together, then held over `holds` steps of the others. */
interface ReadRound {
  readonly ranges: readonly (readonly [number, number])[];
  readonly holds: number;
  /** What the round waits for before it begins (another module's word that it is done), and its name. */
  readonly after?: { readonly done: Promise<unknown>; readonly what: string };
}

/**
 * The CPU reads in rounds, as a module that keeps what it read open while it reads more: each
 * round begins one or more ranges at once (two parts of a buffer read together), checks them
 * and holds them while the others go on; every range stays open until the last round is
 * done. Each range sees every write called before its begin (and perhaps later ones, or
 * overlapping CPU writes in progress), whichever begin finishes first, and whatever the
 * ranges still open from earlier rounds keep staged.
 */
class CpuRead implements Task {
  constructor(readonly buf: number, readonly rounds: readonly ReadRound[]) {}
  async run(w: World): Promise<void> {
    const { real, model } = w.buffers[this.buf % w.buffers.length] ?? fail();
    const open: [number, number][] = [];
    try {
      for (const [round, { ranges: drawn, holds, after }] of this.rounds.entries()) {
        // Awaited before the scheduler sees it: another task's steps settle it.
        if (after) await w.step(after.done, `${String(this)} round ${round} waits for ${after.what}`, true);
        if (gone(model)) return;
        const ranges = drawn.map(([a, b]) => rangeIn(real.size, a, b));
        const version = model.version;
        const begun = ++model.clock;
        const doomed = model.doomed('read');
        const begins = ranges.map(([start, len]) => real.beginCpuAccess(start, len, 'from-device'));
        // Every begin settles before the task goes on or fails: none is left in flight.
        const settled = await Promise.allSettled(begins.map((begin, k) => failsIfDoomed(w, model, doomed, begin, `${String(this)} round ${round} begin ${k}`)));
        for (const [k, s] of settled.entries()) if (s.status === 'fulfilled' && !s.value.failed) open.push(ranges[k] ?? fail());
        for (const s of settled) if (s.status === 'rejected') throw s.reason;
        if (gone(model) || settled.some((s) => s.status === 'fulfilled' && s.value.failed)) return;
        for (const [k, [start, len]] of ranges.entries()) {
          const seen = windowBytes(real, start, len);
          firstMismatch(`${String(this)}: round ${round}, window ${k}`, start, len, (i) => model.allows(i, seen[i - start] ?? -1, version, begun), (i) => seen[i - start]);
        }
        // The pages stay staged while others go on.
        for (let k = 0; k <= holds; k++) {
          await w.step(Promise.resolve(), `${String(this)} round ${round} holds`);
          if (gone(model)) return;
        }
      }
    } finally {
      if (!gone(model)) for (const [start, len] of open) real.endCpuAccess(start, len, 'from-device');
    }
  }
  toString = () => `cpuRead(#${this.buf}, ${this.rounds.map(({ ranges, holds, after }) => `${after ? `after ${after.what}: ` : ''}${ranges.map(([a, b]) => `[${a}, ${b}]`).join(' ')} holds ${holds}`).join('; then ')})`;
}

/**
 * A module imports a fence of its own (a software timeline's) into a buffer's reservation,
 * as `'write'` or `'read'`, holds it over a few steps of the others and then signals it,
 * with an error when `fails`. Operations called meanwhile that wait for its class wait for
 * it, and fail with its error when it fails.
 */
class ImportedFence implements Task {
  constructor(readonly buf: number, readonly usage: 'read' | 'write', readonly fails: boolean, readonly holds: number) {}
  async run(w: World): Promise<void> {
    const { real, model } = w.buffers[this.buf % w.buffers.length] ?? fail();
    if (gone(model)) return;
    const timeline = new DmaFenceTimeline(String(this));
    const fence = timeline.fence(1);
    const entry = { usage: this.usage, fails: this.fails };
    real.importSyncFile(fence, this.usage);
    model.fences.add(entry);
    try {
      for (let k = 0; k <= this.holds; k++) await w.step(Promise.resolve(), `${String(this)} pending`);
    } finally {
      model.fences.delete(entry);
      if (this.fails) fence.setError(FENCE_ERROR);
      timeline.advance();
    }
  }
  toString = () => `importedFence(#${this.buf}, '${this.usage}', ${this.fails ? 'fails' : 'signals'}, holds ${this.holds})`;
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
/**
 * A free number from which {@link rangeIn} makes a range: small ones give ranges of a few
 * pages, page multiples ranges that start on a page or end just past one, large ones ranges
 * anywhere in a large buffer.
 */
const offset = fc.oneof(fc.nat(MAX_SIZE), fc.nat(4).map((p) => p * PAGE_SIZE), fc.nat(SMALL_WRITE_BYTES + MAX_SIZE));
/** What a CPU read covers: anywhere, or whole pages (reads of parts of a buffer that other reads keep staged). */
const readRange = fc.oneof(
  { weight: 1, arbitrary: fc.tuple(offset, offset) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(3), fc.nat(2)).map(([page, pages]) => [page * PAGE_SIZE, (pages + 1) * PAGE_SIZE - 1] as [number, number]) },
);

const task: fc.Arbitrary<Task> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(pick, pick, fc.constantFrom<DmaDirection>('from-device', 'bidirectional', 'to-device', 'none'), fc.nat(255)).map(([b, d, dir, s]) => new DeviceAccess(b, d, dir, s)) },
  { weight: 3, arbitrary: fc.tuple(pick, offset, offset, fc.constantFrom<DmaDirection>('to-device', 'bidirectional'), fc.nat(255)).map(([b, x, y, dir, s]) => new CpuWrite(b, x, y, dir, s)) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(pick, fc.array(fc.record({ ranges: fc.array(readRange, { minLength: 1, maxLength: 3 }), holds: fc.nat(6) }), { minLength: 1, maxLength: 2 }))
      .map(([b, rounds]) => new CpuRead(b, rounds)),
  },
  { weight: 2, arbitrary: fc.tuple(pick, fc.constantFrom<'read' | 'write'>('read', 'write'), fc.boolean(), fc.nat(3)).map(([b, usage, fails, holds]) => new ImportedFence(b, usage, fails, holds)) },
  { weight: 1, arbitrary: pick.map((b) => new PutLast(b)) },
);

/** Most buffers are a few pages (a few a whole number of them); some are larger than 2 MiB, where write-only CPU ranges stage in mapped buffers. */
const size = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: MAX_SIZE }) },
  { weight: 4, arbitrary: fc.integer({ min: 2, max: 4 }).map((p) => p * PAGE_SIZE) },
  { weight: 1, arbitrary: fc.integer({ min: SMALL_WRITE_BYTES + 1, max: SMALL_WRITE_BYTES + MAX_SIZE }) },
);

const runs = Number(import.meta.env.VITE_DMABUF_INTERLEAVED_RUNS ?? 100);
// A failure's seed and path replay it: VITE_DMABUF_INTERLEAVED_SEED=… VITE_DMABUF_INTERLEAVED_PATH=….
// `npm test` runs one fixed seed (the same runs every time); VITE_DMABUF_INTERLEAVED_SEED=random
// draws a new one, as long runs should.
const seedSetting = (import.meta.env.VITE_DMABUF_INTERLEAVED_SEED as string | undefined) ?? '20261207';
const replayPath = import.meta.env.VITE_DMABUF_INTERLEAVED_PATH as string | undefined;
const replay = seedSetting === 'random' ? {} : { seed: Number(seedSetting), ...(replayPath === undefined ? {} : { path: replayPath }) };
// A hang is the one failure a run cannot report by itself: a run that takes this long (a
// normal one takes well under a second here, even with a buffer over 2 MiB and both cores
// busy) fails with its trace, and the whole property stops, shrunk counterexample printed,
// well before the test's own timeout. Neither limit is a speed target.
const RUN_BUDGET_MS = 60_000;
// A run stopped on its budget never reaches its own clean-up: the next run gives back what it
// held, so that the shrunk counterexample is about the run that hung, not about its leftovers.
const leftovers = new Set<GpuDmaBuf>();
const testTimeout = Math.max(300_000, runs * 1_500);

/**
 * One run: `sizes` buffers, `tasks` started together (each after its `delay` in scheduler
 * steps), every hand-back in the order `s` picks; then each buffer holds what its writes made
 * of it in call order, and nothing leaks.
 */
async function checkRun(s: fc.Scheduler, sizes: readonly number[], tasks: readonly { task: Task; delay: number }[]): Promise<void> {
  // Small chunks for small buffers: a cross-device transfer takes several steps, so more can
  // happen between them. Buffers over 2 MiB come from a heap with the default chunks.
  for (const buf of leftovers) while (!buf.released) buf.put();
  leftovers.clear();
  const heaps = { small: new GpuHeap(exporter, { chunkBytes: 4096 }), large: new GpuHeap(exporter) };
  const world: World = {
    buffers: sizes.map((size) => {
      const real = (size > SMALL_WRITE_BYTES ? heaps.large : heaps.small).allocate(size);
      leftovers.add(real);
      return { real, model: new ModelBuffer(size) };
    }),
    step: async (promise, label, fenced = false) => {
      // Settled before the scheduler sees it: a rejection waiting for its turn is not unhandled.
      const settled = promise.then((value) => ({ value }), (error: unknown) => ({ error }));
      const outcome = await s.schedule(fenced ? Promise.resolve(await settled) : settled, label);
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    },
  };
  const errors: unknown[] = [];
  // A task starts after `delay` more steps of the scheduler: it may begin after operations
  // of other tasks that take the GPU a while, not only before them.
  const running = tasks.map(({ task: t, delay }) => {
    let started = s.schedule(Promise.resolve(), `start ${t.toString()}`);
    for (let k = 1; k <= delay; k++) started = started.then(() => s.schedule(Promise.resolve(), `start ${t.toString()} (step ${k})`));
    return started.then(() => t.run(world)).catch((error: unknown) => {
      const model = world.buffers[t.buf % world.buffers.length]?.model;
      if (!model || !releasedUnder(model, error)) errors.push(error);
    });
  });
  try {
    await s.waitFor(Promise.all(running));
    if (errors.length > 0) throw errors[0];
    // In the end each buffer holds what its writes made of it, in call order.
    for (const { real, model } of world.buffers) {
      if (model.released) continue;
      await real.beginCpuAccess(0, real.size, 'from-device');
      const all = windowBytes(real, 0, real.size);
      real.endCpuAccess(0, real.size, 'from-device');
      expectBytes(all, model.now, 'the bytes after every task');
    }
  } finally {
    // A failing run must not leave buffers to the next one.
    for (const { real } of world.buffers) if (!real.released) real.put();
    for (const { real } of world.buffers) leftovers.delete(real);
  }
  expect(bufinfoEntries()).toEqual([]);
  expectNoLeaks(heaps.small);
  expectNoLeaks(heaps.large);
}

test(`overlapping calls from independent modules keep call order under any interleaving (${runs} runs)`, async () => {
  expect.hasAssertions();
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), fc.oneof({ weight: 2, arbitrary: fc.tuple(size) }, { weight: 1, arbitrary: fc.tuple(size, size) }), fc.array(fc.record({ task, delay: fc.nat(6) }), { minLength: 2, maxLength: 8 }), checkRun),
    // A run that hangs fails on its own budget, and the whole property stops well before the
    // test's timeout, so that a failure prints its shrunk counterexample and trace.
    { numRuns: runs, timeout: RUN_BUDGET_MS, interruptAfterTimeLimit: testTimeout - 30_000, markInterruptAsFailure: true, ...replay },
  );
}, testTimeout);

/** Whole pages of a buffer of at most five: `[start, len]` free numbers for {@link rangeIn}. */
const pages = fc.tuple(fc.nat(4), fc.nat(2)).map(([page, count]) => [page * PAGE_SIZE, (count + 1) * PAGE_SIZE - 1] as [number, number]);

/**
 * The shape rule 3 of gpu/cpu-pages.ts is about, drawn on purpose rather than waited for: a
 * module holds a read over some pages (staged once, shared by later ranges over them), a writer
 * (an importer's device write, or the CPU's) ends meanwhile and says so, and the module then
 * begins two or three reads at once over those pages and the ones beside them. Each must show
 * the write, whichever of their refreshes of the shared pages finishes first; other tasks run
 * beside them, and the scheduler still orders every other hand-back.
 */
const sharedPagesRun = fc.tuple(
  fc.oneof(fc.integer({ min: 2, max: 5 }).map((p) => p * PAGE_SIZE), fc.integer({ min: 2 * PAGE_SIZE, max: 5 * PAGE_SIZE })),
  pages,
  fc.nat(4),
  fc.array(fc.oneof({ weight: 3, arbitrary: pages }, { weight: 1, arbitrary: fc.tuple(offset, offset) }), { minLength: 2, maxLength: 3 }),
  fc.oneof(
    { weight: 3, arbitrary: fc.tuple(pick, fc.constantFrom<DmaDirection>('from-device', 'bidirectional'), fc.nat(255)).map(([d, dir, seed]): Task => new DeviceAccess(0, d, dir, seed)) },
    { weight: 1, arbitrary: fc.tuple(pages, fc.constantFrom<DmaDirection>('to-device', 'bidirectional'), fc.nat(255)).map(([[a, b], dir, seed]): Task => new CpuWrite(0, a, b, dir, seed)) },
  ),
  fc.array(fc.record({ task, delay: fc.nat(6) }), { maxLength: 2 }),
);

const sharedRuns = Math.ceil(runs / 2);
test(`reads begun together over pages another read keeps staged show every write called before them, whichever refresh finishes first (${sharedRuns} runs)`, async () => {
  expect.hasAssertions();
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), sharedPagesRun, async (s, [size, held, holds, reads, writer, others]) => {
      let said = (): void => undefined;
      const done = new Promise<void>((resolve) => (said = resolve));
      const saying: Task = { buf: 0, run: (w) => writer.run(w).finally(said), toString: () => String(writer) };
      const reader = new CpuRead(0, [{ ranges: [held], holds }, { ranges: reads, holds: 0, after: { done, what: 'the writer' } }]);
      await checkRun(s, [size], [{ task: reader, delay: 0 }, { task: saying, delay: 0 }, ...others]);
    }),
    { numRuns: sharedRuns, timeout: RUN_BUDGET_MS, interruptAfterTimeLimit: testTimeout - 30_000, markInterruptAsFailure: true, ...replay },
  );
}, testTimeout);
