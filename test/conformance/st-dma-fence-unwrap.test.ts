// Ports of the kernel's dma_fence_unwrap self-tests, drivers/dma-buf/st-dma-fence-unwrap.c, to
// `mergeFences` and `DmaFence.unwrap()` (src/dma-fence-array.ts, src/dma-fence.ts). Ported from
// torvalds/linux, blob of commit ead971eec0eb1f83fdf6546052a157ada401823f (the ten subtests
// sanitycheck … unwrap_merge_complex_seqno; a 2026 patch converts the file to KUnit as
// test_<name> with the same checks). Each test is named after the kernel case it ports.
//
// How the kernel's helpers map here:
// - `mock_fence()` (a fence on a fresh context, seqno 1) is `new DmaFence()`.
// - `__mock_fence(ctx, seqno)` is `timeline.fence(seqno)` on a DmaFenceTimeline that is never
//   advanced, so the fence stays pending; contexts allocated first are lower, as
//   `dma_fence_context_alloc` gives them.
// - `mock_array(n, ...)` (`dma_fence_array_create`) has no public constructor here: the one
//   way to get an array is `mergeFences` of pending fences on distinct contexts, which then
//   holds exactly those fences in that order, as the kernel's array does.
// - `mock_chain(prev, fence)` (`dma_fence_chain`): there is no fence chain in this library
//   (chains are the kernel's timeline syncobj points; nothing here makes one). The chain cases
//   port what applies: a container built link by link unwraps to each fence once.
// - `dma_fence_unwrap_for_each(fence, &iter, head)` is a loop over `head.unwrap()`; the kernel
//   checks each expected fence is seen exactly once (seeing it a second time is "Unexpected
//   fence!") and nothing else is seen.
// The kernel's -ENOMEM paths and reference counting (dma_fence_get/put) have no counterpart.
import { expect, test } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { mergeFences } from '../../src/dma-fence-array.js';
import { DmaFenceTimeline } from '../../src/dma-fence-timeline.js';

/** The kernel's `__mock_fence(ctx, seqno)`: `ctx` is a timeline that is never advanced. */
function mockFence(ctx: DmaFenceTimeline, seqno: number): DmaFence {
  const f = ctx.fence(seqno);
  expect(f.signaled).toBe(false);
  return f;
}

/**
 * The kernel's unwrap loop: every fence of `expected` is seen exactly once and nothing else
 * ("Unexpected fence!", "Not all fences seen!"), in any order.
 */
function expectUnwrapsTo(head: DmaFence, expected: readonly DmaFence[]): void {
  const seen = head.unwrap();
  for (const fence of seen) expect(expected.includes(fence), `unexpected fence (context ${fence.context}, seqno ${fence.seqno})`).toBe(true);
  for (const fence of expected) expect(seen.filter((f) => f === fence), `fence (context ${fence.context}, seqno ${fence.seqno}) seen once`).toHaveLength(1);
  expect(seen).toHaveLength(expected.length);
}

/** As {@link expectUnwrapsTo}, and in this order (where the kernel's loop checks the order). */
function expectUnwrapsInOrder(head: DmaFence, expected: readonly DmaFence[]): void {
  expectUnwrapsTo(head, expected);
  const order = head.unwrap().map((f) => `${f.context}:${f.seqno}`);
  expect(order, 'unwrap order (context:seqno)').toEqual(expected.map((f) => `${f.context}:${f.seqno}`));
}

/**
 * The kernel's `mock_array(2, a, b)`: a fence array of two pending fences on distinct
 * contexts. The only way to make an array here is `mergeFences`, which puts its parts in
 * context order (as the kernel's merge does), not in argument order as
 * `dma_fence_array_create` would: so only the set of parts is checked.
 */
function mockArray(a: DmaFence, b: DmaFence): DmaFence {
  expect(a.context).not.toBe(b.context);
  const array = mergeFences(a, b);
  expect(array).not.toBe(a);
  expect(array).not.toBe(b);
  expectUnwrapsTo(array, [a, b]);
  return array;
}

test('st-dma-fence-unwrap.c: sanitycheck', () => {
  // f = mock_fence(); array = mock_array(1, f); chain = mock_chain(NULL, array).
  // An array of one fence: mergeFences of a single pending fence gives that fence itself
  // (dma_fence_unwrap_merge's fast path), not a wrapper, and unwraps to it. No chain (see top).
  const f = new DmaFence();
  const array = mergeFences(f);
  expect(array).toBe(f);
  expectUnwrapsTo(array, [f]);
  expect(array.signaled).toBe(false);
  f.signal();
  expect(array.signaled).toBe(true);
});

test('st-dma-fence-unwrap.c: unwrap_array', () => {
  const f1 = new DmaFence();
  const f2 = new DmaFence();
  const array = mockArray(f1, f2);
  expectUnwrapsTo(array, [f1, f2]);
  // A plain fence unwraps to itself (dma_fence_unwrap_first on a non-container).
  expectUnwrapsTo(f1, [f1]);
});

test('st-dma-fence-unwrap.c: unwrap_chain', () => {
  // chain = mock_chain(f1, f2): a chain link holding f2 whose previous link is f1; the walk
  // sees f2 and f1. There is no dma_fence_chain here (see top). What applies: a container made
  // link by link, first of f1 alone (which is f1 itself, as a chain link with no previous
  // link unwraps to its fence), then of that and f2, unwraps to f1 and f2, each once.
  const f1 = new DmaFence();
  const f2 = new DmaFence();
  const link1 = mergeFences(f1);
  expectUnwrapsTo(link1, [f1]);
  const link2 = mergeFences(link1, f2);
  expectUnwrapsTo(link2, [f1, f2]);
});

test('st-dma-fence-unwrap.c: unwrap_chain_array', () => {
  // chain = mock_chain(NULL, mock_array(2, f1, f2)): the walk goes through the chain into the
  // array and sees f1 and f2. Without chains: a container wrapping an array unwraps to the
  // array's fences, not to the array (unwrap flattens).
  const f1 = new DmaFence();
  const f2 = new DmaFence();
  const array = mockArray(f1, f2);
  const wrapped = mergeFences(array);
  expect(wrapped.unwrap()).not.toContain(array);
  expectUnwrapsTo(wrapped, [f1, f2]);
});

test('st-dma-fence-unwrap.c: unwrap_merge', () => {
  const f1 = new DmaFence();
  const f2 = new DmaFence();
  const f3 = mergeFences(f1, f2);
  expectUnwrapsTo(f3, [f1, f2]);
});

test('st-dma-fence-unwrap.c: unwrap_merge_duplicate', () => {
  // f2 = dma_fence_unwrap_merge(f1, f1): f1 seen once, nothing else.
  const f1 = new DmaFence();
  const f2 = mergeFences(f1, f1);
  expectUnwrapsTo(f2, [f1]);
});

test('st-dma-fence-unwrap.c: unwrap_merge_seqno', () => {
  const ctx0 = new DmaFenceTimeline('ctx[0]');
  const ctx1 = new DmaFenceTimeline('ctx[1]');
  const f1 = mockFence(ctx1, 1);
  const f2 = mockFence(ctx1, 2);
  const f3 = mockFence(ctx0, 1);
  const f4 = mergeFences(f1, f2, f3);
  // Only the later of f1 and f2 (same context) is kept, and the kernel's loop requires f3
  // before f2 ("fence == f3 && f2", then "fence == f2 && !f3", else "Unexpected fence!"):
  // dma_fence_unwrap_merge sorts the fences by context (dma_fence_dedup_array, fence_cmp), and
  // ctx[0] was allocated first.
  expectUnwrapsInOrder(f4, [f3, f2]);
});

test('st-dma-fence-unwrap.c: unwrap_merge_order', () => {
  const f1 = new DmaFence();
  const f2 = new DmaFence();
  const a1 = mockArray(f1, f2);
  // c2 = mock_chain(mock_chain(NULL, f1), f2): "the fences in the chain are the same as in a1
  // but in opposite order". No chain here: an array of f2 then f1 stands in for it.
  const c2 = mockArray(f2, f1);
  const a2 = mergeFences(a1, c2);
  // Each of f1 and f2 once. (The kernel only logs "Unexpected order!" for f2 before f1, it
  // does not fail on it, so neither does this port.)
  expectUnwrapsTo(a2, [f1, f2]);
});

test('st-dma-fence-unwrap.c: unwrap_merge_complex', () => {
  const f1 = new DmaFence();
  const f2 = new DmaFence();
  const f3 = mergeFences(f1, f2);
  // "The resulting array has the fences in reverse"
  const f4 = mockArray(f2, f1);
  // "Signaled fences should be filtered, the two arrays merged."
  const f5 = mergeFences(f3, f4, DmaFence.stub());
  expectUnwrapsTo(f5, [f1, f2]);
});

test('st-dma-fence-unwrap.c: unwrap_merge_complex_seqno', () => {
  const ctx0 = new DmaFenceTimeline('ctx[0]');
  const ctx1 = new DmaFenceTimeline('ctx[1]');
  const f1 = mockFence(ctx0, 2);
  const f2 = mockFence(ctx1, 1);
  const f3 = mockFence(ctx0, 1);
  const f4 = mockFence(ctx1, 2);
  const f5 = mockArray(f1, f2);
  const f6 = mockArray(f3, f4);
  const f7 = mergeFences(f5, f6);
  // The later fence of each context, f1 then f4 ("fence == f1 && f4", then "fence == f4 && !f1").
  expectUnwrapsInOrder(f7, [f1, f4]);
});
