/**
 * The sends of one connection waiting for the peer's `ack` (rule 2 of `connection.ts`): a
 * send resolves once the peer holds its own reference, and fails with `EBADF` when the peer
 * refused it (its socket is closed), giving back the grant it took. An inheritance is one
 * such send, of every fd the child begins with.
 */
import { DmaBufError } from '../src/error.js';
import type { Grant } from './grants.js';

interface PendingSend {
  readonly resolve: () => void;
  readonly reject: (error: DmaBufError) => void;
  readonly grants: readonly Grant[];
}

function refused(): DmaBufError {
  return new DmaBufError('EBADF', 'send', 'the other end of the socket is closed');
}

/** The sends of one connection waiting for their `ack`, by sequence number. */
export class PendingSends {
  readonly #pending = new Map<number, PendingSend>();
  readonly #giveBack: (grant: Grant) => void;
  #next = 1;

  /** `giveBack` returns one send of a grant whose send was refused. */
  constructor(giveBack: (grant: Grant) => void) {
    this.#giveBack = giveBack;
  }

  /** How many sends wait for their answer. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Waits for the answer to a send of `grants` (one each): `post` posts its message under
   * the sequence number it is given. Resolves once the peer acks it.
   * @throws {DmaBufError} `EBADF` when the peer refuses it; `ENODEV` (from {@link die}) when the peer's realm is gone.
   */
  wait(grants: readonly Grant[], post: (seq: number) => void): Promise<void> {
    const seq = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject, grants });
      post(seq);
    });
  }

  /** The peer's answer to send `seq`; one to a send never made (or answered) is ignored. */
  acked(seq: number, ok: boolean): void {
    const pending = this.#pending.get(seq);
    if (!pending) return;
    this.#pending.delete(seq);
    if (ok) {
      pending.resolve();
      return;
    }
    for (const grant of pending.grants) this.#giveBack(grant);
    pending.reject(refused());
  }

  /**
   * The peer's socket is closed: it takes no more fds, so the sends still waiting took
   * nothing there. (An inheritance of no fds is refused too: nothing waits for its answer.)
   */
  refuseAll(): void {
    for (const [seq, pending] of [...this.#pending]) {
      this.#pending.delete(seq);
      for (const grant of pending.grants) this.#giveBack(grant);
      pending.reject(refused());
    }
  }

  /** The peer's realm is gone: every send waiting fails with an error `gone` makes (its grant ends with all the others). */
  die(gone: () => DmaBufError): void {
    for (const pending of this.#pending.values()) pending.reject(gone());
    this.#pending.clear();
  }
}
