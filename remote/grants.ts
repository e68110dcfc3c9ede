/**
 * What one realm granted the other on one connection (rule 1 of `connection.ts`): per
 * buffer, a grant with a count of sends the peer may give back, holding one reference on the
 * buffer for all of them. Grant numbers mean something only on this connection and only to
 * its peer, so a number forged anywhere else names nothing.
 */
import type { DmaBuf } from '../src/dma-buf.js';
import type { GrantInfo } from './protocol.js';
import type { RealmState } from './realm-state.js';

/** The longest exporter name sent along (the protocol's limit). */
const MAX_EXPORTER = 128;

/** One buffer granted to the peer. */
export interface Grant {
  /** Its number on this connection. */
  readonly id: number;
  /** The buffer, with one reference of the grant's. */
  readonly buf: DmaBuf;
  /** Sends of it the peer has not given back. */
  count: number;
  /** Ends what began with the grant (`Grants`' `opened`). */
  readonly closed: () => void;
}

/** The grants of one connection. */
export class Grants {
  readonly #realm: RealmState;
  readonly #opened: (buf: DmaBuf, id: number) => () => void;
  readonly #byId = new Map<number, Grant>();
  readonly #byBuf = new Map<DmaBuf, Grant>();
  #next = 1;

  /** `opened` is called as each grant begins; what it returns, as it ends. */
  constructor(realm: RealmState, opened: (buf: DmaBuf, id: number) => () => void) {
    this.#realm = realm;
    this.#opened = opened;
  }

  /** How many buffers are granted. */
  get size(): number {
    return this.#byId.size;
  }

  /** The grant numbered `id`, if the peer holds it. */
  find(id: number): Grant | undefined {
    return this.#byId.get(id);
  }

  /** One more send of `buf`: its grant (made, with its reference, at the first). */
  take(buf: DmaBuf): Grant {
    let grant = this.#byBuf.get(buf);
    if (!grant) {
      const id = this.#next++;
      grant = { id, buf: buf.get(), count: 0, closed: this.#opened(buf, id) };
      this.#byId.set(grant.id, grant);
      this.#byBuf.set(buf, grant);
      this.#realm.granted(buf);
    }
    grant.count += 1;
    return grant;
  }

  /** Gives back `count` sends; at 0 the grant ends and puts its reference. */
  release(grant: Grant, count: number): void {
    grant.count -= count;
    if (grant.count > 0) return;
    this.#byId.delete(grant.id);
    this.#byBuf.delete(grant.buf);
    this.#realm.ungranted(grant.buf);
    grant.closed();
    try {
      grant.buf.put();
    } catch {
      // The exporter's release failed (EIO): the buffer is released all the same.
    }
  }

  /** Ends every grant: the peer is gone. */
  releaseAll(): void {
    for (const grant of [...this.#byId.values()]) this.release(grant, grant.count);
  }

  /** What the peer learns of a grant's buffer, with the fences pending on it as `fences`. */
  info(grant: Grant, fences: GrantInfo['fences']): GrantInfo {
    const { buf } = grant;
    return { grant: grant.id, key: this.#realm.keyOf(buf), size: buf.size, name: buf.name ?? null, exporter: buf.exporter.slice(0, MAX_EXPORTER), fences, layout: { contiguous: buf.layout.contiguous, align: buf.layout.align } };
  }
}
