/**
 * The first exchange of a connection: each end says `hello` with its realm's liveness name
 * (so the peer can watch it die), whether it hands the peer inherited fds (`spawnWorker`'s
 * parent), and, offering the `'shared-memory'` transport, the ring its bytes will come
 * through. Each end answers every first-hand hello once (`reply: true`): its own first hello
 * may have gone out before the peer listened. An end posts nothing before its hello, and
 * says hello only once its realm's name is known: what comes before that waits here.
 */
import type { Message } from './protocol.js';

/** A hello as the wire carries it. */
export type Hello = Extract<Message, { kind: 'hello' }>;

/** What a peer's hello brings: `undefined` from {@link Handshake.heard} when it changes nothing. */
export interface PeerHello {
  /** The peer's realm name. */
  readonly realm: string;
  /** Whether the peer hands this end inherited fds. */
  readonly inherit: boolean;
  /** This end's ring and the peer's, when both ends offered one: the `'shared-memory'` transport runs. */
  readonly rings: { readonly own: SharedArrayBuffer; readonly theirs: SharedArrayBuffer } | undefined;
}

/** One end's side of the handshake. */
export class Handshake {
  // This end's ring, offered in its hello (`undefined` when it does not offer the transport).
  readonly #ownRing: SharedArrayBuffer | undefined;
  readonly #inbox: Message[] = [];
  #name: string | undefined;
  #peer: string | undefined;

  /** `ownRing`: the ring this end offers, or none. */
  constructor(ownRing: SharedArrayBuffer | undefined) {
    this.#ownRing = ownRing;
  }

  /** This realm's name, once known. */
  get name(): string | undefined {
    return this.#name;
  }

  /** Whether the peer has said hello, or something of it waits for this realm's name. */
  get heardOf(): boolean {
    return this.#peer !== undefined || this.#inbox.length > 0;
  }

  /** Keeps `message` until this realm's name is known; `false` once it is (handle it now). */
  hold(message: Message): boolean {
    if (this.#name !== undefined) return false;
    this.#inbox.push(message);
    return true;
  }

  /** This realm's name is known: returns the messages that waited for it, in order. */
  named(name: string): Message[] {
    this.#name = name;
    return this.#inbox.splice(0);
  }

  /** This end's hello: `reply` when it answers the peer's. */
  hello(reply: boolean, inherit: boolean): Hello {
    return { kind: 'hello', realm: this.#name ?? '', reply, inherit, ring: this.#ownRing ?? null };
  }

  /**
   * The peer's hello, `hello` as it came. Returns what it brings the first time; `undefined`
   * for any later one, and for one naming another realm (neither changes anything).
   */
  heard(hello: Hello): PeerHello | undefined {
    if (this.#peer !== undefined) return undefined;
    this.#peer = hello.realm;
    const own = this.#ownRing;
    return { realm: hello.realm, inherit: hello.inherit, rings: own && hello.ring ? { own, theirs: hello.ring } : undefined };
  }

  /** Whether a hello naming `realm` comes from the peer (always, before the peer is known). */
  fromPeer(realm: string): boolean {
    return this.#peer === undefined || realm === this.#peer;
  }
}
