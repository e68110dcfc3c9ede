// Realms that close or die with fences pending, as a model driven by fast-check's scheduler
// (`fc.scheduler()`). Each run: two or three realms joined by FdSockets (a to b; c from a,
// or from b, which relays), one buffer of the in-memory exporter exported in a and received
// in the others; then tasks started together, each step of which the scheduler orders:
// - fence tasks: a module of one realm imports one or two points of a software timeline of
//   its own into its buffer's reservation (`importSyncFile` or `resv.addFence`, as `'read'`
//   or `'write'`), then signals them, some after `setError('EIO')`;
// - operation tasks: a module of one realm waits for fences: `resv.waitFor`, `resv.wait`,
//   `exportSyncFile(...).wait()`, or, on a received buffer, CPU access begun and ended in a
//   direction;
// - end tasks: a realm closes its sockets, closes its sockets and its fd, or dies.
// Between steps the realms' messages go round for 0, 1, 2 or all the turns they need.
//
// What the contract promises (README, Workers: "Fences cross" and "A realm that dies closes
// its fds"; remote/fence-link.ts; remote/connection.ts) and the run checks:
// 1. Every operation of a realm that is still alive settles, with success, the error of a
//    fence it may have waited for (pending when it began, in a usage class its kind waits for:
//    a reader waits for `'write'` fences, a writer for all), `ENODEV` once a realm has died,
//    or `EINVAL` once its own realm closed its fd (the buffer was released under it). An
//    operation that surely waited for a fence that signalled with an error fails.
// 2. Every mirror of a fence in a realm still alive signals once the originals have; the
//    mirrors of fences pending in (or relayed by) a realm that died signal with `ENODEV`, a
//    fence's error crosses with it, and no `ENODEV` appears where no realm died. Closing
//    sockets changes nothing of this.
// 3. Nothing leaks: each realm holds exactly its references, the buffer is released once,
//    and `bufinfoEntries()` is empty at the end.
// No timers: whether something settled is a flag read after the messages went round.
// DMABUF_REALM_FENCES_RUNS=2000 raises the runs; DMABUF_REALM_FENCES_SEED=random draws a new
// seed; a failure prints its seed and path, which DMABUF_REALM_FENCES_SEED=… and
// DMABUF_REALM_FENCES_PATH=… replay.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import type { DmaDirection } from '../../src/direction.js';
import type { DmaBuf } from '../../src/dma-buf.js';
import type { DmaFence } from '../../src/dma-fence.js';
import { DmaFenceTimeline } from '../../src/dma-fence-timeline.js';
import { watchResv } from '../../src/dma-resv.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { quiesce, TestRealms, type TestRealm } from './realms.js';

const NAMES = ['a', 'b', 'c'] as const;
/** Turns that let every message of a run go round, relays included. */
const DRAIN = 30;
const SIZE = 5000;

type Fate = 'closes' | 'drops' | 'dies';
type Usage = 'read' | 'write';

interface PointPlan {
  readonly usage: Usage;
  readonly via: 'importSyncFile' | 'addFence';
  readonly error: boolean;
}

interface FencePlan {
  readonly realm: number;
  readonly delay: number;
  readonly points: readonly PointPlan[];
}

type OpKind = 'waitFor' | 'resv.wait' | 'exportSyncFile' | 'cpu';

interface OpPlan {
  readonly realm: number;
  readonly delay: number;
  readonly kind: OpKind;
  /** The kind of access waited for: `'read'` waits for `'write'` fences, `'write'` for all. */
  readonly usage: Usage;
  readonly dir: DmaDirection;
}

interface EndPlan {
  readonly realm: number;
  readonly delay: number;
  readonly fate: Fate;
}

interface Plan {
  readonly three: boolean;
  /** c receives the buffer from b (a relay) rather than from a. */
  readonly relay: boolean;
  readonly fences: readonly FencePlan[];
  readonly ops: readonly OpPlan[];
  readonly ends: readonly EndPlan[];
  /** Event-loop turns after each scheduler step, in turn. */
  readonly gaps: readonly number[];
}

/** A fence point as the run saw it; times are the run's event counter. */
interface FenceState {
  readonly label: string;
  readonly realm: number;
  readonly usage: Usage;
  readonly error: boolean;
  readonly fence: DmaFence;
  importedAt: number | undefined;
  signalledAt: number | undefined;
}

interface OpState {
  readonly label: string;
  readonly realm: number;
  /** What it waits for; `undefined` for an access that waits for nothing (a write-only begin). */
  readonly waits: Usage | undefined;
  /** Whether an error can reach it: `resv.wait` resolves whatever its fences signal with. */
  readonly reports: boolean;
  readonly kind: OpKind;
  readonly startedAt: number;
  /** The fences of its own realm in its buffer's reservation, pending, that it waits for. */
  readonly ownWaited: readonly FenceState[];
  settledAt: number | undefined;
  outcome: string | undefined;
}

interface Mirror {
  readonly fence: DmaFence;
  readonly usage: string;
}

const point = fc.record({
  usage: fc.constantFrom<Usage>('read', 'write'),
  via: fc.constantFrom('importSyncFile' as const, 'addFence' as const),
  error: fc.boolean(),
});

const plan: fc.Arbitrary<Plan> = fc.record({
  three: fc.boolean(),
  relay: fc.boolean(),
  fences: fc.array(fc.record({ realm: fc.nat(2), delay: fc.nat(3), points: fc.array(point, { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 4 }),
  ops: fc.array(
    fc.record({
      realm: fc.nat(2),
      delay: fc.nat(4),
      kind: fc.constantFrom<OpKind>('cpu', 'waitFor', 'cpu', 'exportSyncFile', 'resv.wait'),
      usage: fc.constantFrom<Usage>('read', 'write'),
      dir: fc.constantFrom<DmaDirection>('from-device', 'to-device', 'bidirectional'),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  // Half the realms that end die: a death is what the mirrors' ENODEV is about.
  ends: fc.array(fc.record({ realm: fc.nat(2), delay: fc.nat(4), fate: fc.constantFrom<Fate>('dies', 'closes', 'dies', 'drops') }), { minLength: 1, maxLength: 2 }),
  // Often all the turns the messages need, so that more operations surely see the mirrors.
  gaps: fc.array(fc.constantFrom(0, 1, 2, DRAIN, DRAIN), { minLength: 1, maxLength: 6 }),
});

const whyNot = (value: unknown): string => (value instanceof Error ? value.message : String(value));

/** One run of `p`, its steps in the order `s` picks. */
async function checkRun(s: fc.Scheduler, p: Plan): Promise<void> {
  const realms = new TestRealms();
  const count = p.three ? 3 : 2;
  const all: TestRealm[] = NAMES.slice(0, count).map((name) => realms.realm(name));
  const realmAt = (i: number): TestRealm => {
    const found = all[i % count];
    if (!found) throw new Error(`no realm ${i}`);
    return found;
  };
  // Who each realm received the buffer from: a tree rooted at a.
  const parent = [-1, 0, p.relay ? 1 : 0];
  const links = new Map<number, { down: ReturnType<TestRealms['link']> }>();
  const fds: number[] = [];
  const bufs: DmaBuf[] = [];
  let clock = 0;
  const tick = (): number => ++clock;
  const drains: number[] = [];
  const deaths: { realm: number; at: number }[] = [];
  const drops: { realm: number; at: number }[] = [];
  const dead = new Set<number>();
  const dropped = new Set<number>();
  const fences: FenceState[] = [];
  const ops: OpState[] = [];
  const errors: unknown[] = [];
  const mirrors: Mirror[][] = [];
  const stopWatching: (() => void)[] = [];
  const buf = memoryDmaBuf(SIZE);
  try {
    memoryStorage(buf).bytes.fill(7);
    fds[0] = realmAt(0).table.install(buf);
    buf.put();
    bufs[0] = buf;
    for (let r = 1; r < count; r++) {
      const from = parent[r] ?? 0;
      const link = realms.link(realmAt(from), realmAt(r));
      links.set(r, { down: link });
      const received = link.ba.receive(realmAt(r).table);
      await link.ab.send(realmAt(from).table, fds[from] ?? -1);
      const fd = await received;
      fds[r] = fd;
      const theirs = realmAt(r).table.get(fd);
      theirs.put();
      bufs[r] = theirs;
    }
    for (let r = 0; r < count; r++) {
      const seen: Mirror[] = [];
      mirrors[r] = seen;
      // A fence a connection adds for its peer is a mirror: neither an operation's nor one of the modules' own.
      stopWatching.push(watchResv(bufAt(r).resv, (fence, usage, operation) => {
        if (!operation && !fences.some((f) => f.fence === fence)) seen.push({ fence, usage });
      }));
    }

    /** Hands control to the scheduler `n + 1` times, labelled. */
    const steps = async (n: number, label: string): Promise<void> => {
      for (let k = 0; k <= n; k++) await s.schedule(Promise.resolve(), k === n ? label : `${label} (wait ${k + 1})`);
    };
    const ended = (r: number): boolean => dead.has(r) || dropped.has(r);

    const fenceTask = async (f: FencePlan, index: number): Promise<void> => {
      const r = f.realm % count;
      const timeline = new DmaFenceTimeline(`${NAMES[r] ?? '?'}-module-${index}`);
      const states = f.points.map((pt, k): FenceState => {
        const state: FenceState = { label: `F${index}.${k + 1} (${NAMES[r] ?? '?'}, ${pt.usage}${pt.error ? ', EIO' : ''})`, realm: r, usage: pt.usage, error: pt.error, fence: timeline.fence(k + 1), importedAt: undefined, signalledAt: undefined };
        fences.push(state);
        return state;
      });
      await steps(f.delay, `start fence task ${index}`);
      for (const [k, state] of states.entries()) {
        const pt = f.points[k];
        await steps(0, `import ${state.label}`);
        // A module whose realm is gone, or that closed its fd, imports nothing more.
        if (!pt || ended(r)) continue;
        if (pt.via === 'importSyncFile') bufAt(r).importSyncFile(state.fence, pt.usage);
        else bufAt(r).resv.addFence(state.fence, pt.usage);
        state.importedAt = tick();
      }
      for (const state of states) {
        await steps(0, `signal ${state.label}`);
        // A dead realm's module signals nothing: its fences stay pending for ever.
        if (dead.has(r)) return;
        if (state.error) state.fence.setError('EIO');
        timeline.advance();
        state.signalledAt = tick();
      }
    };

    const track = (state: OpState, promise: Promise<string>): Promise<string> =>
      promise.then(
        (outcome) => {
          state.outcome = outcome;
          state.settledAt = tick();
          return outcome;
        },
        (error: unknown) => {
          state.outcome = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : `not a DmaBufError: ${whyNot(error)}`;
          state.settledAt = tick();
          return state.outcome;
        },
      );

    // `holds`: the fences it waits for, where it keeps a snapshot of its own (a merged sync file
    // keeps the latest point of each timeline only); else its reservation's as it begins.
    const start = (r: number, label: string, kind: OpKind, waits: Usage | undefined, run: () => Promise<string>, holds?: readonly DmaFence[]): Promise<string> => {
      const held = holds ?? bufAt(r).resv.getFences('read');
      const ownWaited = waits === undefined ? [] : fences.filter((f) => f.realm === r && !f.fence.signaled && (waits === 'write' || f.usage === 'write') && held.includes(f.fence));
      const state: OpState = { label, realm: r, waits, reports: kind !== 'resv.wait', kind, startedAt: tick(), ownWaited, settledAt: undefined, outcome: undefined };
      ops.push(state);
      // Called now, within this step: a synchronous throw rejects as well.
      return track(state, (async () => await run())());
    };

    const opTask = async (o: OpPlan, index: number): Promise<void> => {
      const r = o.realm % count;
      const target = bufAt(r);
      // CPU access of the exporter's own realm is the memory exporter's, which orders nothing by fences.
      const kind: OpKind = o.kind === 'cpu' && r === 0 ? 'exportSyncFile' : o.kind;
      const label = `op ${index} in ${NAMES[r] ?? '?'}: ${kind === 'cpu' ? `cpu '${o.dir}'` : `${kind} ${o.usage}`}`;
      await steps(o.delay, `start ${label}`);
      if (ended(r)) return;
      if (kind === 'waitFor') {
        await start(r, label, kind, o.usage, async () => {
          await target.resv.waitFor(o.usage);
          return 'ok';
        });
      } else if (kind === 'resv.wait') {
        await start(r, label, kind, o.usage, async () => String(await target.resv.wait(o.usage === 'read' ? 'write' : 'read')));
      } else if (kind === 'exportSyncFile') {
        const merged = target.exportSyncFile(o.usage === 'read' ? 'read' : 'rw');
        await start(r, label, kind, o.usage, async () => {
          const signalled = await merged.wait();
          return signalled ? (merged.error?.code ?? 'ok') : 'not signalled';
        }, merged.unwrap());
      } else {
        const reads = o.dir !== 'to-device';
        const outcome = await start(r, label, kind, reads ? 'read' : undefined, async () => {
          await target.beginCpuAccess(0, SIZE, o.dir);
          return 'ok';
        });
        if (outcome !== 'ok') return;
        await steps(0, `end ${label}`);
        if (ended(r)) return;
        target.endCpuAccess(0, SIZE, o.dir);
        // A write-back takes its place now; its fence signals once the exporter's realm answered.
        if (o.dir !== 'from-device') {
          await start(r, `${label}: its write-back's fence`, 'resv.wait', 'write', async () => String(await target.exportSyncFile('rw').wait()));
        }
      }
    };

    const endTask = async (e: EndPlan, index: number): Promise<void> => {
      const r = e.realm % count;
      await steps(e.delay, `realm ${NAMES[r] ?? '?'} ${e.fate} (end task ${index})`);
      if (dead.has(r)) return;
      const realm = realmAt(r);
      if (e.fate === 'dies') {
        // One death a run: a second realm dying is left to other tests.
        if (deaths.length > 0) return;
        dead.add(r);
        realms.kill(realm);
        deaths.push({ realm: r, at: tick() });
        return;
      }
      for (const socket of realm.sockets) if (!socket.closed) socket.close();
      if (e.fate === 'drops' && !dropped.has(r)) {
        dropped.add(r);
        realm.table.close(fds[r] ?? -1);
        drops.push({ realm: r, at: tick() });
      }
    };

    const tasks = [...p.fences.map(fenceTask), ...p.ops.map(opTask), ...p.ends.map(endTask)].map((t) => t.catch((error: unknown) => { errors.push(error); }));
    // Every step the scheduler has, each followed by the turns the plan says; then the
    // messages go round in full, which may let awaited operations schedule more steps.
    let gap = 0;
    for (;;) {
      while (s.count() > 0) {
        await s.waitNext(1);
        const turns = p.gaps[gap++ % p.gaps.length] ?? 0;
        await quiesce(turns);
        if (turns >= DRAIN) drains.push(tick());
      }
      await quiesce(DRAIN);
      drains.push(tick());
      if (s.count() === 0) break;
    }
    void Promise.all(tasks);
    expect(errors.map(whyNot), 'no task threw').toEqual([]);

    // Tree paths: a death on the way from a fence's realm to a realm cuts its mirror off there.
    const up = (r: number): number[] => {
      const chain = [r];
      for (let x = parent[r] ?? -1; x >= 0; x = parent[x] ?? -1) chain.push(x);
      return chain;
    };
    const path = (x: number, y: number): number[] => {
      const ux = up(x);
      const uy = up(y);
      const meet = ux.find((n) => uy.includes(n)) ?? 0;
      return [...ux.slice(0, ux.indexOf(meet) + 1), ...uy.slice(0, uy.indexOf(meet))];
    };
    const drainBetween = (after: number, before: number): boolean => drains.some((d) => d > after && d < before);
    const droppedBy = (r: number, at: number): boolean => drops.some((d) => d.realm === r && d.at < at);
    const death = deaths[0];
    const waitsFor = (waits: Usage, f: FenceState): boolean => waits === 'write' || f.usage === 'write';
    const pendingAt = (f: FenceState, at: number): boolean => f.signalledAt === undefined || f.signalledAt > at;
    /** Whether the death cut the mirror of `f` in realm `r` off while `f` was pending. */
    const cutOff = (f: FenceState, r: number): boolean => death !== undefined && death.realm !== r && path(f.realm, r).includes(death.realm) && pendingAt(f, death.at);

    // 1. Every operation of a living realm settles, as the fences it waited for allow.
    for (const op of ops) {
      if (dead.has(op.realm)) continue;
      expect(op.outcome, `${op.label} settles (began at ${op.startedAt})`).not.toBeUndefined();
      const settledAt = op.settledAt ?? clock;
      const outcome = op.outcome ?? '';
      const waits = op.waits;
      // The fences it surely waited for: its own realm's, seen in its reservation as it began,
      // and other realms' whose mirrors had arrived (the messages went round since their import)
      // while no realm had died yet.
      const crossWaited = waits === undefined || (death && death.at < op.startedAt)
        ? []
        : fences.filter((f) => f.realm !== op.realm && waitsFor(waits, f) && f.importedAt !== undefined && drainBetween(f.importedAt, op.startedAt) && pendingAt(f, op.startedAt) && !path(f.realm, op.realm).some((x) => droppedBy(x, op.startedAt)));
      const mustFail = [...op.ownWaited.filter((f) => f.error && f.signalledAt !== undefined), ...crossWaited.filter((f) => (f.error && f.signalledAt !== undefined) || cutOff(f, op.realm))];
      if (outcome === 'ok' || outcome === 'true') {
        expect(op.reports && mustFail.length > 0, `${op.label} waited for ${mustFail.map((f) => f.label).join(', ')}, which failed, yet succeeded`).toBe(false);
        continue;
      }
      if (outcome === 'EIO') {
        // A fence that signalled with EIO and may have been pending for it: mirrors and relays
        // lag until the messages go round; a relayed CPU read waits in the relay's realm when it arrives.
        const until = op.kind === 'cpu' ? settledAt : op.startedAt;
        const causes = fences.filter((f) => f.error && waits !== undefined && waitsFor(waits, f) && f.importedAt !== undefined && f.importedAt < until && (pendingAt(f, op.startedAt) || !drainBetween(f.signalledAt ?? 0, op.startedAt)));
        expect(causes.length, `${op.label} failed with EIO, but no fence with EIO it waits for was pending as it began`).toBeGreaterThan(0);
        continue;
      }
      if (outcome === 'ENODEV') {
        expect(death !== undefined && death.at < settledAt, `${op.label} failed with ENODEV, but no realm had died`).toBe(true);
        continue;
      }
      if (outcome === 'EINVAL') {
        expect(droppedBy(op.realm, settledAt), `${op.label} failed with EINVAL, but its realm still held the buffer`).toBe(true);
        continue;
      }
      expect.fail(`${op.label} ended with ${outcome}, which nothing in the run explains`);
    }

    // 2. Every mirror in a living realm signalled, with the error its original's fate gives it.
    for (let r = 0; r < count; r++) {
      if (dead.has(r)) continue;
      const seen = mirrors[r] ?? [];
      const name = NAMES[r] ?? '?';
      const pending = seen.filter((m) => !m.fence.signaled);
      expect(pending.length, `realm ${name}: every mirror signals (${pending.length} of ${seen.length} still pending)`).toBe(0);
      const codes = seen.map((m) => m.fence.error?.code ?? 'ok');
      for (const code of codes) expect(['ok', 'EIO', 'ENODEV'], `realm ${name}: a mirror's error`).toContain(code);
      const enodev = codes.filter((c) => c === 'ENODEV').length;
      const eio = codes.filter((c) => c === 'EIO').length;
      if (!death) expect(enodev, `realm ${name}: no mirror signals ENODEV when no realm died`).toBe(0);
      if (!fences.some((f) => f.error)) expect(eio, `realm ${name}: no mirror signals EIO when no fence did`).toBe(0);
      // The fences whose mirrors had surely reached r when their realm, or a relay, died.
      const cut = death
        ? fences.filter((f) => f.realm !== r && f.importedAt !== undefined && cutOff(f, r) && drains.some((d) => d > (f.importedAt ?? 0) && d < death.at && !path(f.realm, r).some((x) => droppedBy(x, d))))
        : [];
      expect(enodev, `realm ${name}: the mirrors of ${cut.map((f) => f.label).join(', ')} signal with ENODEV`).toBeGreaterThanOrEqual(cut.length);
      // The fences that signalled with EIO while the way to r stood, and whose signal went round.
      const failed = fences.filter((f) => f.realm !== r && f.error && f.importedAt !== undefined && f.signalledAt !== undefined && drains.some((d) => d > (f.signalledAt ?? 0) && (!death || d < death.at) && !path(f.realm, r).some((x) => droppedBy(x, d))));
      expect(eio, `realm ${name}: the mirrors of ${failed.map((f) => f.label).join(', ')} signal with their EIO`).toBeGreaterThanOrEqual(failed.length);
      // Each fence whose mirror surely reached r is mirrored in its own usage class (the
      // mirrors of other realms' operations come on top).
      for (const usage of ['read', 'write'] as const) {
        const arrived = fences.filter((f) => f.realm !== r && f.usage === usage && f.importedAt !== undefined && drains.some((d) => d > (f.importedAt ?? 0) && (!death || d < death.at) && !path(f.realm, r).some((x) => droppedBy(x, d))));
        const inClass = seen.filter((m) => m.usage === usage).length;
        expect(inClass, `realm ${name}: the mirrors of ${arrived.map((f) => f.label).join(', ')} are '${usage}' fences`).toBeGreaterThanOrEqual(arrived.length);
      }
      if (!dropped.has(r)) expect(bufAt(r).resv.testSignaled('bookkeep'), `realm ${name}: nothing pending in its reservation`).toBe(true);
    }

    // 3. References: each realm holds one for each realm it sent the buffer to that still holds it.
    const holds = (r: number): boolean => r < count && !dead.has(r) && (!dropped.has(r) || [1, 2].some((x) => x < count && parent[x] === r && holds(x)));
    for (let r = 0; r < count; r++) {
      if (dead.has(r) || !holds(r)) continue;
      const sentTo = [1, 2].filter((x) => x < count && parent[x] === r && holds(x)).length;
      expect(bufAt(r).refCount, `realm ${NAMES[r] ?? '?'}: its fd and one per realm it sent the buffer to`).toBe((dropped.has(r) ? 0 : 1) + sentTo);
    }
  } finally {
    for (const stop of stopWatching) stop();
    await realms.closeAll();
  }
  expect(buf.released, 'the buffer is released once every realm closed its fds').toBe(true);
  expect(memoryStorage(buf).calls.filter((call) => call === 'release')).toEqual(['release']);
  for (const [r, theirs] of bufs.entries()) expect(theirs.released, `realm ${NAMES[r] ?? '?'}'s buffer is released`).toBe(true);
  expect(bufinfoEntries()).toEqual([]);

  function bufAt(r: number): DmaBuf {
    const found = bufs[r];
    if (!found) throw new Error(`no buffer in realm ${r}`);
    return found;
  }
}

const runs = Number(process.env.DMABUF_REALM_FENCES_RUNS ?? 100);
const seedSetting = process.env.DMABUF_REALM_FENCES_SEED ?? '20261211';
const replayPath = process.env.DMABUF_REALM_FENCES_PATH;
const replay = seedSetting === 'random' ? {} : { seed: Number(seedSetting), ...(replayPath === undefined ? {} : { path: replayPath }) };
// A run here takes a few milliseconds: one that takes RUN_BUDGET_MS hangs, and fails with its
// trace; the property stops, shrunk counterexample printed, well before the test's timeout.
const RUN_BUDGET_MS = 10_000;
const testTimeout = Math.max(120_000, runs * 200);

test(`realms closing or dying with fences pending: every operation settles as its fences allow, every mirror signals, nothing leaks (${runs} runs)`, async () => {
  expect.hasAssertions();
  await fc.assert(fc.asyncProperty(fc.scheduler(), plan, checkRun), {
    numRuns: runs,
    timeout: RUN_BUDGET_MS,
    interruptAfterTimeLimit: testTimeout - 30_000,
    markInterruptAsFailure: true,
    ...replay,
  });
}, testTimeout);
