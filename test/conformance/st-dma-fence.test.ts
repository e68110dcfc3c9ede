// Ports of the kernel's dma_fence self-tests, drivers/dma-buf/st-dma-fence.c, to DmaFence
// (src/dma-fence.ts). Ported from torvalds/linux, the KUnit version of the file (blob of
// commit 0755a4e3e809610a14befc9ad28d35e2e460da68: `test_*` cases, `dma_fence_check_and_signal`),
// checked against the older selftest version (commit 844e31bbaef7c8a6ff2c0fbac45c0c85b5484482,
// where `dma_fence_signal` itself returns -EINVAL on a signalled fence, as our `signal()` throws
// EINVAL). Each test is named after the kernel case it ports.
//
// What does not carry over, file-wide: the kernel's `mock_fence()` can fail (-ENOMEM) and every
// case frees its fence with `dma_fence_put`; here allocation cannot fail and the garbage
// collector frees. `dma_fence_enable_signaling()` has no counterpart: a software DmaFence
// always signals when `signal()` is called, so the calls are dropped.
import { expect, test } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { DmaBufError } from '../../src/error.js';
import { thrown } from './thrown.js';

/** The kernel's `struct simple_cb`: a callback that records that it ran. */
class SimpleCb {
  #seen = false;
  /** The kernel's `simple_callback`. */
  readonly callback = (): void => {
    this.#seen = true;
  };

  get seen(): boolean {
    return this.#seen;
  }

  /** The race test counts a miss as seen (`cb.seen = true`). */
  markSeen(): void {
    this.#seen = true;
  }
}

/** Lets `n` rounds of microtasks run: the interleaving points of the race test's two tasks. */
async function yieldTimes(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await Promise.resolve();
}

test('st-dma-fence.c: test_sanitycheck', () => {
  // mock_fence(); dma_fence_enable_signaling(); dma_fence_signal(); dma_fence_put().
  const f = new DmaFence();
  expect(() => {
    f.signal();
  }).not.toThrow();
  expect(f.signaled).toBe(true);
});

test('st-dma-fence.c: test_signaling', () => {
  const f = new DmaFence();
  // "Fence unexpectedly signaled on creation"
  expect(f.signaled).toBe(false);
  // dma_fence_check_and_signal() returns false: "Fence reported being already signaled".
  // Ours: the first signal() does not throw.
  expect(() => {
    f.signal();
  }).not.toThrow();
  // "Fence not reporting signaled" (dma_fence_is_signaled) and the flag itself
  // (dma_fence_test_signaled_flag): one property here.
  expect(f.signaled).toBe(true);
  // The older selftest signals a second time and expects "already signaled" (-EINVAL from
  // dma_fence_signal): our second signal() throws EINVAL and the fence stays signalled.
  expect(thrown(() => {
    f.signal();
  }).code).toBe('EINVAL');
  expect(f.signaled).toBe(true);
  // "Fence ops not cleared on signal" (f->ops is RCU-cleared once signalled so the driver
  // module may unload): there are no ops or modules here, nothing to port.
});

test('st-dma-fence.c: test_add_callback', () => {
  const cb = new SimpleCb();
  const f = new DmaFence();
  // dma_fence_add_callback() returns 0 on a pending fence: ours returns true.
  expect(f.addCallback(cb.callback)).toBe(true);
  expect(cb.seen).toBe(false);
  f.signal();
  // "Callback failed!"
  expect(cb.seen).toBe(true);
});

test('st-dma-fence.c: test_late_add_callback', () => {
  const cb = new SimpleCb();
  const f = new DmaFence();
  f.signal();
  // "Added callback, but fence was already signaled!": the kernel's -ENOENT is our false.
  expect(f.addCallback(cb.callback)).toBe(false);
  // The kernel signals again (and ignores the -EINVAL); ours throws EINVAL.
  expect(thrown(() => {
    f.signal();
  }).code).toBe('EINVAL');
  // "Callback called after failed attachment!"
  expect(cb.seen).toBe(false);
});

test('st-dma-fence.c: test_rm_callback', () => {
  const cb = new SimpleCb();
  const f = new DmaFence();
  expect(f.addCallback(cb.callback)).toBe(true);
  // "Failed to remove callback!"
  expect(f.removeCallback(cb.callback)).toBe(true);
  f.signal();
  // "Callback still signaled after removal!"
  expect(cb.seen).toBe(false);
});

test('st-dma-fence.c: test_late_rm_callback', () => {
  const cb = new SimpleCb();
  const f = new DmaFence();
  expect(f.addCallback(cb.callback)).toBe(true);
  f.signal();
  // "Callback failed!"
  expect(cb.seen).toBe(true);
  // "Callback removal succeeded after being executed!"
  expect(f.removeCallback(cb.callback)).toBe(false);
});

test('st-dma-fence.c: test_status', () => {
  // dma_fence_get_status(): 0 while pending, 1 once signalled, the error when it has one.
  // Ours: `signaled` and `error`.
  const f = new DmaFence();
  // "Fence unexpectedly has signaled status on creation"
  expect(f.signaled).toBe(false);
  expect(f.error).toBeUndefined();
  f.signal();
  // "Fence not reporting signaled status" (1: signalled, no error)
  expect(f.signaled).toBe(true);
  expect(f.error).toBeUndefined();
});

test('st-dma-fence.c: test_error', () => {
  const f = new DmaFence();
  f.setError('EIO');
  // "Fence unexpectedly has error status before signal": dma_fence_get_status() is 0 until
  // the fence signals, error or not. Ours keeps the pending error in `error` (documented:
  // "the error it signalled (or will signal) with"), so the status is `signaled`.
  expect(f.signaled).toBe(false);
  f.signal();
  // "Fence not reporting error status": -EIO.
  expect(f.signaled).toBe(true);
  expect(f.error).toBeInstanceOf(DmaBufError);
  expect(f.error?.code).toBe('EIO');
  // dma_fence_set_error() WARNs on a signalled fence and on a value that is not an errno;
  // ours throws EINVAL for both and keeps the error it has.
  expect(thrown(() => {
    f.setError('ENOMEM');
  }).code).toBe('EINVAL');
  const g = new DmaFence();
  expect(thrown(() => {
    g.setError('ENOTANERRNO' as never);
  }).code).toBe('EINVAL');
  expect(f.error?.code).toBe('EIO');
  expect(g.error).toBeUndefined();
});

test('st-dma-fence.c: test_wait', async () => {
  const f = new DmaFence();
  // dma_fence_wait_timeout(f, false, 0) == 0: "Wait reported complete before being signaled".
  expect(await f.wait(0)).toBe(false);
  f.signal();
  // == 1: "Wait reported incomplete after being signaled".
  expect(await f.wait(0)).toBe(true);
});

test('st-dma-fence.c: test_wait_timeout', async () => {
  // The kernel arms a timer (mod_timer, one jiffy) that signals the fence while the test waits
  // up to HZ. Here a setTimeout stands for the timer; the waits are the only sleeps.
  const f = new DmaFence();
  // dma_fence_wait_timeout(f, false, 1) == 0: "Wait reported complete before being signaled".
  expect(await f.wait(10)).toBe(false);
  const timer = setTimeout(() => {
    f.signal();
  }, 1);
  try {
    // dma_fence_wait_timeout(f, false, HZ) != 0: "Wait reported incomplete after timeout".
    // (The kernel skips instead of failing when its timer has not fired within HZ; a Node
    // timer of 1 ms that has not fired within 5 s is a failure here.)
    expect(await f.wait(5000)).toBe(true);
  } finally {
    clearTimeout(timer);
  }
  expect(f.signaled).toBe(true);
});

test('st-dma-fence.c: test_stub', () => {
  // 64 dma_fence_get_stub() fences, every one signalled: "Obtained unsignaled stub fence!"
  for (let i = 0; i < 64; i += 1) {
    const f = DmaFence.stub();
    expect(f.signaled).toBe(true);
    expect(f.error).toBeUndefined();
  }
});

test('st-dma-fence.c: test_race_signal_callback', async () => {
  // The kernel runs two kthreads for 50 ms per pass, each publishing its own fence f1 in an
  // RCU slot, spinning until it can take a reference to the other thread's fence f2
  // (dma_fence_get_rcu_safe), then adding a callback to f2 while the other thread signals it,
  // signalling its own f1 before (pass 1) or after (pass 0) the add. It checks that a callback
  // whose add succeeded is always seen once f2 has been waited for. JavaScript has neither
  // kthreads, RCU nor spinlocks: the two threads are two async tasks in one realm, and each
  // step between two `await`s is atomic. The race is kept as an interleaving: both tasks yield
  // a varying number of microtasks between the steps, so the add lands sometimes before and
  // sometimes after the other task's signal. 50 ms of free-running threads becomes a bounded
  // number of passes per task; `kthread_should_stop()` becomes a shared `stop` flag, set when
  // either task ends so the other's spin cannot wait for ever.
  const PASSES = 500;
  let hits = 0;
  for (const before of [false, true]) {
    const slots: (DmaFence | undefined)[] = [undefined, undefined];
    let stop = false;
    // Read through a call: the other task sets it between this task's awaits.
    const stopped = (): boolean => stop;

    const task = async (id: number): Promise<{ pass: number; miss: number }> => {
      let pass = 0;
      let miss = 0;
      try {
        while (!stopped() && pass < PASSES) {
          const f1 = new DmaFence();
          // rcu_assign_pointer(t->fences[t->id], f1)
          slots[id] = f1;
          await yieldTimes((pass + id) % 3);

          // do { f2 = dma_fence_get_rcu_safe(&t->fences[!t->id]); } while (!f2 && !stop);
          let f2 = slots[1 - id];
          while (!f2 && !stopped()) {
            await yieldTimes(1);
            f2 = slots[1 - id];
          }

          if (before) f1.signal();
          await yieldTimes((pass * 7 + id) % 4);

          const cb = new SimpleCb();
          if (!f2 || !f2.addCallback(cb.callback)) {
            miss += 1;
            cb.markSeen();
          } else {
            hits += 1;
          }
          await yieldTimes((pass * 5 + 2 * id) % 3);

          if (!before) f1.signal();

          if (!cb.seen && f2) {
            // dma_fence_wait(f2, false); __wait_for_callbacks(f2): the kernel takes and drops
            // the fence's spinlock to be sure the callback has finished on the other CPU.
            // Here signal() runs every callback before it returns, so the wait is enough.
            expect(await f2.wait()).toBe(true);
          }

          // "Callback not seen on thread %d, pass %lu (%lu misses), signaling %s add_callback"
          expect(cb.seen, `task ${id}, pass ${pass} (${miss} misses), signalling ${before ? 'before' : 'after'} add_callback`).toBe(true);

          // rcu_assign_pointer(t->fences[t->id], NULL)
          slots[id] = undefined;
          pass += 1;
        }
      } finally {
        stop = true;
      }
      return { pass, miss };
    };

    const results = await Promise.all([task(0), task(1)]);
    // Both tasks made progress in this pass (the kernel's "completed %lu passes").
    for (const { pass } of results) expect(pass).toBeGreaterThan(0);
  }
  // The interleaving did put callbacks on pending fences (else nothing raced).
  expect(hits).toBeGreaterThan(0);
});
