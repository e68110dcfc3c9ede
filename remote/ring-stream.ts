/**
 * The bytes of one connection's byte RPCs over the `'shared-memory'` transport: each end
 * writes through its own ring (`shared-ring.ts`) and reads the peer's. A payload goes out as
 * `chunk` messages, one per slot filled, then the message it belongs to (a `write` request or
 * a read's `reply`) with the count of bytes (`shared`); the peer puts a write's chunks
 * together in one array and hands a read's to the call as they come. Every message keeps its
 * place in the connection's order (`post-queue.ts`), chunks included.
 */
import type { DmaBufError } from '../src/error.js';
import { uncounted, type CountCopy } from './cpu-copies.js';
import type { PostQueue } from './post-queue.js';
import type { Message } from './protocol.js';
import { RingReader, RingWriter, type ByteSource } from './shared-ring.js';
import { WriteArrays } from './write-arrays.js';

/** A peer's write whose bytes are coming through the ring. */
interface IncomingWrite {
  /** `undefined` when no array of the announced size could be made: the write fails. */
  readonly bytes: Uint8Array | undefined;
  at: number;
  bad: boolean;
}

/** What the message that carries a payload holds of it: the bytes themselves, or their count in the ring. */
export interface Carried {
  readonly bytes: ArrayBuffer | null;
  readonly shared: number;
}

/** A payload to post: see {@link RingStream.post}. */
export interface Payload {
  /** The bytes, or where to copy them from piece by piece (straight into the ring's slots, or into one array for a message). */
  readonly bytes: Uint8Array | ByteSource;
  /** Whether they are the whole of an array of their own that may move to the peer (transfer); `false` for a source. */
  readonly owned: boolean;
  /** The call they belong to. */
  readonly call: number;
  /** Whose they are: the call's request (a write's data) or its reply (a read's answer). */
  readonly part: 'request' | 'reply';
  /** The message that carries them. */
  readonly build: (carried: Carried) => Message;
}

/** How a {@link RingStream} posts. */
export interface StreamPoster {
  /** Posts in the connection's order (after whatever streams before it). */
  readonly post: (message: Message, transfer: Transferable[]) => void;
  /** Posts now, from within a task of `queue`. */
  readonly postRaw: (message: Message) => void;
  /** The connection's order. */
  readonly queue: PostQueue;
  /** Counts the payload bytes copied: into the ring's slots, out of them, into a transferred array. Default: not counted. */
  readonly copied?: CountCopy;
}

/** The rings of one connection, and the payloads under way through them. */
export class RingStream {
  readonly #poster: StreamPoster;
  readonly #copied: CountCopy;
  #writer: RingWriter | undefined;
  #reader: RingReader | undefined;
  // The peer's writes whose bytes are coming through the ring, by the peer's call number.
  readonly #incoming = new Map<number, IncomingWrite>();
  // Where those writes are put together.
  readonly #arrays = new WriteArrays();
  // Rejects when the peer dies: a sender waiting for a ring slot stops waiting.
  readonly #gone: Promise<never>;
  #goneReason: (error: DmaBufError) => void = () => undefined;

  constructor(poster: StreamPoster) {
    this.#poster = poster;
    this.#copied = poster.copied ?? uncounted;
    this.#gone = new Promise<never>((_, reject) => {
      this.#goneReason = reject;
    });
    this.#gone.catch(() => undefined);
  }

  /** Whether the rings run (both ends offered one): the `'shared-memory'` transport. */
  get running(): boolean {
    return this.#writer !== undefined;
  }

  /** Runs the transport: this end writes through `own`, and reads the peer's `theirs`. */
  start(own: SharedArrayBuffer, theirs: SharedArrayBuffer): void {
    this.#writer = new RingWriter(own);
    this.#reader = new RingReader(theirs);
  }

  /**
   * Posts `payload`: through the ring when it runs (the chunks first, then the message),
   * else transferred in the message (the bytes themselves when `owned`, else a copy).
   * Resolves once the bytes are no longer read: copied out, or the peer is gone. Rejects, or
   * throws without a ring, with what a source's `copyTo` threw: the message is not posted then.
   */
  post(payload: Payload): Promise<void> {
    const { bytes, call, build } = payload;
    const writer = this.#writer;
    if (!writer) {
      // An owned array is a whole one of its own (see ServeDelivery): its memory moves.
      let out: ArrayBuffer;
      if (payload.owned && bytes instanceof Uint8Array) {
        out = bytes.buffer as ArrayBuffer;
      } else {
        const array = new Uint8Array(bytes.length);
        if (bytes instanceof Uint8Array) array.set(bytes);
        else bytes.copyTo(0, array);
        out = array.buffer;
        this.#copied(bytes.length);
      }
      this.#poster.post(build({ bytes: out, shared: 0 }), [out]);
      return Promise.resolve();
    }
    const total = bytes.length;
    const reply = payload.part === 'reply';
    // What a source threw while it was copied into a slot: the post rejects with it.
    let failure: { readonly error: Error } | undefined;
    const source: Uint8Array | ByteSource =
      bytes instanceof Uint8Array
        ? bytes
        : {
            length: total,
            copyTo: (at, into) => {
              try {
                bytes.copyTo(at, into);
              } catch (error) {
                failure = { error: error instanceof Error ? error : new Error(String(error)) };
                throw error;
              }
            },
          };
    const streamed = new Promise<void>((resolve, reject) => {
      this.#poster.queue.enqueue(async () => {
        try {
          await writer.write(source, (slot, len) => {
            this.#copied(len);
            this.#poster.postRaw({ kind: 'chunk', slot, len, call, reply, total });
          }, this.#gone);
          this.#poster.postRaw(build({ bytes: null, shared: total }));
        } finally {
          if (failure) reject(failure.error);
          else resolve();
        }
      });
    });
    // A task the peer's death dropped from the queue never runs: stop waiting for it then.
    return Promise.race([streamed, this.#gone.catch(() => undefined)]);
  }

  /**
   * A chunk in the peer's ring, of `total` bytes in all: a piece of the reply to this end's
   * read `call` (`reply`, handed to `toRead`), or of the peer's write `call`. Without a ring,
   * nothing.
   */
  chunk(slot: number, len: number, call: number, reply: boolean, total: number, toRead: (call: number, chunk: Uint8Array, total: number) => void): void {
    const reader = this.#reader;
    if (!reader) return;
    if (reply) {
      reader.take(slot, len, (chunk) => { toRead(call, chunk, total); });
      return;
    }
    reader.take(slot, len, (chunk) => {
      const into = this.#incoming.get(call) ?? this.#newIncoming(call, total);
      if (!into.bytes || total !== into.bytes.length || into.at + chunk.length > total) into.bad = true;
      else {
        into.bytes.set(chunk, into.at);
        this.#copied(chunk.length);
      }
      into.at += chunk.length;
    });
  }

  /** The `count` bytes the peer's write `call` sent through the ring; `undefined` when they do not add up (nothing is kept). */
  assembled(call: number, count: number): Uint8Array | undefined {
    const incoming = this.#incoming.get(call);
    this.#incoming.delete(call);
    if (!incoming?.bytes || incoming.bad || incoming.at !== count || count !== incoming.bytes.length) return undefined;
    return incoming.bytes;
  }

  /** Keeps the array of a peer's write that `assembled` gave, for the next: call it once its bytes are copied out. */
  keepSpare(bytes: Uint8Array): void {
    this.#arrays.keep(bytes);
  }

  /** The peer's realm is gone: payloads under way stop waiting with `error`, and the writes coming are dropped. */
  die(error: DmaBufError): void {
    this.#incoming.clear();
    this.#goneReason(error);
  }

  /** Where the peer's write `call` of `total` bytes is put together (`write-arrays.ts`). */
  #newIncoming(call: number, total: number): IncomingWrite {
    // Without bytes (more than this realm can hold) the write fails: each chunk and assembled check for them.
    const incoming: IncomingWrite = { bytes: this.#arrays.take(total), at: 0, bad: false };
    this.#incoming.set(call, incoming);
    return incoming;
  }
}
