// A fence is known by its context and seqno (src/dma-fence.ts): what it says in its errors,
// and what `isLater` compares. Of two fences on different contexts neither is later, whatever
// their seqnos: only fences of one timeline are ordered.
import { expect, test } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { DmaFenceTimeline } from '../../src/dma-fence-timeline.js';

test('signalling a fence twice is EINVAL naming the fence by context and seqno', () => {
  const timeline = new DmaFenceTimeline('named');
  const fence = timeline.fence(7);
  timeline.advance(7);
  expect(() => { fence.signal(); }).toThrow(`EINVAL: signal: the fence (context ${fence.context}, seqno 7) has already signalled`);
});

test('setError after the signal is EINVAL naming the fence, and leaves it without an error', () => {
  const fence = new DmaFence();
  fence.signal();
  expect(() => { fence.setError('EIO'); }).toThrow(`EINVAL: setError: the fence (context ${fence.context}, seqno 1) has already signalled`);
  expect(fence.error).toBeUndefined();
});

test('the error a fence signals with has the code given and names the fence', () => {
  const timeline = new DmaFenceTimeline('failing');
  const fence = timeline.fence(3);
  fence.setError('ENODEV');
  timeline.advance(3);
  expect(fence.error?.code).toBe('ENODEV');
  expect(fence.error?.message).toBe(`ENODEV: signal: the fence (context ${fence.context}, seqno 3) signalled with an error`);
});

test('isLater compares seqnos on one context only: fences of two timelines are never later than each other', () => {
  const first = new DmaFenceTimeline('first');
  const second = new DmaFenceTimeline('second');
  const high = first.fence(9);
  const low = second.fence(1);
  expect(high.isLater(low)).toBe(false);
  expect(low.isLater(high)).toBe(false);
  expect(first.fence(10).isLater(high)).toBe(true);
  expect(high.isLater(first.fence(10))).toBe(false);
  expect(high.isLater(first.fence(9)), 'the same point is not later').toBe(false);
});
