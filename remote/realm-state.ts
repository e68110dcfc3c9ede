/**
 * What one realm (a page, a worker; in tests, one `RealmLiveness`) knows of the buffers that
 * cross its sockets: every buffer's key, the same in every realm, and which buffer of this
 * realm answers to a key. So a buffer received twice, by any path, is one proxy with more
 * local references, and a realm's own buffer coming back to it is the buffer itself.
 */
import type { DmaBuf } from '../src/dma-buf.js';
import { randomName, type RealmLiveness } from './liveness.js';

/** One realm's registry of buffers by key. */
export class RealmState {
  readonly liveness: RealmLiveness;
  readonly #keys = new WeakMap<DmaBuf, string>();
  // Live proxies, and this realm's own buffers while some peer holds a grant of them.
  readonly #byKey = new Map<string, DmaBuf>();
  readonly #grants = new Map<DmaBuf, number>();
  readonly #proxies = new WeakSet<DmaBuf>();

  constructor(liveness: RealmLiveness) {
    this.liveness = liveness;
  }

  /** The buffer of this realm with `key`, if it is live and known here. */
  find(key: string): DmaBuf | undefined {
    const buf = this.#byKey.get(key);
    return buf && !buf.released ? buf : undefined;
  }

  /** `buf`'s key, made (random, unguessable) the first time it is asked for. */
  keyOf(buf: DmaBuf): string {
    let key = this.#keys.get(buf);
    if (key === undefined) {
      key = randomName('buf:');
      this.#keys.set(buf, key);
    }
    return key;
  }

  /** Records a proxy made for `key`: found by it until {@link forgetProxy}. */
  addProxy(key: string, proxy: DmaBuf): void {
    this.#keys.set(proxy, key);
    this.#proxies.add(proxy);
    this.#byKey.set(key, proxy);
  }

  /** The proxy is released, or its exporter's realm died: a later receipt makes a new one. */
  forgetProxy(proxy: DmaBuf): void {
    const key = this.#keys.get(proxy);
    if (key !== undefined && this.#byKey.get(key) === proxy) this.#byKey.delete(key);
  }

  /** A peer took a grant of `buf`: while any does, its key finds it. */
  granted(buf: DmaBuf): void {
    this.#grants.set(buf, (this.#grants.get(buf) ?? 0) + 1);
    if (!this.#proxies.has(buf)) this.#byKey.set(this.keyOf(buf), buf);
  }

  /** A grant of `buf` ended. */
  ungranted(buf: DmaBuf): void {
    const left = (this.#grants.get(buf) ?? 1) - 1;
    if (left > 0) {
      this.#grants.set(buf, left);
      return;
    }
    this.#grants.delete(buf);
    if (this.#proxies.has(buf)) return;
    const key = this.#keys.get(buf);
    if (key !== undefined && this.#byKey.get(key) === buf) this.#byKey.delete(key);
  }
}

const realms = new WeakMap<RealmLiveness, RealmState>();

/** The state of the realm that `liveness` stands for. */
export function realmOf(liveness: RealmLiveness): RealmState {
  let state = realms.get(liveness);
  if (!state) {
    state = new RealmState(liveness);
    realms.set(liveness, state);
  }
  return state;
}
