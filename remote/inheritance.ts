/**
 * The fds a spawned worker begins with, across the connection `spawnWorker` makes: the
 * parent's end holds a snapshot of the fds to hand over and says so in its hello; once the
 * child's hello has come, it sends them all in one `inherit` message, as one send of each
 * buffer (the snapshot is closed then: the grants hold their own references). The child's
 * end takes them (its own references, at the same numbers) and acks; a child that does not
 * wait for them refuses, and a parent that hands nothing says so in its hello, so the child
 * begins with none.
 */
import type { DmaBuf } from '../src/dma-buf.js';
import type { DmaBufError } from '../src/error.js';
import type { FdTable } from '../src/fd-table.js';
import type { Grant } from './grants.js';
import type { GrantInfo } from './protocol.js';

/** The fds a spawned worker begins with, each buffer with one reference the caller owns. */
export type InheritedFd = { readonly fd: number; readonly buf: DmaBuf };

/** An inherited fd as the `inherit` message carries it. */
export interface WireInheritedFd {
  readonly fd: number;
  readonly info: GrantInfo;
}

/** What the inheritance needs of its connection. */
export interface InheritancePorts {
  /** One more send of `buf` to the peer: its grant (with a reference of its own), and what the peer learns of it. */
  readonly grant: (buf: DmaBuf) => { readonly grant: Grant; readonly info: GrantInfo };
  /** Posts the `inherit` message of `fds`, a send of each of `grants`, and waits for its answer. */
  readonly send: (grants: readonly Grant[], fds: readonly WireInheritedFd[]) => void;
  /** Takes this realm's reference on the buffer `info` names (the caller owns it). */
  readonly take: (info: GrantInfo) => DmaBuf;
  /** Answers the parent's `inherit` numbered `seq`. */
  readonly ack: (seq: number, ok: boolean) => void;
}

/** One end's side of the inheritance: the parent's fds to hand over, or the child's wait for them. */
export class Inheritance {
  readonly #ports: InheritancePorts;
  // Parent: the fds the child begins with, until sent.
  #from: FdTable | undefined;
  // Child: whoever awaits the inherited fds.
  #waiting: { readonly resolve: (fds: InheritedFd[]) => void; readonly reject: (error: DmaBufError) => void } | undefined;

  constructor(ports: InheritancePorts) {
    this.#ports = ports;
  }

  /** Whether this end hands fds over (what its hello says). */
  get offering(): boolean {
    return this.#from !== undefined;
  }

  /** Makes this the parent end: the child begins with `snapshot`'s fds (closed here once sent, or at {@link close}). */
  from(snapshot: FdTable): void {
    this.#from = snapshot;
  }

  /** The child end: resolves to the fds the parent left open, once they come. */
  inherited(): Promise<InheritedFd[]> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** The peer said hello (`peerOffers`: it hands fds over): the parent sends its fds; a child whose parent hands none begins with none. */
  opened(peerOffers: boolean): void {
    const snapshot = this.#from;
    if (snapshot) {
      this.#from = undefined;
      this.#hand(snapshot);
    } else if (this.#waiting && !peerOffers) {
      this.#waiting.resolve([]);
      this.#waiting = undefined;
    }
  }

  /** The parent's `inherit` numbered `seq` came with `fds`: taken and acked if this end waits for them, else refused. */
  received(seq: number, fds: readonly WireInheritedFd[]): void {
    const waiting = this.#waiting;
    if (!waiting) {
      this.#ports.ack(seq, false);
      return;
    }
    this.#waiting = undefined;
    const taken = fds.map(({ fd, info }) => ({ fd, buf: this.#ports.take(info) }));
    this.#ports.ack(seq, true);
    waiting.resolve(taken);
  }

  /** The socket is closed before the fds went: the snapshot is closed, and the child gets nothing. */
  close(): void {
    this.#from?.closeAll();
    this.#from = undefined;
  }

  /** The peer's realm is gone: the snapshot is closed, and a child waiting fails with `error`. */
  die(error: DmaBufError): void {
    this.close();
    this.#waiting?.reject(error);
    this.#waiting = undefined;
  }

  #hand(snapshot: FdTable): void {
    const grants: Grant[] = [];
    const fds = snapshot.openFds().map((fd) => {
      const buf = snapshot.get(fd);
      const { grant, info } = this.#ports.grant(buf);
      buf.put();
      grants.push(grant);
      return { fd, info };
    });
    // The grants hold their own references now.
    snapshot.closeAll();
    this.#ports.send(grants, fds);
  }
}
