// What a reservation waits for and answers (src/dma-resv.ts): an operation behind several
// applications' fences waits for all of them; `wait` is true only when every fence asked for
// signalled in time; an operation's fence signals when its work is done, not when it is
// queued; the exporter's writes are one timeline; 'bookkeep' fences hold no one back; and
// what is not a usage class is refused, even when it prints as one.
import { afterEach, expect, test, vi } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { DmaResv, type DmaResvUsage } from '../../src/dma-resv.js';
import { DmaBufError } from '../../src/error.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Lets pending promise callbacks run (no timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

/** Whether `promise` has settled once the microtasks have run. */
async function settled(promise: Promise<unknown> | undefined): Promise<boolean> {
  let done = promise === undefined;
  void promise?.then(
    () => { done = true; },
    () => { done = true; },
  );
  await flush();
  return done;
}

test("an operation behind two applications' write fences waits until both have signalled, in either order", async () => {
  for (const order of [[0, 1], [1, 0]] as const) {
    const resv = new DmaResv();
    const fences = [new DmaFence(), new DmaFence()];
    for (const fence of fences) resv.addFence(fence, 'write');
    const read = resv.enter('read');
    fences[order[0]]?.signal();
    expect(await settled(read.ready), `after fence #${order[0]} only`).toBe(false);
    fences[order[1]]?.signal();
    expect(await settled(read.ready)).toBe(true);
    read.done();
  }
});

test('wait answers false when one of the fences asked for has not signalled within the timeout, true when all have', async () => {
  vi.useFakeTimers();
  const resv = new DmaResv();
  const early = new DmaFence();
  const late = new DmaFence();
  resv.addFence(early, 'write');
  resv.addFence(late, 'read');
  early.signal();
  const partly = resv.wait('read', 10);
  vi.advanceTimersByTime(10);
  await expect(partly).resolves.toBe(false);
  late.signal();
  await expect(resv.wait('read', 10)).resolves.toBe(true);
  expect(vi.getTimerCount()).toBe(0);
});

test.each<[unknown, string]>([['5', '"5"'], [-1, '-1'], [Number.NaN, 'NaN']])('wait with timeout %j is EINVAL naming the call, even with nothing to wait for', async (timeout, shown) => {
  await expect(new DmaResv().wait('read', timeout as number)).rejects.toThrow(`EINVAL: wait: timeoutMs must be a non-negative number, got ${shown}`);
});

test("an operation's fence signals when the work it queued is done, not when it is queued", async () => {
  const resv = new DmaResv();
  const turn = resv.enter('write');
  const [fence] = resv.getFences('write');
  let finish = (): void => undefined;
  const work = new Promise<void>((resolve) => { finish = resolve; });
  turn.done(work);
  await flush();
  expect(resv.enter('read').ready, 'later operations go once it is queued').toBeUndefined();
  expect(fence?.signaled, 'its fence waits for the work').toBe(false);
  finish();
  await flush();
  expect(fence?.signaled).toBe(true);
});

test('an operation waiting for an earlier one goes once that one is queued, while its work is still under way', async () => {
  const resv = new DmaResv();
  const write = resv.enter('write');
  const read = resv.enter('read');
  expect(await settled(read.ready)).toBe(false);
  let finish = (): void => undefined;
  write.done(new Promise<void>((resolve) => { finish = resolve; }));
  expect(await settled(read.ready), 'the queue keeps the order from here').toBe(true);
  expect(resv.testSignaled('write'), "the write's work is not done").toBe(false);
  read.done();
  finish();
  await flush();
  expect(resv.testSignaled('bookkeep')).toBe(true);
});

test("signalling an operation's fence yourself is EINVAL: before its work is done it is the runtime's own, after it has already signalled", async () => {
  const resv = new DmaResv();
  const turn = resv.enter('read');
  const [fence] = resv.getFences('read');
  expect(() => fence?.signal()).toThrow("EINVAL: signal: this fence is the runtime's own; it signals when its operation's work is done");
  turn.done();
  await flush();
  expect(fence?.signaled).toBe(true);
  expect(() => fence?.signal()).toThrow(/^EINVAL: signal: the fence \(context \d+, seqno 1\) has already signalled$/);
});

test("the exporter's writes are one timeline: a later write's fence replaces the earlier one's, on the same context, one seqno on", () => {
  const resv = new DmaResv();
  const first = resv.enter('write');
  const [firstFence] = resv.getFences('write');
  const second = resv.enter('write');
  const fences = resv.getFences('write');
  expect(fences).toHaveLength(1);
  expect(fences[0]?.context).toBe(firstFence?.context);
  expect(fences[0]?.seqno).toBe((firstFence?.seqno ?? 0) + 1);
  first.done();
  second.done();
});

test("a pending 'bookkeep' fence holds no operation back: the reservation stays idle and a write may go at once", () => {
  const resv = new DmaResv();
  const fence = new DmaFence();
  resv.addFence(fence, 'bookkeep');
  expect(resv.idle).toBe(true);
  expect(resv.waitFor('write')).toBeUndefined();
  resv.addFence(new DmaFence(), 'read');
  expect(resv.idle).toBe(false);
});

test.each<[string, unknown]>([
  ['an array of one class', ['read']],
  ['an object that prints as a class', { toString: () => 'write' }],
  ['a number', 1],
])('a usage given as %s is EINVAL, though it would name a class as a property key', (_what, usage) => {
  const resv = new DmaResv();
  expect(() => resv.getFences(usage as DmaResvUsage)).toThrow(DmaBufError);
  expect(() => { resv.addFence(new DmaFence(), usage as DmaResvUsage); }).toThrow(/^EINVAL: addFence: unknown usage /);
  expect(resv.getFences('bookkeep')).toEqual([]);
});

test('addFence on a cancelled reservation is EINVAL naming the call, and adds nothing', () => {
  const resv = new DmaResv();
  resv.cancel(new DmaBufError('EINVAL', 'put', 'released'));
  expect(() => { resv.addFence(new DmaFence(), 'write'); }).toThrow('EINVAL: addFence: the buffer was released while the operation was under way');
  expect(resv.getFences('bookkeep')).toEqual([]);
});

test('cancelling a reservation rejects the operations waiting in it with EINVAL saying why, the reason as its cause', async () => {
  const resv = new DmaResv();
  resv.addFence(new DmaFence(), 'write');
  const read = resv.enter('read');
  const reason = new DmaBufError('EINVAL', 'put', 'released');
  resv.cancel(reason);
  let error: unknown = 'still waiting';
  void read.ready?.catch((e: unknown) => { error = e; });
  await flush();
  expect(error, 'rejected at once, though no fence signalled').toBeInstanceOf(DmaBufError);
  expect((error as DmaBufError).message).toBe('EINVAL: wait: the buffer was released while the operation waited for fences in its reservation');
  expect((error as DmaBufError).cause).toBe(reason);
  read.done();
});
