// What the kernel's own tests (test/conformance/) leave unchecked about DmaFence: the order
// of callbacks, argument checks, and the timeline's and merge's bad input.
import { describe, expect, test } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { mergeFences } from '../../src/dma-fence-array.js';
import { DmaFenceTimeline } from '../../src/dma-fence-timeline.js';
import type { DmaBufErrorCode } from '../../src/error.js';

describe('DmaFence', () => {
  test('signal runs callbacks in the order they were added, each once', () => {
    const fence = new DmaFence();
    const calls: number[] = [];
    for (let i = 0; i < 5; i++) fence.addCallback(() => calls.push(i));
    fence.signal();
    expect(calls).toEqual([0, 1, 2, 3, 4]);
  });

  // The kernel sets the signalled bit before it runs the callbacks: a callback that asks its
  // fence, or starts something that waits for it, must find it signalled.
  test('a callback sees its fence signalled, with its error, and a wait started there resolves at once', async () => {
    const fence = new DmaFence();
    const seen: { signaled: boolean; error: string | undefined; waited?: Promise<boolean> }[] = [];
    fence.addCallback((f) => {
      seen.push({ signaled: f.signaled, error: f.error?.code, waited: f.wait(0) });
    });
    fence.setError('EIO');
    fence.signal();
    expect(seen.map(({ signaled, error }) => ({ signaled, error }))).toEqual([{ signaled: true, error: 'EIO' }]);
    await expect(seen[0]?.waited).resolves.toBe(true);
    expect(fence.addCallback(() => undefined), 'a callback added from now on is not added').toBe(false);
  });

  test('a callback that throws does not stop the ones after it', () => {
    const fence = new DmaFence();
    const calls: string[] = [];
    fence.addCallback(() => {
      throw new Error('a broken callback');
    });
    fence.addCallback(() => calls.push('after'));
    const reported: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) => {
      try {
        task();
      } catch (error) {
        reported.push(error);
      }
    };
    try {
      fence.signal();
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(calls).toEqual(['after']);
    expect(reported).toHaveLength(1);
  });

  test('each new fence is on a context of its own, with seqno 1; the stub is context 0, seqno 0, signalled', () => {
    const a = new DmaFence();
    const b = new DmaFence();
    expect(a.context).not.toBe(b.context);
    expect([a.seqno, b.seqno]).toEqual([1, 1]);
    const stub = DmaFence.stub();
    expect([stub.context, stub.seqno, stub.signaled]).toEqual([0, 0, true]);
  });

  test.each([['not a code', '"not a code"'], ['', '""'], [undefined, 'undefined']])('setError(%j) throws EINVAL naming the code and changes nothing', (code, shown) => {
    const fence = new DmaFence();
    expect(() => { fence.setError(code as DmaBufErrorCode); }).toThrow(`EINVAL: setError: unknown error code ${shown}`);
    expect(fence.error).toBeUndefined();
  });

  test.each([[-1], [Number.NaN], ['10']])('wait(%j) rejects with EINVAL', async (timeout) => {
    await expect(new DmaFence().wait(timeout as number)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  test('addCallback of a non-function throws EINVAL naming what it got', () => {
    expect(() => new DmaFence().addCallback(42 as unknown as () => void)).toThrow('EINVAL: addCallback: callback must be a function, got 42');
  });
});

describe('DmaFenceTimeline and mergeFences bad input', () => {
  test.each([[0], [-1], [1.5], [Number.NaN]])('timeline.fence(%j) throws EINVAL', (seqno) => {
    expect(() => new DmaFenceTimeline('t').fence(seqno)).toThrow(/^EINVAL: fence/);
  });

  test.each([[0], [-2], [0.5]])('timeline.advance(%j) throws EINVAL and leaves the value', (by) => {
    const timeline = new DmaFenceTimeline('t');
    expect(() => { timeline.advance(by); }).toThrow(/^EINVAL: advance/);
    expect(timeline.value).toBe(0);
  });

  test('a timeline needs a string name', () => {
    expect(() => new DmaFenceTimeline(7 as unknown as string)).toThrow('EINVAL: new DmaFenceTimeline: name must be a string, got 7');
  });

  test('mergeFences of a non-fence throws EINVAL', () => {
    expect(() => mergeFences(new DmaFence(), {} as unknown as DmaFence)).toThrow(/^EINVAL: mergeFences/);
  });

  test('a merged fence signals with the first error among its parts', () => {
    const a = new DmaFence();
    const b = new DmaFence();
    const merged = mergeFences(a, b);
    b.setError('EIO');
    b.signal();
    a.setError('ENODEV');
    a.signal();
    expect(merged.signaled).toBe(true);
    expect(merged.error?.code).toBe('EIO');
  });
});
