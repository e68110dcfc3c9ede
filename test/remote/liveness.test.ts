// A realm's liveness through Web Locks (remote/liveness.ts): `ready()` holds a lock named after
// the realm for as long as it lives, and `watch` asks for a peer's lock, which is granted once
// the peer is gone; a watch stopped before that never fires. Node has no Web Locks: here an
// in-memory lock manager with their rules stands in (one holder per name, waiters granted in
// order when the holder's callback settles or its realm ends, an aborted wait rejects); the
// browser tests run the real ones across workers.
import { afterEach, expect, test, vi } from 'vitest';
import { randomName, webLockLiveness } from '../../remote/liveness.js';

interface Waiter {
  readonly callback: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Web Locks in one process: `end(name)` stands for the end of the realm that holds `name`. */
class StandInLocks {
  readonly #held = new Set<string>();
  readonly #waiting = new Map<string, Waiter[]>();
  readonly requests: { name: string; signalled: boolean }[] = [];

  request(name: string, options: { signal?: AbortSignal }, callback: () => unknown): Promise<unknown> {
    this.requests.push({ name, signalled: options.signal !== undefined });
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { callback, resolve, reject };
      const { signal } = options;
      if (signal?.aborted) {
        reject(new DOMException('aborted', 'AbortError'));
        return;
      }
      signal?.addEventListener('abort', () => {
        const queue = this.#waiting.get(name) ?? [];
        if (!queue.includes(waiter)) return;
        queue.splice(queue.indexOf(waiter), 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
      if (this.#held.has(name)) this.#waiting.set(name, [...(this.#waiting.get(name) ?? []), waiter]);
      else this.#grant(name, waiter);
    });
  }

  /** Whether someone holds `name`. */
  holds(name: string): boolean {
    return this.#held.has(name);
  }

  /** How many requests wait for `name`. */
  waiting(name: string): number {
    return this.#waiting.get(name)?.length ?? 0;
  }

  /** The realm holding `name` ended: its lock goes to the next waiter. */
  end(name: string): void {
    this.#release(name);
  }

  #grant(name: string, waiter: Waiter): void {
    this.#held.add(name);
    Promise.resolve()
      .then(waiter.callback)
      .then(
        (value) => {
          waiter.resolve(value);
          this.#release(name);
        },
        (error: unknown) => {
          waiter.reject(error);
          this.#release(name);
        },
      );
  }

  #release(name: string): void {
    if (!this.#held.delete(name)) return;
    const next = this.#waiting.get(name)?.shift();
    if (next) this.#grant(name, next);
  }
}

/** Lets pending promise callbacks run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

function withLocks(): StandInLocks {
  const locks = new StandInLocks();
  vi.stubGlobal('navigator', { locks });
  return locks;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

test('ready() names the realm once, takes its lock and holds it for as long as the realm lives', async () => {
  const locks = withLocks();
  const liveness = webLockLiveness();
  const name = await liveness.ready();
  expect(name).toMatch(/^webgpu-dmabuf:realm:[0-9a-f-]{36}$/);
  let again: string | undefined;
  void liveness.ready().then((value) => { again = value; });
  await flush();
  expect(again, 'the same name on every call, at once').toBe(name);
  expect(locks.requests, 'one lock taken').toEqual([{ name, signalled: false }]);
  await flush();
  expect(locks.holds(name), 'still held').toBe(true);
});

test("watch calls onDeath once, when the peer's lock is granted: the peer is gone", async () => {
  const locks = withLocks();
  const peer = await webLockLiveness().ready();
  const deaths: string[] = [];
  webLockLiveness().watch(peer, () => deaths.push(peer));
  await flush();
  expect(deaths, 'not while the peer lives').toEqual([]);
  locks.end(peer);
  await flush();
  expect(deaths).toEqual([peer]);
  expect(locks.holds(peer), 'the watcher lets the lock go at once').toBe(false);
});

test('a watch stopped before the peer is gone never calls onDeath, and stops asking for the lock', async () => {
  const locks = withLocks();
  const peer = await webLockLiveness().ready();
  const deaths: string[] = [];
  const stop = webLockLiveness().watch(peer, () => deaths.push(peer));
  await flush();
  expect(locks.waiting(peer)).toBe(1);
  stop();
  await flush();
  expect(locks.waiting(peer), 'no longer asked for').toBe(0);
  locks.end(peer);
  await flush();
  expect(deaths).toEqual([]);
  expect(locks.holds(peer), 'no one took the lock').toBe(false);
});

test('a watch stopped while its grant is on its way does not call onDeath', async () => {
  const locks = withLocks();
  const peer = await webLockLiveness().ready();
  const deaths: string[] = [];
  const stop = webLockLiveness().watch(peer, () => deaths.push(peer));
  await flush();
  locks.end(peer);
  // The lock is granted; its callback runs on a later microtask: stop before it does.
  stop();
  await flush();
  expect(deaths).toEqual([]);
});

test.each([
  ['no navigator.locks', {}],
  ['a navigator.locks without request()', { locks: {} }],
])('without Web Locks (%s), ready() still names the realm and a watch never reports a death', async (_what, navigator) => {
  vi.stubGlobal('navigator', navigator);
  const liveness = webLockLiveness();
  const name = await liveness.ready();
  expect(name).toMatch(/^webgpu-dmabuf:realm:/);
  const deaths: string[] = [];
  const stop = liveness.watch('webgpu-dmabuf:realm:someone', () => deaths.push('someone'));
  await flush();
  stop();
  expect(deaths).toEqual([]);
});

test('randomName without crypto.randomUUID is the prefix and 32 hex digits of random bytes', () => {
  const { crypto } = globalThis;
  vi.stubGlobal('crypto', { getRandomValues: (bytes: Uint8Array<ArrayBuffer>) => crypto.getRandomValues(bytes) });
  const names = [randomName('p:'), randomName('p:')];
  for (const name of names) expect(name).toMatch(/^p:[0-9a-f]{32}$/);
  expect(names[0]).not.toBe(names[1]);
  vi.stubGlobal('crypto', { getRandomValues: (bytes: Uint8Array) => bytes.fill(0x0a) });
  expect(randomName('q:'), 'each byte as two digits').toBe(`q:${'0a'.repeat(16)}`);
});
