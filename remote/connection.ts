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
 */
import type { DmaBuf } from '../src/dma-buf.js';
import { DmaBufError } from '../src/error.js';
import type { FdTable } from '../src/fd-table.js';
import type { RemoteDeviceAccess } from './device-access.js';
import { FenceLink } from './fence-link.js';
import { Grants, type Grant } from './grants.js';
import { PostQueue } from './post-queue.js';
import { parse, wire, type GrantInfo, type Message, type WireError } from './protocol.js';
import { createProxy, type ProxyLink, type ProxyRecord } from './proxy.js';
import type { RealmState } from './realm-state.js';
import { serveRead, serveWrite } from './serve.js';
import { newRing, RingReader, RingWriter } from './shared-ring.js';

/**
 * Anything with `postMessage` and message events: a `MessagePort`, a `Worker`, or a
 * worker's own global scope. The one endpoint type of the library: sockets, spawned workers
 * and the elements' worker hosts all take it.
 */
export interface MessageEndpoint {
  /** Posts a message, transferring `transfer`. */
  postMessage(message: unknown, transfer: Transferable[]): void;
  /** Adds a listener of incoming messages. */
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  /** Removes a listener added with `addEventListener`. */
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  /** Starts delivery (a `MessagePort` needs it with `addEventListener`). */
  start?: () => void;
}

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

interface PendingAck {
  readonly resolve: () => void;
  readonly reject: (error: DmaBufError) => void;
  readonly grants: readonly Grant[];
}

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

/** A peer's write whose bytes are coming through the ring. */
interface IncomingWrite {
  /** `undefined` when no array of the announced size could be made: the write fails. */
  readonly bytes: Uint8Array | undefined;
  at: number;
  bad: boolean;
}

/** The largest array kept for the peer's next write (a 1080p RGBA frame is 8 MiB). */
const SPARE_MAX = 16 * 1024 * 1024;

/** The fds a spawned worker begins with, each buffer with one reference the caller owns. */
export type InheritedFd = { readonly fd: number; readonly buf: DmaBuf };

/** What a `reply` carries for a thrown error. */
function wireErrorOf(error: unknown): WireError {
  if (error instanceof DmaBufError) return { code: error.code, call: error.call, reason: error.reason };
  return { code: 'EIO', call: 'serve', reason: error instanceof Error ? error.message : String(error) };
}

/** One end of a connection: see the DOC block at the top of this file. */
export class Connection {
  readonly #endpoint: MessageEndpoint;
  readonly #realm: RealmState;
  readonly #access: RemoteDeviceAccess;
  readonly #sink: SocketSink;
  readonly #inbox: Message[] = [];
  readonly #outbox: Message[] = [];
  readonly #grants: Grants;
  readonly #fences: FenceLink;
  // Stops sending the fences of this realm's proxies, by the peer's grant.
  readonly #proxyWatches = new Map<number, () => void>();
  readonly #acks = new Map<number, PendingAck>();
  readonly #calls = new Map<number, PendingCall>();
  // This realm's proxies of the peer's buffers, by the peer's grant.
  readonly #proxies = new Map<number, ProxyRecord>();
  readonly #link: ProxyLink;
  #name: string | undefined;
  #peer: string | undefined;
  #open = false;
  #dead = false;
  #peerClosed = false;
  #socketClosed = false;
  #ended = false;
  #stopWatch: (() => void) | undefined;
  #nextSeq = 1;
  #nextCall = 1;
  // The 'shared-memory' transport: this end's ring (offered in hello), and, once the peer
  // offered its own, the writer of ours and the reader of theirs.
  readonly #ownRing: SharedArrayBuffer | undefined;
  #writer: RingWriter | undefined;
  #reader: RingReader | undefined;
  // The peer's writes whose bytes are coming through the ring, by the peer's call number.
  readonly #incoming = new Map<number, IncomingWrite>();
  // An array for the next such write, kept from the last one: a steady stream of writes
  // does not allocate (and fault in) a new one each time.
  #spare: Uint8Array | undefined;
  readonly #posts = new PostQueue();
  // Rejects when the peer dies: a sender waiting for a ring slot stops waiting.
  readonly #gone: Promise<never>;
  #goneReason: (error: DmaBufError) => void = () => undefined;
  // Parent side of spawnWorker: the fds the child begins with, until sent.
  #inheritFrom: FdTable | undefined;
  // Child side: whoever awaits the inherited fds.
  #inheriting: { resolve: (fds: InheritedFd[]) => void; reject: (error: DmaBufError) => void } | undefined;

  constructor(endpoint: MessageEndpoint, options: ConnectionOptions) {
    this.#endpoint = endpoint;
    this.#realm = options.realm;
    this.#access = options.access;
    this.#sink = options.sink;
    this.#fences = new FenceLink({
      fence: (grant, mine, fence) => { this.#post({ kind: 'fence', grant, mine, fence }); },
      signal: (id, error) => {
        this.#post({ kind: 'signal', fence: id, error });
        this.#maybeEnd();
      },
    });
    this.#grants = new Grants(options.realm, (buf, id) => this.#fences.watch(buf.resv, id, false));
    this.#ownRing = options.offerShared ? newRing() : undefined;
    this.#gone = new Promise<never>((_, reject) => {
      this.#goneReason = reject;
    });
    this.#gone.catch(() => undefined);
    this.#link = {
      check: (call) => {
        if (this.#dead) throw new DmaBufError('ENODEV', call, `the realm that exports this buffer is gone`);
      },
      read: (grant, start, len, into) =>
        this.#call({ len, into, received: 0, failure: undefined }, (call) => { this.#post({ kind: 'read', call, grant, start, len }); }),
      write: (grant, start, bytes) =>
        this.#call(undefined, (call) => {
          void this.#postBytes(bytes, false, call, false, (carried) => ({ kind: 'write', call, grant, start, ...carried }));
        }),
      released: (proxy) => {
        this.#proxies.delete(proxy.grant);
        this.#proxyWatches.get(proxy.grant)?.();
        this.#proxyWatches.delete(proxy.grant);
        this.#realm.forgetProxy(proxy.buf);
        this.#post({ kind: 'drop', grant: proxy.grant, count: proxy.receipts });
        this.#maybeEnd();
      },
    };
    endpoint.addEventListener('message', this.#onMessage);
    endpoint.start?.();
    this.#realm.liveness.ready().then(
      (name) => {
        this.#name = name;
        this.#postNow({ kind: 'hello', realm: name, reply: false, inherit: this.#inheritFrom !== undefined, ring: this.#ownRing ?? null });
        for (const message of this.#inbox.splice(0)) this.#handle(message);
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
   * may still wait in the inbox for this realm's name (a peer posts nothing before it).
   */
  peerFailedToStart(): void {
    if (this.#peer === undefined && this.#inbox.length === 0) this.#die();
  }

  /** `'shared-memory'` once both ends offered it (after the handshake), else `'message'`. */
  get transport(): 'message' | 'shared-memory' {
    return this.#writer && this.#reader ? 'shared-memory' : 'message';
  }

  /** Makes this the parent end of `spawnWorker`: the child begins with `snapshot`'s fds (the connection closes it). */
  inheritFrom(snapshot: FdTable): void {
    this.#inheritFrom = snapshot;
  }

  /** The child end: resolves to the fds the parent left open, once they come. */
  inherited(): Promise<InheritedFd[]> {
    return new Promise((resolve, reject) => {
      this.#inheriting = { resolve, reject };
    });
  }

  /**
   * Sends `buf` to the peer (rule 1); resolves once the peer holds its own reference.
   * @throws {DmaBufError} `ENODEV` when the peer's realm is gone; `EBADF` when its socket is closed.
   */
  send(buf: DmaBuf): Promise<void> {
    if (this.#dead) return Promise.reject(new DmaBufError('ENODEV', 'send', "the other end's realm is gone"));
    if (this.#peerClosed) return Promise.reject(new DmaBufError('EBADF', 'send', 'the other end of the socket is closed'));
    const grant = this.#grants.take(buf);
    const seq = this.#nextSeq++;
    return new Promise((resolve, reject) => {
      this.#acks.set(seq, { resolve, reject, grants: [grant] });
      this.#post({ kind: 'fd', seq, info: this.#info(grant) });
    });
  }

  /** The socket on top is closed: tell the peer, and end once nothing is held across. */
  closeSocket(): void {
    this.#socketClosed = true;
    this.#post({ kind: 'shutdown' });
    this.#inheritFrom?.closeAll();
    this.#inheritFrom = undefined;
    this.#maybeEnd();
  }

  readonly #onMessage = (event: MessageEvent): void => {
    const message = parse(event.data);
    // Nothing comes once the connection has ended: #end stops listening.
    if (!message) return;
    if (this.#name === undefined) this.#inbox.push(message);
    else this.#handle(message);
  };

  #handle(message: Message): void {
    if (this.#dead) return;
    try {
      this.#dispatch(message);
    } catch {
      // A handler never throws into the event loop: a message it cannot act on is ignored.
    }
  }

  #dispatch(message: Message): void {
    if (message.kind === 'hello') {
      this.#hello(message.realm, message.reply, message.inherit, message.ring);
      return;
    }
    // Nothing but a hello before the peer is known: the protocol never does otherwise.
    if (!this.#open) return;
    switch (message.kind) {
      case 'shutdown':
        this.#shutdown();
        return;
      case 'chunk':
        this.#chunk(message.slot, message.len, message.call, message.reply, message.total);
        return;
      case 'fd':
        this.#fd(message.seq, message.info);
        return;
      case 'inherit':
        this.#inherit(message.seq, message.fds);
        return;
      case 'ack':
        this.#ack(message.seq, message.ok);
        return;
      case 'drop': {
        const grant = this.#grants.find(message.grant);
        // Only what was given, never more: a forged or excess drop changes nothing.
        if (grant && message.count <= grant.count) this.#release(grant, message.count);
        return;
      }
      case 'read':
        void this.#serve(message.call, message.grant, message.start, message.len, undefined);
        return;
      case 'write': {
        const bytes = message.bytes ? new Uint8Array(message.bytes) : this.#assembled(message.call, message.shared);
        if (bytes) {
          const served = this.#serve(message.call, message.grant, message.start, bytes.length, bytes);
          // The bytes are copied into the buffer once it has been served: the array may serve the next write.
          if (!message.bytes) void served.then(() => { this.#keepSpare(bytes); });
        } else {
          this.#postNow({ kind: 'reply', call: message.call, bytes: null, shared: 0, error: { code: 'EIO', call: 'write', reason: "the bytes did not come through the sender's ring" } });
        }
        return;
      }
      case 'reply':
        this.#reply(message.call, message.bytes ? new Uint8Array(message.bytes) : null, message.error);
        return;
      case 'fence': {
        // `mine`: the sender's grant, which this realm holds a proxy of; else one this realm granted.
        const buf = message.mine ? this.#proxies.get(message.grant)?.buf : this.#grants.find(message.grant)?.buf;
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

  #hello(realm: string, reply: boolean, inherit: boolean, ring: SharedArrayBuffer | null): void {
    if (this.#peer !== undefined && realm !== this.#peer) return;
    // Our first hello may have gone out before the peer listened: answer every first-hand one.
    if (!reply) this.#postNow({ kind: 'hello', realm: this.#name ?? '', reply: true, inherit: this.#inheritFrom !== undefined, ring: this.#ownRing ?? null });
    if (this.#peer !== undefined) return;
    this.#peer = realm;
    if (ring && this.#ownRing) {
      this.#writer = new RingWriter(this.#ownRing);
      this.#reader = new RingReader(ring);
    }
    // A realm cannot outlive itself: there is nothing to watch when both ends are one realm.
    if (realm !== this.#name) this.#stopWatch = this.#realm.liveness.watch(realm, () => { this.#die(); });
    this.#open = true;
    for (const message of this.#outbox.splice(0)) this.#postNow(message);
    if (this.#inheritFrom) this.#sendInheritance(this.#inheritFrom);
    else if (this.#inheriting && !inherit) {
      this.#inheriting.resolve([]);
      this.#inheriting = undefined;
    }
    this.#maybeEnd();
  }

  #sendInheritance(snapshot: FdTable): void {
    this.#inheritFrom = undefined;
    const grants: Grant[] = [];
    const fds = snapshot.openFds().map((fd) => {
      const buf = snapshot.get(fd);
      const grant = this.#grants.take(buf);
      buf.put();
      grants.push(grant);
      return { fd, info: this.#info(grant) };
    });
    // The grants hold their own references now.
    snapshot.closeAll();
    const seq = this.#nextSeq++;
    this.#acks.set(seq, { resolve: () => undefined, reject: () => undefined, grants });
    this.#postNow({ kind: 'inherit', seq, fds });
  }

  #inherit(seq: number, fds: readonly { readonly fd: number; readonly info: GrantInfo }[]): void {
    const waiting = this.#inheriting;
    if (!waiting) {
      this.#postNow({ kind: 'ack', seq, ok: false });
      return;
    }
    this.#inheriting = undefined;
    const taken = fds.map(({ fd, info }) => ({ fd, buf: this.#take(info) }));
    this.#postNow({ kind: 'ack', seq, ok: true });
    waiting.resolve(taken);
  }

  #fd(seq: number, info: GrantInfo): void {
    if (!this.#sink.accepting()) {
      this.#postNow({ kind: 'ack', seq, ok: false });
      return;
    }
    const buf = this.#take(info);
    this.#postNow({ kind: 'ack', seq, ok: true });
    this.#sink.deliver(buf);
  }

  /** Takes this realm's reference on the buffer a receipt names (rule 2); the caller owns it. */
  #take(info: GrantInfo): DmaBuf {
    // A proxy leaves the map as it is released (link.released): one found here is live.
    const known = this.#proxies.get(info.grant);
    if (known) {
      known.receipts += 1;
      for (const fence of info.fences) this.#fences.add(known.buf.resv, fence);
      return known.buf.get();
    }
    const found = this.#realm.find(info.key);
    if (found && found.size === info.size) {
      this.#postNow({ kind: 'drop', grant: info.grant, count: 1 });
      return found.get();
    }
    const proxy = createProxy(info, this.#link, this.#access);
    this.#proxies.set(info.grant, proxy);
    for (const fence of info.fences) this.#fences.add(proxy.buf.resv, fence);
    this.#proxyWatches.set(info.grant, this.#fences.watch(proxy.buf.resv, info.grant, true));
    if (!found) this.#realm.addProxy(info.key, proxy.buf);
    return proxy.buf;
  }

  #ack(seq: number, ok: boolean): void {
    const pending = this.#acks.get(seq);
    if (!pending) return;
    this.#acks.delete(seq);
    if (ok) {
      pending.resolve();
    } else {
      for (const grant of pending.grants) this.#release(grant, 1);
      pending.reject(new DmaBufError('EBADF', 'send', 'the other end of the socket is closed'));
    }
    this.#maybeEnd();
  }

  #shutdown(): void {
    this.#peerClosed = true;
    // The peer takes no more fds: sends still waiting for its answer took nothing there.
    for (const [seq, pending] of [...this.#acks]) {
      if (pending.grants.length === 0) continue;
      this.#acks.delete(seq);
      for (const grant of pending.grants) this.#release(grant, 1);
      pending.reject(new DmaBufError('EBADF', 'send', 'the other end of the socket is closed'));
    }
    this.#sink.ended('EBADF');
    this.#maybeEnd();
  }

  /** Keeps `bytes`' array for the next write through the ring, up to {@link SPARE_MAX} bytes. */
  #keepSpare(bytes: Uint8Array): void {
    const whole = new Uint8Array(bytes.buffer, 0, bytes.buffer.byteLength);
    if (whole.length <= SPARE_MAX && (!this.#spare || this.#spare.length < whole.length)) this.#spare = whole;
  }

  /** Serves a byte RPC of the peer; resolves once it has run (answered or failed). */
  #serve(call: number, id: number, start: number, len: number, bytes: Uint8Array | undefined): Promise<void> {
    const grant = this.#grants.find(id);
    const fail = (error: unknown) => { this.#postNow({ kind: 'reply', call, bytes: null, shared: 0, error: wireErrorOf(error) }); };
    const what = bytes ? 'write' : 'read';
    if (!grant) {
      fail(new DmaBufError('EBADF', what, `no buffer was sent to this realm under ${id}`));
      return Promise.resolve();
    }
    if (start + len > grant.buf.size) {
      fail(new DmaBufError('EINVAL', what, `range [${start}, ${start + len}) goes beyond the buffer's ${grant.buf.size} bytes`));
      return Promise.resolve();
    }
    // Called now, so that it enters the buffer's reservation in the order the messages came.
    const served = bytes
      ? serveWrite(grant.buf, start, bytes, this.#fences).then(() => { this.#postNow({ kind: 'reply', call, bytes: null, shared: 0, error: null }); })
      : serveRead(grant.buf, start, len, this.#fences, (out, owned) => this.#postBytes(out, owned, call, true, (carried) => ({ kind: 'reply', call, ...carried, error: null })));
    // A read that fails after its bytes went out answers twice: the peer takes the first.
    return served.catch(fail);
  }

  /**
   * Starts an RPC: `send` posts its request under the call number it is given. The proxy
   * has called `check` just before (in the same turn), so the peer is alive.
   */
  #call(read: IncomingRead | undefined, send: (call: number) => void): Promise<void> {
    const call = this.#nextCall++;
    return new Promise((resolve, reject) => {
      this.#calls.set(call, { resolve, reject, read });
      send(call);
    });
  }

  /** The answer to `call`: a read's bytes came before it through the ring, or come in it (`bytes`). */
  #reply(call: number, bytes: Uint8Array | null, error: WireError | null): void {
    const pending = this.#calls.get(call);
    if (!pending) return;
    this.#calls.delete(call);
    const { read } = pending;
    if (error) {
      pending.reject(new DmaBufError(error.code, error.call, error.reason));
    } else if (!read) {
      pending.resolve();
    } else {
      if (bytes) this.#feed(read, bytes, bytes.length);
      if (read.failure !== undefined) pending.reject(read.failure);
      else if (read.received === read.len) pending.resolve();
      else pending.reject(new DmaBufError('EIO', 'read', `the exporter's realm answered ${read.received} bytes for ${read.len}`));
    }
    this.#maybeEnd();
  }

  /** Hands the next piece of a read's bytes (`total` in all) over; bytes that do not add up fail the read instead. */
  #feed(read: IncomingRead, chunk: Uint8Array, total: number): void {
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

  /** A chunk in the peer's ring: a piece of the reply to this end's read `call`, or of the peer's write `call`. */
  #chunk(slot: number, len: number, call: number, reply: boolean, total: number): void {
    const reader = this.#reader;
    if (!reader) return;
    if (reply) {
      const read = this.#calls.get(call)?.read;
      reader.take(slot, len, (chunk) => {
        if (read) this.#feed(read, chunk, total);
      });
      return;
    }
    reader.take(slot, len, (chunk) => {
      const into = this.#incoming.get(call) ?? this.#newIncoming(call, total);
      if (!into.bytes || total !== into.bytes.length || into.at + chunk.length > total) into.bad = true;
      else into.bytes.set(chunk, into.at);
      into.at += chunk.length;
    });
  }

  /** Where the peer's write `call` of `total` bytes is put together: the spare array when it is large enough. */
  #newIncoming(call: number, total: number): IncomingWrite {
    let bytes: Uint8Array | undefined;
    if (this.#spare && this.#spare.length >= total) {
      bytes = this.#spare.subarray(0, total);
      this.#spare = undefined;
    } else {
      try {
        bytes = new Uint8Array(total);
      } catch {
        // More than this realm can hold: without bytes, the write fails.
      }
    }
    // Without bytes it is bad already: each chunk and #assembled check for them.
    const incoming: IncomingWrite = { bytes, at: 0, bad: false };
    this.#incoming.set(call, incoming);
    return incoming;
  }

  /** The `count` bytes the peer's write `call` sent through the ring; `undefined` when they do not add up (nothing is kept). */
  #assembled(call: number, count: number): Uint8Array | undefined {
    const incoming = this.#incoming.get(call);
    this.#incoming.delete(call);
    if (!incoming?.bytes || incoming.bad || incoming.at !== count || count !== incoming.bytes.length) return undefined;
    return incoming.bytes;
  }

  /**
   * Posts a message that carries `bytes` for `call` (its request, or the `reply` to it):
   * through the ring with the `'shared-memory'` transport (the chunks first, then the
   * message), else transferred in the message (`bytes` themselves when `owned`, else a copy).
   * Resolves once `bytes` are no longer read: copied out, or the peer is gone.
   */
  #postBytes(bytes: Uint8Array, owned: boolean, call: number, reply: boolean, build: (carried: { bytes: ArrayBuffer | null; shared: number }) => Message): Promise<void> {
    const writer = this.#writer;
    if (!writer || !this.#open) {
      // An owned array is a whole one of its own (see ServeDelivery): its memory moves.
      const out = owned ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
      this.#post(build({ bytes: out, shared: 0 }), [out]);
      return Promise.resolve();
    }
    const total = bytes.length;
    const streamed = new Promise<void>((resolve) => {
      this.#posts.enqueue(async () => {
        try {
          await writer.write(bytes, (slot, len) => { this.#postRaw({ kind: 'chunk', slot, len, call, reply, total }); }, this.#gone);
          this.#postRaw(build({ bytes: null, shared: total }));
        } finally {
          resolve();
        }
      });
    });
    // A task the peer's death dropped from the queue never runs: stop waiting for it then.
    return Promise.race([streamed, this.#gone.catch(() => undefined)]);
  }

  #release(grant: Grant, count: number): void {
    this.#grants.release(grant, count);
    this.#maybeEnd();
  }

  /** Posts once the peer is known; before that, keeps messages in order. */
  #post(message: Message, transfer: Transferable[] = []): void {
    if (this.#open) this.#postNow(message, transfer);
    else if (!this.#dead) this.#outbox.push(message);
  }

  #postNow(message: Message, transfer: Transferable[] = []): void {
    this.#posts.enqueue(() => { this.#postRaw(message, transfer); });
  }

  #postRaw(message: Message, transfer: Transferable[] = []): void {
    // A dead peer's connection has ended too (#die ends it).
    if (this.#ended) return;
    try {
      this.#endpoint.postMessage(wire(message), transfer);
    } catch {
      // A closed port or a terminated worker: the peer's death is told by its liveness.
    }
  }

  /** The peer's realm is gone: see "Death" in the DOC block. */
  #die(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#stopWatch?.();
    this.#outbox.length = 0;
    this.#posts.clear();
    this.#incoming.clear();
    const gone = (what: string) => new DmaBufError('ENODEV', what, `the other end's realm is gone`);
    this.#goneReason(gone('send'));
    for (const call of this.#calls.values()) call.reject(gone('read or write'));
    this.#calls.clear();
    for (const ack of this.#acks.values()) ack.reject(gone('send'));
    this.#acks.clear();
    this.#grants.releaseAll();
    this.#fences.die();
    for (const stop of this.#proxyWatches.values()) stop();
    this.#proxyWatches.clear();
    for (const proxy of this.#proxies.values()) this.#realm.forgetProxy(proxy.buf);
    this.#inheritFrom?.closeAll();
    this.#inheritFrom = undefined;
    this.#inheriting?.reject(gone('inheritedFdTable'));
    this.#inheriting = undefined;
    this.#sink.ended('ENODEV');
    this.#end();
  }

  #maybeEnd(): void {
    // Not before the handshake: the peer learns of the shutdown only after it.
    if (!this.#socketClosed || this.#dead || !this.#open) return;
    if (this.#grants.size + this.#proxies.size + this.#calls.size + this.#acks.size + this.#fences.pending > 0) return;
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stopWatch?.();
    this.#endpoint.removeEventListener('message', this.#onMessage);
  }
}

/** Whether `value` can be an {@link MessageEndpoint}. */
export function isEndpoint(value: unknown): value is MessageEndpoint {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.postMessage === 'function' && typeof candidate.addEventListener === 'function' && typeof candidate.removeEventListener === 'function';
}
