// DmaResv, the reservation of one dma-buf (src/dma-resv.ts): reads wait for the writes
// entered before them, writes wait for every access entered before them, reads do not wait
// for each other, and `check` fails once the reservation is cancelled. No timers: whether a
// promise has resolved is tracked with a flag, read after the microtasks have run.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DmaResv, type ResvTurn, type ResvUsage } from '../../src/dma-resv.js';
import { DmaFence } from '../../src/dma-fence.js';
import { DmaFenceTimeline } from '../../src/dma-fence-timeline.js';
import { DmaBufError } from '../../src/error.js';

/**
 * Lets every pending promise callback run, however long its chain: Node runs every microtask
 * before an immediate. A fixed number of microtask rounds is too few for the chains that
 * operations finished in reverse order make: the test would see a deadlock that is not one.
 */
async function flush(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

/** Whether a promise (or `undefined`, which means "at once") has resolved, read after {@link flush}. */
interface Watched {
  readonly resolved: boolean;
}

function watch(promise: Promise<void> | undefined): Watched {
  const state = { resolved: promise === undefined };
  void promise?.then(() => {
    state.resolved = true;
  });
  return state;
}

/** Enters an access and watches its `ready`. */
function enter(resv: DmaResv, usage: ResvUsage): ResvTurn & Watched {
  const turn = resv.enter(usage);
  const watched = watch(turn.ready);
  return {
    ready: turn.ready,
    done: () => { turn.done(); },
    get resolved() {
      return watched.resolved;
    },
  };
}

describe('DmaResv ordering', () => {
  test('idle is true with nothing pending, false while a read or a write is, and true again once all are done', async () => {
    const resv = new DmaResv();
    expect(resv.idle).toBe(true);
    const read = resv.enter('read');
    expect(resv.idle).toBe(false);
    read.done();
    expect(resv.idle).toBe(true);
    const write = resv.enter('write');
    const after = resv.enter('read');
    write.done();
    expect(resv.idle).toBe(false);
    after.done();
    await flush();
    expect(resv.idle).toBe(true);
  });

  test('an access with nothing pending may go at once (ready is undefined)', () => {
    const resv = new DmaResv();
    const read = resv.enter('read');
    expect(read.ready).toBeUndefined();
    read.done();
    const write = resv.enter('write');
    expect(write.ready).toBeUndefined();
    write.done();
    expect(resv.enter('read').ready).toBeUndefined();
  });

  test('reads do not wait for earlier reads', () => {
    const resv = new DmaResv();
    resv.enter('read');
    resv.enter('read');
    expect(resv.enter('read').ready).toBeUndefined();
  });

  test('a read waits for the newest earlier write and goes when it is done', async () => {
    const resv = new DmaResv();
    const older = enter(resv, 'write');
    older.done();
    const newest = enter(resv, 'write');
    expect(newest.ready).toBeUndefined(); // the older write is done already
    const read = enter(resv, 'read');
    await flush();
    expect(read.resolved).toBe(false);
    newest.done();
    await flush();
    expect(read.resolved).toBe(true);
  });

  test('a write entered after two reads waits for both', async () => {
    const resv = new DmaResv();
    const first = enter(resv, 'read');
    const second = enter(resv, 'read');
    const write = enter(resv, 'write');
    await flush();
    expect(write.resolved).toBe(false);
    second.done();
    await flush();
    expect(write.resolved).toBe(false);
    first.done();
    await flush();
    expect(write.resolved).toBe(true);
  });

  test('a write waits for the earlier write and for the reads entered after it', async () => {
    const resv = new DmaResv();
    const firstWrite = enter(resv, 'write');
    const read = enter(resv, 'read');
    const secondWrite = enter(resv, 'write');
    await flush();
    expect([read.resolved, secondWrite.resolved]).toEqual([false, false]);
    firstWrite.done();
    await flush();
    expect([read.resolved, secondWrite.resolved]).toEqual([true, false]);
    read.done();
    await flush();
    expect(secondWrite.resolved).toBe(true);
  });

  test('a write waits for an earlier write with no read in between', async () => {
    const resv = new DmaResv();
    const first = enter(resv, 'write');
    const second = enter(resv, 'write');
    await flush();
    expect(second.resolved).toBe(false);
    first.done();
    await flush();
    expect(second.resolved).toBe(true);
  });

  test('a read entered after a write waits for it even when reads before the write are still pending', async () => {
    const resv = new DmaResv();
    const before = enter(resv, 'read');
    const write = enter(resv, 'write');
    const after = enter(resv, 'read');
    await flush();
    expect([write.resolved, after.resolved]).toEqual([false, false]);
    before.done();
    await flush();
    // The write may go now; the read after it still waits for it.
    expect([write.resolved, after.resolved]).toEqual([true, false]);
    write.done();
    await flush();
    expect(after.resolved).toBe(true);
  });

  test('done() twice is harmless: the second call forgets nothing entered later', async () => {
    const resv = new DmaResv();
    const read = enter(resv, 'read');
    const write = enter(resv, 'write');
    read.done();
    read.done();
    await flush();
    expect(write.resolved).toBe(true);
    const later = enter(resv, 'read');
    read.done();
    await flush();
    expect(later.resolved).toBe(false); // still waits for the write
    write.done();
    write.done();
    await flush();
    expect(later.resolved).toBe(true);
    later.done();
    later.done();
    // An access that waited is forgotten once its fence signals, a microtask after done().
    await flush();
    expect(resv.enter('write').ready).toBeUndefined();
  });

  test('done() of an access that gave up without awaiting ready still lets the next go', async () => {
    const resv = new DmaResv();
    const first = enter(resv, 'write');
    const gaveUp = enter(resv, 'write'); // waits for the first
    const next = enter(resv, 'read'); // waits for both writes
    first.done();
    gaveUp.done(); // never awaited its ready
    await flush();
    expect(next.resolved).toBe(true);
    expect(gaveUp.resolved).toBe(true); // its ready still resolves, and does not reject
    next.done();
    await flush();
    expect(resv.enter('write').ready).toBeUndefined();
  });

  test('a read that gives up early lets a later write go once the earlier write is done', async () => {
    const resv = new DmaResv();
    const write = enter(resv, 'write');
    const gaveUp = enter(resv, 'read');
    gaveUp.done();
    const later = enter(resv, 'write');
    await flush();
    expect(later.resolved).toBe(false); // still waits for the write
    write.done();
    await flush();
    expect(later.resolved).toBe(true);
  });

  // Rule 2: a read goes once every write entered before it has done its part. A write that
  // gives up (done() before its ready resolved, as GpuHeap's unmap does when the copy out of
  // the importer's mirror fails) has done its part, but the write it was waiting for has not.
  test('a write that gives up early does not let a later read overtake the earlier write it waited for', async () => {
    const resv = new DmaResv();
    const pending = enter(resv, 'write');
    const gaveUp = enter(resv, 'write');
    gaveUp.done();
    const read = enter(resv, 'read');
    await flush();
    expect(read.resolved, 'the read went ahead while an earlier write was still pending').toBe(false);
    pending.done();
    await flush();
    expect(read.resolved).toBe(true);
  });

  // Rule 2 again: a write goes once every read and write entered before it has done its part.
  test('a write that gives up early does not let a later write overtake the reads it waited for', async () => {
    const resv = new DmaResv();
    const pendingRead = enter(resv, 'read');
    const gaveUp = enter(resv, 'write');
    gaveUp.done();
    const write = enter(resv, 'write');
    await flush();
    expect(write.resolved, 'the write went ahead while an earlier read was still pending').toBe(false);
    pendingRead.done();
    await flush();
    expect(write.resolved).toBe(true);
  });
  // As above, for a turn entered before the write gave up: it waits for the write that gave
  // up and, through it, for the reads that write waited for.
  test('a write that gives up early does not release a write entered after it before the reads it waited for', async () => {
    const resv = new DmaResv();
    const pendingRead = enter(resv, 'read');
    const gaveUp = enter(resv, 'write');
    const next = enter(resv, 'write');
    gaveUp.done();
    await flush();
    expect(next.resolved, 'the write went ahead while an earlier read was still pending').toBe(false);
    pendingRead.done();
    await flush();
    expect(next.resolved).toBe(true);
  });

  // endCpuAccess writes back in its turn even behind a fence that failed: its turn must still
  // come after the operations called before it are queued, or it overtakes them.
  test('a write behind an imported fence that fails waits for the earlier read to be queued before it rejects', async () => {
    const resv = new DmaResv();
    const consumer = new DmaFence();
    // A read under way: entered, its copy not queued yet.
    const read = resv.enter('read');
    resv.addFence(consumer, 'read');
    const write = resv.enter('write');
    const settled = { write: false };
    void write.ready?.then(() => (settled.write = true), () => (settled.write = true));
    consumer.setError('EIO');
    consumer.signal();
    await flush();
    expect(settled.write, 'the write went ahead while a read called before it was not queued').toBe(false);
    read.done();
    await expect(write.ready).rejects.toMatchObject({ code: 'EIO' });
  });
});

// dma_resv_add_fence: a later fence of a context replaces an earlier one of the same or a
// weaker class, never one of a stronger class, which readers must still wait for.
describe('DmaResv replacement of fences of one context', () => {
  test("a later 'read' fence of a timeline does not hide its earlier 'write' fence: a reader still waits for the write", async () => {
    const resv = new DmaResv();
    const timeline = new DmaFenceTimeline('producer');
    const write = timeline.fence(1);
    const read = timeline.fence(2);
    resv.addFence(write, 'write');
    resv.addFence(read, 'read');
    expect(resv.getFences('write')).toEqual([write]);
    const reader = enter(resv, 'read');
    await flush();
    expect(reader.resolved, 'a reader went ahead of a pending write fence').toBe(false);
    timeline.advance();
    await flush();
    expect(reader.resolved).toBe(true);
    timeline.advance();
  });

  test("a later 'write' fence of a timeline replaces its earlier 'read' fence", () => {
    const resv = new DmaResv();
    const timeline = new DmaFenceTimeline('producer');
    const read = timeline.fence(1);
    const write = timeline.fence(2);
    resv.addFence(read, 'read');
    resv.addFence(write, 'write');
    expect(resv.getFences('bookkeep')).toEqual([write]);
    timeline.advance(2);
  });

  test('an earlier fence added after a later one of its context replaces nothing', () => {
    const resv = new DmaResv();
    const timeline = new DmaFenceTimeline('producer');
    const later = timeline.fence(2);
    const earlier = timeline.fence(1);
    resv.addFence(later, 'write');
    resv.addFence(earlier, 'write');
    expect(resv.getFences('write')).toEqual([later, earlier]);
    timeline.advance(2);
  });
});

describe('DmaResv wait', () => {
  test('wait with nothing pending is undefined for both usages', () => {
    const resv = new DmaResv();
    expect(resv.waitFor('read')).toBeUndefined();
    expect(resv.waitFor('write')).toBeUndefined();
  });

  test('wait(read) waits for the pending write only; wait(write) for the write and the reads after it', async () => {
    const resv = new DmaResv();
    const write = enter(resv, 'write');
    const read = enter(resv, 'read');
    const forRead = watch(resv.waitFor('read'));
    const forWrite = watch(resv.waitFor('write'));
    await flush();
    expect([forRead.resolved, forWrite.resolved]).toEqual([false, false]);
    write.done();
    await flush();
    expect([forRead.resolved, forWrite.resolved]).toEqual([true, false]);
    read.done();
    await flush();
    expect(forWrite.resolved).toBe(true);
  });

  test('wait(read) is undefined while only reads are pending, as enter(read) would be', () => {
    const resv = new DmaResv();
    enter(resv, 'read');
    expect(resv.waitFor('read')).toBeUndefined();
    expect(resv.waitFor('write')).not.toBeUndefined();
  });

  test('wait enters nothing: accesses entered afterwards do not wait for it', async () => {
    const resv = new DmaResv();
    const read = enter(resv, 'read');
    const waited = watch(resv.waitFor('write'));
    void resv.waitFor('read');
    read.done();
    await flush();
    expect(waited.resolved).toBe(true);
    expect(resv.enter('write').ready).toBeUndefined();
  });
});

describe('DmaResv cancel and check', () => {
  test('check passes until cancel, then throws EINVAL naming the call, with the reason as cause', () => {
    const resv = new DmaResv();
    expect(resv.cancelled).toBe(false);
    expect(() => { resv.check('map'); }).not.toThrow();
    const reason = new DmaBufError('EINVAL', 'release', 'the last reference was dropped');
    resv.cancel(reason);
    expect(resv.cancelled).toBe(true);
    let thrown: unknown;
    try {
      resv.check('beginCpuAccess');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DmaBufError);
    expect((thrown as DmaBufError).code).toBe('EINVAL');
    expect((thrown as DmaBufError).message).toMatch(/^EINVAL: beginCpuAccess: /);
    expect((thrown as DmaBufError).cause).toBe(reason);
  });

  test('a second cancel keeps the first reason', () => {
    const resv = new DmaResv();
    const first = new DmaBufError('EINVAL', 'put', 'first');
    resv.cancel(first);
    resv.cancel(new DmaBufError('EINVAL', 'put', 'second'));
    expect(() => { resv.check('unmap'); }).toThrow(expect.objectContaining({ cause: first }) as Error);
  });

  test('cancel makes turns still waiting reject with EINVAL at once, even behind a fence that never signals', async () => {
    const resv = new DmaResv();
    resv.addFence(new DmaFence(), 'write');
    const read = resv.enter('read');
    const waited = resv.waitFor('read');
    resv.cancel(new DmaBufError('EINVAL', 'put', 'released'));
    await expect(read.ready).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(waited).rejects.toMatchObject({ code: 'EINVAL' });
    read.done();
    expect(() => { resv.check('map'); }).toThrow(DmaBufError);
  });
});

// ---------------------------------------------------------------------------------------
// Call-order property: random sequences of entries (and waits) with done() in random order.

type Step =
  | { readonly op: 'enter'; readonly usage: ResvUsage }
  | { readonly op: 'wait'; readonly usage: ResvUsage }
  | { readonly op: 'done'; readonly pick: number };

const usage = fc.constantFrom<ResvUsage>('read', 'write');
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('enter' as const), usage }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('wait' as const), usage }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('done' as const), pick: fc.nat() }), weight: 3 },
);

interface Access {
  readonly index: number;
  readonly usage: ResvUsage;
  readonly turn: ResvTurn | undefined; // undefined for a wait(), which enters nothing
  /** The entered accesses it must wait for by the rules. */
  readonly after: readonly number[];
  isDone: boolean;
  resolved: boolean;
}

/** What an access of `usage` must wait for: a read every earlier write; a write every earlier access. */
const mustWaitFor = (entered: readonly Access[], kind: ResvUsage) =>
  entered.filter((a) => kind === 'write' || a.usage === 'write').map((a) => a.index);

/**
 * Runs `steps`, then calls done() on what is left in `finalOrder`. With `protocol`, an
 * access calls done() only once its ready has resolved (as an exporter that awaits its turn
 * before it gives up); without, in any order (an access may give up before its turn).
 * Returns the violations seen.
 */
async function runSequence(steps: readonly Step[], finalOrder: readonly number[], protocol: boolean): Promise<string[]> {
  const resv = new DmaResv();
  const entered: Access[] = [];
  const waits: Access[] = [];
  const violations: string[] = [];
  const log: string[] = [];

  const observe = (access: Access, promise: Promise<void> | undefined) => {
    const settle = () => {
      access.resolved = true;
      const early = access.after.filter((i) => !entered[i]?.isDone);
      if (early.length > 0) violations.push(`${access.turn ? 'enter' : 'wait'}(${access.usage}) #${access.index} went before #${early.join(', #')} after: ${log.join('; ')}`);
    };
    if (promise === undefined) settle();
    else void promise.then(settle);
  };

  const doneable = () => entered.filter((a) => !a.isDone && (!protocol || a.resolved));
  const finish = (access: Access) => {
    log.push(`done #${access.index}`);
    access.isDone = true;
    access.turn?.done();
  };

  /**
   * Every access and wait whose predecessors are all done has resolved. Checked only under
   * the protocol: out of order, an implementation may wait for more than the rules ask (a
   * read after a write that gave up may also wait for what that write waited for), as long
   * as nothing deadlocks (checked at the end).
   */
  const checkLive = (when: string) => {
    if (!protocol) return;
    for (const access of [...entered, ...waits]) {
      if (!access.resolved && access.after.every((i) => entered[i]?.isDone)) violations.push(`#${access.index} (${access.usage}) never went though all it waits for is done, ${when}: ${log.join('; ')}`);
    }
  };

  for (const s of steps) {
    if (s.op === 'done') {
      const candidates = doneable();
      const chosen = candidates[s.pick % Math.max(candidates.length, 1)];
      if (chosen) finish(chosen);
    } else if (s.op === 'enter') {
      const after = mustWaitFor(entered, s.usage);
      const turn = resv.enter(s.usage);
      const access: Access = { index: entered.length, usage: s.usage, turn, after, isDone: false, resolved: false };
      log.push(`enter(${s.usage}) #${access.index}`);
      entered.push(access);
      observe(access, turn.ready);
    } else {
      const access: Access = { index: entered.length, usage: s.usage, turn: undefined, after: mustWaitFor(entered, s.usage), isDone: false, resolved: false };
      log.push(`wait(${s.usage})`);
      waits.push(access);
      observe(access, resv.waitFor(s.usage));
    }
    await flush();
    checkLive(`after step ${log.length}`);
  }

  // Finish everything: in the given random order, among those allowed to finish now.
  let k = 0;
  for (let left = doneable(); left.length > 0; left = doneable()) {
    const chosen = left[(finalOrder[k++ % Math.max(finalOrder.length, 1)] ?? 0) % left.length];
    if (chosen) finish(chosen);
    await flush();
  }
  const stuck = [...entered, ...waits].filter((a) => !a.resolved || (a.turn && !a.isDone));
  if (stuck.length > 0) violations.push(`deadlock: #${stuck.map((a) => a.index).join(', #')} never went: ${log.join('; ')}`);
  return violations;
}

describe('DmaResv call-order property', () => {
  test('with done() in any order, no access goes before what it must wait for, and all go in the end', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 24 }), fc.array(fc.nat(), { maxLength: 24 }), async (steps, finalOrder) => {
        expect(await runSequence(steps, finalOrder, false)).toEqual([]);
      }),
    );
  });

  test('with done() only after ready (awaiting the turn first), no access goes early, and all go in the end', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 24 }), fc.array(fc.nat(), { maxLength: 24 }), async (steps, finalOrder) => {
        expect(await runSequence(steps, finalOrder, true)).toEqual([]);
      }),
    );
  });
});
