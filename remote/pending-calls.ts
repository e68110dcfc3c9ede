/**
 * The byte RPCs this end's proxies started and the peer has not answered yet: a `read`
 * takes its bytes as they come (in its `reply`, or through the peer's ring before it) and
 * resolves once exactly as many as asked for came; a `write` resolves with its `reply`. A
 * `reply` with an error fails the call with it.
 */
import { DmaBufError } from '../src/error.js';
import type { WireError } from './protocol.js';

/** A read under way: where its bytes go as they come. */
interface IncomingRead {
  readonly len: number;
  readonly into: (at: number, chunk: Uint8Array) => void;
  received: number;
  /** Why the read fails once its reply comes (bytes that do not add up, or `into` threw). */
  failure: unknown;
}

interface PendingCall {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  /** A read's; `undefined` for a write. */
  readonly read: IncomingRead | undefined;
}

/** What a call is: a read of `len` bytes handed to `into` as they come, or a write (`undefined`). */
export type CallKind = { readonly len: number; readonly into: (at: number, chunk: Uint8Array) => void } | undefined;

/** The calls of one connection waiting for their reply, by call number. */
export class PendingCalls {
  readonly #calls = new Map<number, PendingCall>();
  #next = 1;

  /** How many calls wait for their reply. */
  get size(): number {
    return this.#calls.size;
  }

  /**
   * Starts a call: `post` posts its request under the call number it is given.
   * @throws {DmaBufError} what the reply says; `EIO` for a read whose bytes do not add up;
   *   `ENODEV` (from {@link die}) when the peer's realm is gone.
   */
  start(kind: CallKind, post: (call: number) => void): Promise<void> {
    const call = this.#next++;
    const read = kind && { len: kind.len, into: kind.into, received: 0, failure: undefined };
    return new Promise((resolve, reject) => {
      this.#calls.set(call, { resolve, reject, read });
      post(call);
    });
  }

  /** A piece of the bytes of read `call`, `total` in all, come through the ring; for no read under way, nothing. */
  chunk(call: number, chunk: Uint8Array, total: number): void {
    const read = this.#calls.get(call)?.read;
    if (read) feed(read, chunk, total);
  }

  /** The reply to `call`: a read's bytes came before it through the ring, or come in it (`bytes`). */
  replied(call: number, bytes: Uint8Array | null, error: WireError | null): void {
    const pending = this.#calls.get(call);
    if (!pending) return;
    this.#calls.delete(call);
    const { read } = pending;
    if (error) {
      pending.reject(new DmaBufError(error.code, error.call, error.reason));
    } else if (!read) {
      pending.resolve();
    } else {
      if (bytes) feed(read, bytes, bytes.length);
      if (read.failure !== undefined) pending.reject(read.failure);
      else if (read.received === read.len) pending.resolve();
      else pending.reject(new DmaBufError('EIO', 'read', `the exporter's realm answered ${read.received} bytes for ${read.len}`));
    }
  }

  /** The peer's realm is gone: every call waiting fails with an error `gone` makes. */
  die(gone: () => DmaBufError): void {
    for (const call of this.#calls.values()) call.reject(gone());
    this.#calls.clear();
  }
}

/** Hands the next piece of a read's bytes (`total` in all) over; bytes that do not add up fail the read instead. */
function feed(read: IncomingRead, chunk: Uint8Array, total: number): void {
  if (read.failure !== undefined) return;
  if (total !== read.len || read.received + chunk.length > read.len) {
    read.failure = new DmaBufError('EIO', 'read', `the exporter's realm sent ${total} bytes for ${read.len}`);
    return;
  }
  try {
    read.into(read.received, chunk);
  } catch (error) {
    read.failure = error;
  }
  read.received += chunk.length;
}
