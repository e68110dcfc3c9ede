// How long DmaFence.wait waits (src/dma-fence.ts): `wait(0)` answers at once, a wait without
// a finite timeout never gives up, and a wait its fence beats leaves no timer behind (a Node
// timer keeps the process alive until it fires). Timers are Vitest's fake ones: the tests
// count and run them, and never wait for a clock.
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  const left = vi.getTimerCount();
  vi.useRealTimers();
  expect(left, 'no timer left behind').toBe(0);
});

/** Lets pending promise callbacks run (no timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

/** The answer of `promise` once the microtasks have run, or 'pending'. */
async function answerOf(promise: Promise<boolean>): Promise<boolean | 'pending'> {
  let answer: boolean | 'pending' = 'pending';
  void promise.then((value) => {
    answer = value;
  });
  await flush();
  return answer;
}

test('wait(0) on a pending fence answers false at once, arming no timer', async () => {
  const fence = new DmaFence();
  const answer = fence.wait(0);
  expect(vi.getTimerCount()).toBe(0);
  expect(await answerOf(answer)).toBe(false);
});

test.each([['wait()', undefined], ['wait(Infinity)', Number.POSITIVE_INFINITY]])('%s never times out: it arms no timer and answers true once the fence signals', async (_name, timeout) => {
  const fence = new DmaFence();
  const answer = fence.wait(timeout);
  expect(vi.getTimerCount(), 'a wait for ever arms no timer').toBe(0);
  vi.runAllTimers();
  expect(await answerOf(answer), 'still waiting after every timer ran').toBe('pending');
  fence.signal();
  expect(await answerOf(answer)).toBe(true);
});

test('a wait whose fence signals before its timeout answers true and clears its timer', async () => {
  const fence = new DmaFence();
  const answer = fence.wait(60_000);
  expect(vi.getTimerCount()).toBe(1);
  fence.signal();
  expect(await answerOf(answer)).toBe(true);
  expect(vi.getTimerCount(), 'the timeout timer is cleared').toBe(0);
});

test('a wait whose timeout passes first answers false, and the fence signalling later runs its other callbacks only', async () => {
  const fence = new DmaFence();
  const answer = fence.wait(10);
  vi.advanceTimersByTime(10);
  expect(await answerOf(answer)).toBe(false);
  const calls: string[] = [];
  fence.addCallback(() => calls.push('after'));
  fence.signal();
  expect(calls).toEqual(['after']);
});

test('wait with a bad timeout rejects with EINVAL, naming the call and the value', async () => {
  await expect(new DmaFence().wait(-1)).rejects.toThrow('EINVAL: wait: timeoutMs must be a non-negative number, got -1');
});
