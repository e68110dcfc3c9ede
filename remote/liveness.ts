/**
 * How a realm learns that another realm died, without the dead realm's help: as the kernel
 * closes a process's fds at its exit, whoever holds references for a dead realm must drop
 * them, and whoever uses a dead exporter's buffers must fail (`ENODEV`) instead of waiting.
 *
 * The default holds a Web Lock for the realm's life, named by a random realm name; a peer
 * that asks for the same lock is granted it only once the holder is gone (a terminated
 * worker, a closed page). Verified in Chromium for terminated workers.
 */

/**
 * A realm's liveness: its own name, held for as long as it lives, and a way to hear of
 * another realm's death. Injectable (`FdSocketOptions.liveness`), so that tests in one
 * process can stand for several realms and decide when each dies: every distinct
 * `RealmLiveness` object is one realm to the library.
 */
export interface RealmLiveness {
  /**
   * This realm's name, once peers can watch it (the lock is held): unique and unguessable.
   * The same name on every call.
   */
  ready(): Promise<string>;
  /**
   * Calls `onDeath` once when the realm named `name` is gone. Returns the function that
   * stops watching (after which `onDeath` is never called).
   */
  watch(name: string, onDeath: () => void): () => void;
}

/** A random name, from `crypto.randomUUID` where there is one. */
export function randomName(prefix: string): string {
  const { crypto } = globalThis;
  if (typeof crypto.randomUUID === 'function') return `${prefix}${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => unknown): Promise<unknown>;
}

function lockManager(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return typeof nav?.locks?.request === 'function' ? nav.locks : undefined;
}

/**
 * The liveness of this realm through Web Locks: `ready()` takes a lock named after the realm
 * and holds it until the realm ends; `watch` asks for the peer's lock, which is granted when
 * the peer ends. Where there are no Web Locks (Node without them), no death is ever reported.
 */
export function webLockLiveness(): RealmLiveness {
  const locks = lockManager();
  const name = randomName('webgpu-dmabuf:realm:');
  let held: Promise<string> | undefined;
  return {
    ready() {
      held ??= locks
        ? new Promise<string>((resolve) => {
            // Granted at once (the name is new); never released while the realm lives.
            void locks.request(name, {}, () => {
              resolve(name);
              return new Promise(() => undefined);
            });
          })
        : Promise.resolve(name);
      return held;
    },
    watch(peer, onDeath) {
      if (!locks) return () => undefined;
      const abort = new AbortController();
      locks
        .request(peer, { signal: abort.signal }, () => {
          // Granted: the holder is gone. Release at once (the callback returns).
          if (!abort.signal.aborted) onDeath();
        })
        .catch(() => undefined);
      return () => {
        abort.abort();
      };
    },
  };
}

let realmLiveness: RealmLiveness | undefined;

/** This realm's own liveness (one per page or worker), made at first use. */
export function defaultLiveness(): RealmLiveness {
  realmLiveness ??= webLockLiveness();
  return realmLiveness;
}
