// A timeline's fences signal in the order of their points, whatever order they were made in
// (src/dma-fence-timeline.ts): an earlier point made after a later one is not held back by
// it, fences of one point signal in the order they were made, and a fence for a point already
// reached is signalled from the start. Bad arguments are named.
import { expect, test } from 'vitest';
import { DmaFenceTimeline } from '../../src/dma-fence-timeline.js';

/** Makes a fence of `timeline` at each point, in that order, recording when each signals. */
function fencesAt(timeline: DmaFenceTimeline, points: readonly number[]) {
  const signalled: string[] = [];
  const fences = points.map((point, i) => {
    const fence = timeline.fence(point);
    const name = `#${i} at ${point}`;
    fence.addCallback(() => signalled.push(name));
    return fence;
  });
  return { fences, signalled };
}

test('a fence made for an earlier point after one for a later point signals when the timeline reaches it', () => {
  const timeline = new DmaFenceTimeline('out of order');
  const { fences, signalled } = fencesAt(timeline, [5, 3]);
  timeline.advance(3);
  expect(signalled).toEqual(['#1 at 3']);
  expect(fences.map((f) => f.signaled)).toEqual([false, true]);
  timeline.advance(2);
  expect(signalled).toEqual(['#1 at 3', '#0 at 5']);
});

test('fences signal in the order of their points, and fences of one point in the order they were made', () => {
  const timeline = new DmaFenceTimeline('ordered');
  const { signalled } = fencesAt(timeline, [4, 2, 6, 2, 1, 4, 2]);
  timeline.advance(6);
  expect(signalled).toEqual(['#4 at 1', '#1 at 2', '#3 at 2', '#6 at 2', '#0 at 4', '#5 at 4', '#2 at 6']);
});

test('an advance signals exactly the fences it reaches, in order, and the rest stay pending', () => {
  const timeline = new DmaFenceTimeline('partial');
  const { fences, signalled } = fencesAt(timeline, [3, 1, 2, 3]);
  timeline.advance(2);
  expect(signalled).toEqual(['#1 at 1', '#2 at 2']);
  expect(fences.map((f) => f.signaled)).toEqual([false, true, true, false]);
  timeline.advance();
  expect(signalled).toEqual(['#1 at 1', '#2 at 2', '#0 at 3', '#3 at 3']);
});

test('a fence for a point the timeline has reached or passed is signalled when it is made', () => {
  const timeline = new DmaFenceTimeline('reached');
  timeline.advance(3);
  expect([timeline.fence(2).signaled, timeline.fence(3).signaled, timeline.fence(4).signaled]).toEqual([true, true, false]);
  timeline.advance();
});

test('timeline.fence(0) is EINVAL naming the call and the seqno', () => {
  expect(() => new DmaFenceTimeline('t').fence(0)).toThrow('EINVAL: fence: seqno must be a positive integer, got 0');
});

test('timeline.advance(0) is EINVAL naming the call and the step, and leaves the value', () => {
  const timeline = new DmaFenceTimeline('t');
  expect(() => { timeline.advance(0); }).toThrow('EINVAL: advance: by must be a positive integer, got 0');
  expect(timeline.value).toBe(0);
});

test('an advance past the largest safe integer is EINVAL naming the new value, and leaves the value and its fences', () => {
  const timeline = new DmaFenceTimeline('t');
  timeline.advance(Number.MAX_SAFE_INTEGER - 1);
  const last = timeline.fence(Number.MAX_SAFE_INTEGER);
  expect(() => { timeline.advance(2); }).toThrow(`EINVAL: advance: the new value must be a positive integer, got ${String(Number.MAX_SAFE_INTEGER + 1)}`);
  expect(timeline.value).toBe(Number.MAX_SAFE_INTEGER - 1);
  expect(last.signaled).toBe(false);
  timeline.advance();
  expect(last.signaled).toBe(true);
});
