// Ports of the kernel's dma_resv self-tests, drivers/dma-buf/st-dma-resv.c, to DmaResv
// (src/dma-resv.ts). Ported from torvalds/linux at commit
// a94e42b12c906f14ba9e701db7604fba0383d0f4, the version with usage classes: `dma_resv()` runs
// every subtest once per usage, DMA_RESV_USAGE_KERNEL to DMA_RESV_USAGE_BOOKKEEP, passing the
// usage as the subtest's argument; here each test is a `test.each` over the four classes in
// the same order. (The older version of the file, blob at 03ab8e6297acd1bc0eedaa050e2a1635c576fd11,
// ran each case twice, for the exclusive and the shared slot: the 'write' and 'read' rows.)
// Each test is named after the kernel case it ports.
//
// What does not carry over, file-wide:
// - dma_resv_lock / dma_resv_unlock: there is no lock. The realm runs one task at a time and
//   every DmaResv call is synchronous, so each call is as atomic as a locked section; the
//   kernel's "Resv locking failed" paths have nothing to port.
// - dma_resv_reserve_fences(&resv, 1): there are no slots to reserve; addFence grows the list
//   and cannot fail for want of memory ("Resv shared slot allocation failed" has no counterpart).
// - alloc_fence() can fail (-ENOMEM) and every case frees with dma_fence_put / dma_resv_fini:
//   allocation cannot fail here and the garbage collector frees.
// - dma_fence_enable_sw_signaling(): a software DmaFence always signals when `signal()` is
//   called (as in the st-dma-fence.c port), so the calls are dropped.
// - dma_resv_iter_usage(&cursor), the class of the fence the iterator is on: the public place
//   that tells a fence's class is `pendingFences()` (the debug listing, as later kernels'
//   debugfs): { context, seqno, usage } of each fence still pending.
import { expect, test } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { DmaResv, type DmaResvUsage } from '../../src/dma-resv.js';

/** enum dma_resv_usage, in the kernel's order: the loop in `dma_resv()`. */
const USAGES: readonly DmaResvUsage[] = ['kernel', 'write', 'read', 'bookkeep'];

/** The kernel's `alloc_fence()`: a software fence on a context of its own. */
function allocFence(): DmaFence {
  return new DmaFence();
}

/** dma_resv_iter_usage() for every fence still pending in `resv`: its class, by fence. */
function usageOf(resv: DmaResv, fence: DmaFence): DmaResvUsage | undefined {
  return resv.pendingFences().find((f) => f.context === fence.context && f.seqno === fence.seqno)?.usage;
}

test.each(USAGES)('st-dma-resv.c: sanitycheck (usage %s)', (usage) => {
  // The kernel ignores the usage argument here; so does the fence part of this port.
  // f = alloc_fence(); dma_fence_signal(f); dma_fence_put(f).
  const f = allocFence();
  expect(() => {
    f.signal();
  }).not.toThrow();
  expect(f.signaled).toBe(true);
  // dma_resv_init(); dma_resv_lock() / unlock() (no lock, see top); dma_resv_fini(). What
  // applies: a reservation just made works and holds nothing, whatever the class asked.
  const resv = new DmaResv();
  expect(resv.getFences(usage)).toEqual([]);
  expect(resv.testSignaled(usage)).toBe(true);
  expect(resv.pendingFences()).toEqual([]);
});

test.each(USAGES)('st-dma-resv.c: test_signaling (usage %s)', async (usage) => {
  const f = allocFence();
  const resv = new DmaResv();
  // dma_resv_reserve_fences(&resv, 1) (nothing to reserve, see top); dma_resv_add_fence(&resv, f, usage).
  resv.addFence(f, usage);
  // "Resv unexpectedly signaled": dma_resv_test_signaled(&resv, usage) is false.
  expect(resv.testSignaled(usage)).toBe(false);
  // Beyond the kernel's case, the same question through dma_resv_wait_timeout with a zero
  // timeout: not yet.
  expect(await resv.wait(usage, 0)).toBe(false);
  f.signal();
  // "Resv not reporting signaled".
  expect(resv.testSignaled(usage)).toBe(true);
  expect(await resv.wait(usage)).toBe(true);
});

test.each(USAGES)('st-dma-resv.c: test_for_each (usage %s)', (usage) => {
  const f = allocFence();
  const resv = new DmaResv();
  resv.addFence(f, usage);
  // dma_resv_for_each_fence(&cursor, &resv, usage, fence), under the lock: the fences of
  // `usage` and the classes before it. Here: getFences(usage), whose array is the walk.
  const seen = resv.getFences(usage);
  // "No fence found" / "More than one fence found": exactly one.
  expect(seen).toHaveLength(1);
  // "Unexpected fence": it is f itself.
  expect(seen[0]).toBe(f);
  // "Unexpected fence usage": dma_resv_iter_usage(&cursor) == usage.
  expect(usageOf(resv, f)).toBe(usage);
  f.signal();
});

test.each(USAGES)('st-dma-resv.c: test_for_each_unlocked (usage %s)', (usage) => {
  const f = allocFence();
  const resv = new DmaResv();
  resv.addFence(f, usage);
  // dma_resv_unlock(); dma_resv_iter_begin(&cursor, &resv, usage);
  // dma_resv_for_each_fence_unlocked(). The kernel walks under RCU without the lock, and
  // restarts the walk when the reservation changed under it; the test forces one restart
  // (cursor.fences = ~0) and expects the fence once before and once after it, each time with
  // dma_resv_iter_is_restarted() set. There is no RCU and no concurrent writer here, and no
  // restart flag: getFences() returns an array of its own, a snapshot that a change to the
  // reservation cannot invalidate. What carries over: a walk without any lock finds f once
  // with its class; a change to the reservation during the walk (what makes the kernel
  // restart) does not alter the walk in hand; walking again (the restart) sees f once more,
  // now with the change.
  const walk = resv.getFences(usage);
  expect(walk).toEqual([f]);
  expect(usageOf(resv, f)).toBe(usage);
  // A writer changes the reservation mid-walk: another fence, of another context, same class.
  const g = allocFence();
  resv.addFence(g, usage);
  expect(walk).toEqual([f]);
  // The restart: a fresh walk. f is still there, exactly once (g, on another context, does
  // not replace it), and both keep the class they were added with.
  const again = resv.getFences(usage);
  expect(again.filter((fence) => fence === f)).toHaveLength(1);
  expect(again).toHaveLength(2);
  expect(again).toContain(g);
  expect(usageOf(resv, f)).toBe(usage);
  expect(usageOf(resv, g)).toBe(usage);
  // dma_resv_iter_end(&cursor); dma_fence_signal(f).
  f.signal();
  g.signal();
});

test.each(USAGES)('st-dma-resv.c: test_get_fences (usage %s)', (usage) => {
  const f = allocFence();
  const resv = new DmaResv();
  resv.addFence(f, usage);
  // r = dma_resv_get_fences(&resv, usage, &i, &fences): "get_fences returned unexpected
  // fence" unless i == 1 and fences[0] == f.
  const fences = resv.getFences(usage);
  expect(fences).toHaveLength(1);
  expect(fences[0]).toBe(f);
  // Beyond the kernel's case, which asks only for the class f was added with: the usage
  // argument of dma_resv_get_fences means "this class and the ones before it" (enum
  // dma_resv_usage: KERNEL < WRITE < READ < BOOKKEEP). So f is returned for its own class
  // and every weaker one, and for no stronger one.
  const rank = USAGES.indexOf(usage);
  for (const [i, asked] of USAGES.entries()) {
    expect(resv.getFences(asked), `getFences('${asked}') with f added as '${usage}'`).toEqual(i >= rank ? [f] : []);
    expect(resv.testSignaled(asked), `testSignaled('${asked}') with f added as '${usage}'`).toBe(i < rank);
  }
  f.signal();
});
