/**
 * DOC: connection
 *
 * One end of the link between two realms that an `FdSocket` runs on. It outlives the
 * socket: once a socket is closed, the buffers that crossed it still need their byte RPCs
 * and their references, so the connection listens until nothing of either realm is held
 * across it any more.
 *
 * References (the kernel's: each realm's references are its own):
 * 1. Sending a buffer grants the peer one send of it. The sending realm holds one reference
 *    on the buffer for all the grants of that buffer on this connection (a "grant" with a
 *    count of sends), whatever the count.
 * 2. The receiving realm takes its own reference when the `fd` message arrives, and acks:
 *    then the sender's `send` resolves. It keeps one proxy per buffer (found by the buffer's
 *    key): a buffer received again is the same proxy with one more local reference; one that
 *    comes back to its own realm is the buffer itself. A receipt it does not keep (it had the
 *    buffer already, by another path) is given back at once with `drop`.
 * 3. When a proxy's last local reference goes, it gives back all its receipts (`drop` with
 *    their count); when a grant's count reaches 0 the sending realm puts its reference. So the
 *    buffer is released in its exporter's realm when the last reference anywhere is gone,
 *    exactly once.
 * 4. A realm that sends a proxy on grants its proxy like any buffer: the third realm's
 *    RPCs go to it and it serves them through its own proxy (a relay). Its proxy lives while
 *    the third realm holds a grant of it, so the exporter's realm keeps holding one
 *    reference for it.
 *
 * Bytes (a read's answer, a write's data) travel in the message as a transferred
 * `ArrayBuffer` (`'message'`), or, when both ends offered it in their hello, through each
 * sender's own `SharedArrayBuffer` ring (`'shared-memory'`, `shared-ring.ts`), reused for
 * the connection's life. Either way every message keeps the order it was posted in
 * (`post-queue.ts`): the connection's FIFO is what keeps an importer's call order.
 *
 * Fences: the reservations of the buffers shared across the connection are kept in step
 * both ways (`fence-link.ts`): a buffer sent carries the fences pending on it, and each
 * fence added later, and its signal, follow as messages.
 *
 * Death (the kernel closes a dead process's fds): each end watches the peer's liveness
 * (`liveness.ts`). When the peer dies, this end drops every grant the peer held (RPCs the
 * peer started run to their end here, answered to no one), fails its own pending RPCs,
 * sends and receives with `ENODEV`, its proxies of the peer's buffers fail every
 * operation with `ENODEV` from then on (`put`, `detach` and `endCpuAccess` still work), and
 * the mirrors of the peer's fences signal with `ENODEV`.
 *
 * Parts, one job each: the lifecycle (`connection-state.ts`: one state, changed only by the
 * transitions it lists), the first exchange (`handshake.ts`), the grants this end gave
 * (`grants.ts`) and the sends waiting for their ack (`pending-sends.ts`), the proxies of what
 * it received (`receipts.ts`), the calls its proxies made (`pending-calls.ts`) and the peer's
 * calls it serves (`serve-requests.ts`), the bytes over the rings (`ring-stream.ts`), the fds
 * a spawned worker inherits (`inheritance.ts`), the fences (`fence-link.ts`). This file routes
 * the peer's messages to them, posts in order, and tells each of the peer's death.
 *
 * A message that is not the protocol's, or names what this end never gave, changes nothing
 * (`protocol.ts` parses every one). One that fails with a `DmaBufError` while handled (a
 * buffer released meanwhile) is dropped; any other error is a bug of the library: it is
 * reported with `console.warn`, naming the message's kind (once per kind on a connection),
 * and the message dropped; the connection goes on with the next one.
 */
import type { DmaBuf } from '../src/dma-buf.js';
import { DmaBufError } from '../src/error.js';
import type { FdTable } from '../src/fd-table.js';
import { nextState, isOpen, type ConnectionEvent, type ConnectionState } from './connection-state.js';
import type { RemoteDeviceAccess } from './device-access.js';
import { FenceLink } from './fence-link.js';
import { Grants, type Grant } from './grants.js';
import { Handshake, type Hello } from './handshake.js';
import { Inheritance, type InheritedFd } from './inheritance.js';
import { PendingCalls } from './pending-calls.js';
import { PendingSends } from './pending-sends.js';
import { PostQueue } from './post-queue.js';
import { parse, wire, type GrantInfo, type Message } from './protocol.js';
import type { RealmState } from './realm-state.js';
import { Receipts } from './receipts.js';
import { RingStream } from './ring-stream.js';
import { RequestServer } from './serve-requests.js';
import { newRing } from './shared-ring.js';
import type { MessageEndpoint } from './endpoint.js';

/** What the socket on top hears of the connection. */
export interface SocketSink {
  /** Whether the socket takes fds (it is not closed). */
  accepting(): boolean;
  /** An fd arrived: `buf` with one reference, the socket's. */
  deliver(buf: DmaBuf): void;
  /** The peer's socket is closed, or the peer's realm is gone. */
  ended(code: 'EBADF' | 'ENODEV'): void;
}

/** Who the connection serves. */
export interface ConnectionOptions {
  /** The realm this end belongs to. */
  readonly realm: RealmState;
  /** How this realm's proxies of the peer's buffers map on a device. */
  readonly access: RemoteDeviceAccess;
  /** The socket on top. */
  readonly sink: SocketSink;
  /** Whether to offer the `'shared-memory'` transport (it runs when both ends offer it). */
  readonly offerShared: boolean;
}

function gone(call: string): DmaBufError {
  return new DmaBufError('ENODEV', call, `the other end's realm is gone`);
}

/** One end of a connection: see the DOC block at the top of this file. */
export class Connection {
  readonly #endpoint: MessageEndpoint;
  readonly #realm: RealmState;
  readonly #sink: SocketSink;
  #state: ConnectionState = 'opening';
  readonly #handshake: Handshake;
  // What this end posts before the peer is known, in order.
  readonly #outbox: Message[] = [];
  readonly #posts = new PostQueue();
  readonly #fences: FenceLink;
  readonly #grants: Grants;
  readonly #sends: PendingSends;
  readonly #calls = new PendingCalls();
  readonly #stream: RingStream;
  readonly #receipts: Receipts;
  readonly #server: RequestServer;
  readonly #inheritance: Inheritance;
  // Payload bytes this end copied with the CPU (see cpu-copies.ts).
  #copied = 0;
  // The message kinds whose handling failed with a bug, each reported once.
  readonly #reported = new Set<Message['kind']>();
  #stopWatch: (() => void) | undefined;

  constructor(endpoint: MessageEndpoint, options: ConnectionOptions) {
    this.#endpoint = endpoint;
    this.#realm = options.realm;
    this.#sink = options.sink;
    const fences = new FenceLink({
      fence: (grant, mine, fence) => { this.#post({ kind: 'fence', grant, mine, fence }); },
      signal: (id, error) => {
        this.#post({ kind: 'signal', fence: id, error });
        this.#maybeEnd();
      },
    });
    this.#fences = fences;
    const grants = new Grants(options.realm, (buf, id) => fences.watch(buf.resv, id, false));
    this.#grants = grants;
    this.#sends = new PendingSends((grant) => { this.#release(grant, 1); });
    const copied = (bytes: number) => {
      this.#copied += bytes;
    };
    const stream = new RingStream({ post: (message, transfer) => { this.#post(message, transfer); }, postRaw: (message) => { this.#postRaw(message); }, queue: this.#posts, copied });
    this.#stream = stream;
    this.#handshake = new Handshake(options.offerShared ? newRing() : undefined);
    this.#receipts = new Receipts({
      realm: options.realm,
      access: options.access,
      fences,
      link: {
        check: (call) => {
          if (this.#state === 'dead') throw new DmaBufError('ENODEV', call, `the realm that exports this buffer is gone`);
        },
        read: (grant, start, len, into) => this.#calls.start({ len, into }, (call) => { this.#post({ kind: 'read', call, grant, start, len }); }),
        write: (grant, start, bytes) =>
          this.#calls.start(undefined, (call) => {
            void stream.post({ bytes, owned: false, call, part: 'request', build: (carried) => ({ kind: 'write', call, grant, start, ...carried }) });
          }),
        copied,
      },
      drop: (grant, count) => { this.#post({ kind: 'drop', grant, count }); },
      released: () => { this.#maybeEnd(); },
    });
    this.#server = new RequestServer({ grants, fences, stream, reply: (message) => { this.#postNow(message); }, copied });
    this.#inheritance = new Inheritance({
      grant: (buf) => {
        const grant = grants.take(buf);
        return { grant, info: this.#info(grant) };
      },
      // Nothing waits for the child's answer: a refusal gives the grants back, and that is all.
      send: (taken, fds) => { this.#sends.wait(taken, (seq) => { this.#postNow({ kind: 'inherit', seq, fds }); }).catch(() => undefined); },
      take: (info) => this.#receipts.take(info),
      ack: (seq, ok) => { this.#postNow({ kind: 'ack', seq, ok }); },
    });
    endpoint.addEventListener('message', this.#onMessage);
    endpoint.start?.();
    this.#realm.liveness.ready().then(
      (name) => {
        const waited = this.#handshake.named(name);
        this.#postNow(this.#handshake.hello(false, this.#inheritance.offering));
        for (const message of waited) this.#handle(message);
      },
      () => {
        // Without a name no peer can watch this realm: it cannot take part.
        this.#die();
      },
    );
  }

  /**
   * The peer never started: a worker whose script failed to load, or threw before it
   * connected. No liveness of its will ever be seen, so it is gone as a dead peer is (see
   * "Death" in the DOC block). Does nothing once the peer has said hello, though its hello
   * may still wait for this realm's name (a peer posts nothing before it).
   */
  peerFailedToStart(): void {
    if (!this.#handshake.heardOf) this.#die();
  }

  /** `'shared-memory'` once both ends offered it (after the handshake), else `'message'`. */
  get transport(): 'message' | 'shared-memory' {
    return this.#stream.running ? 'shared-memory' : 'message';
  }

  /** The payload bytes this end has copied with the CPU, as importer and as exporter (see `cpu-copies.ts`). */
  get cpuBytesCopied(): number {
    return this.#copied;
  }

  /** Makes this the parent end of `spawnWorker`: the child begins with `snapshot`'s fds (the connection closes it). */
  inheritFrom(snapshot: FdTable): void {
    this.#inheritance.from(snapshot);
  }

  /** The child end: resolves to the fds the parent left open, once they come. */
  inherited(): Promise<InheritedFd[]> {
    return this.#inheritance.inherited();
  }

  /**
   * Sends `buf` to the peer (rule 1); resolves once the peer holds its own reference.
   * @throws {DmaBufError} `ENODEV` when the peer's realm is gone; `EBADF` when its socket, or this end's, is closed.
   */
  send(buf: DmaBuf): Promise<void> {
    const state = this.#state;
    if (state === 'dead') return Promise.reject(gone('send'));
    if (state === 'peer-closed') return Promise.reject(new DmaBufError('EBADF', 'send', 'the other end of the socket is closed'));
    // The socket on top refuses a send once closed: this end sends nothing more then.
    if (state !== 'opening' && state !== 'open') return Promise.reject(new DmaBufError('EBADF', 'send', 'this end of the socket is closed'));
    const grant = this.#grants.take(buf);
    return this.#sends.wait([grant], (seq) => { this.#post({ kind: 'fd', seq, info: this.#info(grant) }); });
  }

  /** The socket on top is closed: tell the peer, and end once nothing is held across. */
  closeSocket(): void {
    this.#to('close');
    this.#post({ kind: 'shutdown' });
    this.#inheritance.close();
    this.#maybeEnd();
  }

  readonly #onMessage = (event: MessageEvent): void => {
    const message = parse(event.data);
    // Nothing comes once the connection has ended: it stops listening then.
    if (!message) return;
    if (!this.#handshake.hold(message)) this.#handle(message);
  };

  #handle(message: Message): void {
    if (this.#state === 'dead') return;
    try {
      this.#dispatch(message);
    } catch (error) {
      // A buffer released or refused meanwhile: the message cannot be acted on, and is dropped.
      if (error instanceof DmaBufError) return;
      this.#report(message.kind, error);
    }
  }

  /** A bug while handling a message of `kind`: reported once per kind, never thrown into the event loop. */
  #report(kind: Message['kind'], error: unknown): void {
    if (this.#reported.has(kind)) return;
    this.#reported.add(kind);
    console.warn(`webgpu-dmabuf: a '${kind}' message from the other realm failed and was dropped (a bug of the library; the connection goes on)`, error);
  }

  #dispatch(message: Message): void {
    if (message.kind === 'hello') {
      this.#hello(message);
      return;
    }
    // Nothing but a hello before the peer is known: the protocol never does otherwise.
    if (!isOpen(this.#state)) return;
    switch (message.kind) {
      case 'shutdown':
        this.#shutdown();
        return;
      case 'chunk':
        this.#stream.chunk(message.slot, message.len, message.call, message.reply, message.total, (call, chunk, total) => { this.#calls.chunk(call, chunk, total); });
        return;
      case 'fd':
        this.#fd(message.seq, message.info);
        return;
      case 'inherit':
        this.#inheritance.received(message.seq, message.fds);
        return;
      case 'ack':
        this.#sends.acked(message.seq, message.ok);
        this.#maybeEnd();
        return;
      case 'drop': {
        const grant = this.#grants.find(message.grant);
        // Only what was given, never more: a forged or excess drop changes nothing.
        if (grant && message.count <= grant.count) this.#release(grant, message.count);
        return;
      }
      case 'read':
        this.#server.read(message.call, message.grant, message.start, message.len);
        return;
      case 'write':
        this.#server.write(message);
        return;
      case 'reply':
        this.#calls.replied(message.call, message.bytes ? new Uint8Array(message.bytes) : null, message.error);
        this.#maybeEnd();
        return;
      case 'fence': {
        // `mine`: the sender's grant, which this realm holds a proxy of; else one this realm granted.
        const buf = message.mine ? this.#receipts.find(message.grant) : this.#grants.find(message.grant)?.buf;
        if (buf) this.#fences.add(buf.resv, message.fence);
        return;
      }
      case 'signal':
        this.#fences.signalled(message.fence, message.error);
        this.#maybeEnd();
        return;
    }
  }

  /** What the peer learns of a grant's buffer, with the fences pending on it. */
  #info(grant: Grant): GrantInfo {
    return this.#grants.info(grant, this.#fences.pendingIn(grant.buf.resv));
  }

  #hello(hello: Hello): void {
    if (!this.#handshake.fromPeer(hello.realm)) return;
    // Our first hello may have gone out before the peer listened: answer every first-hand one.
    if (!hello.reply) this.#postNow(this.#handshake.hello(true, this.#inheritance.offering));
    const peer = this.#handshake.heard(hello);
    if (!peer) return;
    if (peer.rings) this.#stream.start(peer.rings.own, peer.rings.theirs);
    // A realm cannot outlive itself: there is nothing to watch when both ends are one realm.
    if (peer.realm !== this.#handshake.name) this.#stopWatch = this.#realm.liveness.watch(peer.realm, () => { this.#die(); });
    // A liveness may tell of a death within watch itself: then there is nothing more to open.
    if (this.#state === 'dead') return;
    this.#to('hello');
    for (const message of this.#outbox.splice(0)) this.#postNow(message);
    this.#inheritance.opened(peer.inherit);
    this.#maybeEnd();
  }

  #fd(seq: number, info: GrantInfo): void {
    if (!this.#sink.accepting()) {
      this.#postNow({ kind: 'ack', seq, ok: false });
      return;
    }
    const buf = this.#receipts.take(info);
    this.#postNow({ kind: 'ack', seq, ok: true });
    this.#sink.deliver(buf);
  }

  /** The peer's socket is closed: it takes no more fds. */
  #shutdown(): void {
    this.#to('shutdown');
    this.#sends.refuseAll();
    this.#sink.ended('EBADF');
    this.#maybeEnd();
  }

  #release(grant: Grant, count: number): void {
    this.#grants.release(grant, count);
    this.#maybeEnd();
  }

  /** Posts once the peer is known; before that, keeps messages in order; once ended, drops them. */
  #post(message: Message, transfer: Transferable[] = []): void {
    const state = this.#state;
    if (isOpen(state)) this.#postNow(message, transfer);
    else if (state === 'opening' || state === 'opening-closed') this.#outbox.push(message);
  }

  #postNow(message: Message, transfer: Transferable[] = []): void {
    this.#posts.enqueue(() => { this.#postRaw(message, transfer); });
  }

  #postRaw(message: Message, transfer: Transferable[] = []): void {
    if (this.#state === 'ended' || this.#state === 'dead') return;
    try {
      this.#endpoint.postMessage(wire(message), transfer);
    } catch {
      // A closed port or a terminated worker: the peer's death is told by its liveness.
    }
  }

  /** Moves the lifecycle on by `event` (see `connection-state.ts`). */
  #to(event: ConnectionEvent): void {
    this.#state = nextState(this.#state, event);
  }

  /** The peer's realm is gone: see "Death" in the DOC block. */
  #die(): void {
    // Once ended, nothing of the peer is held any more, and its liveness is not watched.
    if (this.#state === 'dead' || this.#state === 'ended') return;
    this.#to('die');
    this.#stopWatch?.();
    this.#outbox.length = 0;
    this.#posts.clear();
    this.#stream.die(gone('send'));
    this.#calls.die(() => gone('read or write'));
    this.#sends.die(() => gone('send'));
    this.#grants.releaseAll();
    this.#fences.die();
    this.#receipts.die();
    this.#inheritance.die(gone('inheritedFdTable'));
    this.#sink.ended('ENODEV');
    this.#endpoint.removeEventListener('message', this.#onMessage);
  }

  /** Ends once this end's socket is closed, the peer heard so, and nothing is held across any more. */
  #maybeEnd(): void {
    // Not before the handshake: the peer learns of the shutdown only after it.
    if (this.#state !== 'closing') return;
    if (this.#grants.size + this.#receipts.size + this.#calls.size + this.#sends.size + this.#fences.pending > 0) return;
    this.#to('end');
    this.#stopWatch?.();
    this.#endpoint.removeEventListener('message', this.#onMessage);
  }
}
