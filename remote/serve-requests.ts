/**
 * The peer's byte RPCs on the buffers this end granted it, as their messages come: each
 * names a grant the peer holds and a range inside the buffer, or is answered with an error
 * (`EBADF`, `EINVAL`) and changes nothing. The RPC itself runs as `serve.ts` says, entering
 * the buffer's reservation within the message's turn, so the peer's call order holds; its
 * `reply` carries a read's bytes (in the message or through the ring) or the error it failed
 * with. A write whose bytes came through the ring and do not add up fails with `EIO`.
 */
import { DmaBufError } from '../src/error.js';
import type { CountCopy } from './cpu-copies.js';
import type { FenceLink } from './fence-link.js';
import type { Grants } from './grants.js';
import type { Message, WireError } from './protocol.js';
import type { RingStream } from './ring-stream.js';
import { serveRead, serveWrite } from './serve.js';

/** A `write` message as the wire carries it. */
type WriteRequest = Extract<Message, { kind: 'write' }>;

/** What the server needs of its connection. */
export interface RequestServerPorts {
  /** The grants the peer holds. */
  readonly grants: Grants;
  /** The connection's fences: what serving adds is the peer's own (`FenceLink.quietly`). */
  readonly fences: FenceLink;
  /** The connection's bytes: a read's answer goes out through it, a write's may come through the ring. */
  readonly stream: RingStream;
  /** Posts a reply in the connection's order. */
  readonly reply: (message: Message) => void;
  /** Counts the payload bytes serving copies between the buffers' pages and arrays. Default: not counted. */
  readonly copied?: CountCopy;
}

/** What a `reply` carries for a thrown error. */
function wireErrorOf(error: unknown): WireError {
  if (error instanceof DmaBufError) return { code: error.code, call: error.call, reason: error.reason };
  return { code: 'EIO', call: 'serve', reason: error instanceof Error ? error.message : String(error) };
}

/** Serves the peer's byte RPCs on one connection. */
export class RequestServer {
  readonly #ports: RequestServerPorts;

  constructor(ports: RequestServerPorts) {
    this.#ports = ports;
  }

  /** The peer's `read` of `[start, start + len)` of its grant `grant`, numbered `call`. */
  read(call: number, grant: number, start: number, len: number): void {
    void this.#serve(call, grant, start, len, undefined);
  }

  /** The peer's `write`: its bytes in the message, or come before it through the ring. */
  write(request: WriteRequest): void {
    const { call } = request;
    const bytes = request.bytes ? new Uint8Array(request.bytes) : this.#ports.stream.assembled(call, request.shared);
    if (!bytes) {
      this.#ports.reply({ kind: 'reply', call, bytes: null, shared: 0, error: { code: 'EIO', call: 'write', reason: "the bytes did not come through the sender's ring" } });
      return;
    }
    const served = this.#serve(call, request.grant, request.start, bytes.length, bytes);
    // The bytes are copied into the buffer once it has been served: the array may serve the next write.
    if (!request.bytes) void served.then(() => { this.#ports.stream.keepSpare(bytes); });
  }

  /** Serves a byte RPC of the peer; resolves once it has run (answered or failed). */
  #serve(call: number, id: number, start: number, len: number, bytes: Uint8Array | undefined): Promise<void> {
    const { grants, fences, stream, reply, copied } = this.#ports;
    const grant = grants.find(id);
    const fail = (error: unknown) => { reply({ kind: 'reply', call, bytes: null, shared: 0, error: wireErrorOf(error) }); };
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
      ? serveWrite(grant.buf, start, bytes, fences, copied).then(() => { reply({ kind: 'reply', call, bytes: null, shared: 0, error: null }); })
      : serveRead(grant.buf, start, len, fences, (out, owned) => stream.post({ bytes: out, owned, call, part: 'reply', build: (carried) => ({ kind: 'reply', call, ...carried, error: null }) }));
    // A read that fails after its bytes went out answers twice: the peer takes the first.
    return served.catch(fail);
  }
}
