/**
 * The wire format between two realms' ends of an {@link FdSocket}: what each message holds,
 * and the one parser every incoming message goes through. A message that is not the
 * library's (no marker) or is malformed in any way (a wrong type, an unknown kind, a number
 * out of range, a string too long) parses to `undefined` and is ignored: nothing a peer
 * posts can change state unless it is well formed, and even then only what that peer was
 * given (its grants) can be named.
 *
 * Messages, by who sends them:
 * - both ends: `hello` (the realm's liveness name and, offering the `'shared-memory'`
 *   transport, the ring its bytes will come through; answered once with `reply: true`),
 *   `shutdown` (this end's socket is closed: no more fds will be received there) and `chunk`
 *   (the next piece of the bytes of call `call`'s request, or of its `reply`, `total` bytes
 *   in all, in a slot of the sender's ring);
 * - the sender of an fd: `fd` (a grant of one reference on a buffer to the peer) and, from
 *   `spawnWorker`'s parent, `inherit` (the child's starting fds, at their numbers);
 * - the receiver: `ack` (it holds its own reference now, or refused: then it took nothing)
 *   and `drop` (it gives back `count` of the sends of a grant it took);
 * - an importer's proxy: `read` and `write` (byte RPCs on a granted buffer), answered by
 *   `reply` with the bytes or an error. Bytes travel in the message (a transferred
 *   `ArrayBuffer`) or, with shared memory, as the `shared` bytes of the `chunk`s before it;
 * - both ends, for the buffers they share: `fence` (a fence joined the buffer's reservation;
 *   `mine` says the grant is the sender's) and `signal` (a fence sent before signalled), as
 *   `fence-link.ts` says. A buffer sent carries the fences pending on it (`GrantInfo.fences`).
 *
 * @module
 */
import { DMA_BUF_NAME_MAX } from '../src/dma-buf.js';
import type { DmaBufErrorCode } from '../src/error.js';
import type { DmaResvUsage } from '../src/dma-resv.js';
import type { SegmentLayout } from '../src/segment-layout.js';
import type { WireFence } from './fence-link.js';
import { RING_BYTES, RING_SLOTS, SLOT_BYTES } from './shared-ring.js';

/** The marker every message of the library carries, with the protocol's version. */
export const MARKER = 'webgpu-dmabuf/fd-socket@1';

/** The longest buffer key and realm name accepted (both are random, far shorter). */
const MAX_NAME = 128;
/** The most fds one `inherit` may carry (a process's usual fd limit). */
const MAX_INHERITED = 1024;
/** The most pending fences one buffer sent may carry. */
const MAX_FENCES = 1024;
const USAGES: ReadonlySet<string> = new Set<DmaResvUsage>(['kernel', 'write', 'read', 'bookkeep']);

const CODES: ReadonlySet<string> = new Set<DmaBufErrorCode>(['EINVAL', 'EBADF', 'EBUSY', 'ERANGE', 'ENOMEM', 'ENODEV', 'EIO']);

/** What the receiver of a grant learns of the buffer. */
export interface GrantInfo {
  /** The grant's number, meaningful only on this connection and only to its receiver. */
  readonly grant: number;
  /** The buffer's key, the same in every realm (so a realm given it twice makes one proxy). */
  readonly key: string;
  /** The buffer's size in bytes. */
  readonly size: number;
  /** Its name for debug listings, `null` when unset. */
  readonly name: string | null;
  /** Its exporter's name for debug listings. */
  readonly exporter: string;
  /** The fences pending in its reservation when it was sent. */
  readonly fences: readonly WireFence[];
  /** How its exporter cuts it into segments: mirrors in the receiving realm keep it too. */
  readonly layout: SegmentLayout;
}

/** The error a `reply` carries. */
export interface WireError {
  /** The `DmaBufError` code. */
  readonly code: DmaBufErrorCode;
  /** Its `call`. */
  readonly call: string;
  /** Its `reason`. */
  readonly reason: string;
}

/** Every message of the protocol, after parsing. */
export type Message =
  | { readonly kind: 'hello'; readonly realm: string; readonly reply: boolean; readonly inherit: boolean; readonly ring: SharedArrayBuffer | null }
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'chunk'; readonly slot: number; readonly len: number; readonly call: number; readonly reply: boolean; readonly total: number }
  | { readonly kind: 'fd'; readonly seq: number; readonly info: GrantInfo }
  | { readonly kind: 'inherit'; readonly seq: number; readonly fds: readonly { readonly fd: number; readonly info: GrantInfo }[] }
  | { readonly kind: 'ack'; readonly seq: number; readonly ok: boolean }
  | { readonly kind: 'drop'; readonly grant: number; readonly count: number }
  | { readonly kind: 'read'; readonly call: number; readonly grant: number; readonly start: number; readonly len: number }
  | { readonly kind: 'write'; readonly call: number; readonly grant: number; readonly start: number; readonly bytes: ArrayBuffer | null; readonly shared: number }
  | { readonly kind: 'reply'; readonly call: number; readonly bytes: ArrayBuffer | null; readonly shared: number; readonly error: WireError | null }
  | { readonly kind: 'fence'; readonly grant: number; readonly mine: boolean; readonly fence: WireFence }
  | { readonly kind: 'signal'; readonly fence: number; readonly error: DmaBufErrorCode | null };

/** A message as posted: the marker beside the fields. */
export type Wire = Message & { readonly dmabuf: typeof MARKER };

/** Adds the marker to `message`. */
export function wire(message: Message): Wire {
  return { dmabuf: MARKER, ...message };
}

type Fields = Readonly<Record<string, unknown>>;

const isRecord = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isInt = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
const isName = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME;

function wireFence(value: unknown): WireFence | undefined {
  if (!isRecord(value)) return undefined;
  const { id, usage, back } = value;
  return isInt(id, 1) && typeof usage === 'string' && USAGES.has(usage) && typeof back === 'boolean' ? { id, usage: usage as DmaResvUsage, back } : undefined;
}

function wireFences(value: unknown): WireFence[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_FENCES) return undefined;
  const fences: WireFence[] = [];
  for (const entry of value as unknown[]) {
    const fence = wireFence(entry);
    if (!fence) return undefined;
    fences.push(fence);
  }
  return fences;
}

function wireLayout(value: unknown): SegmentLayout | undefined {
  if (!isRecord(value)) return undefined;
  const { contiguous, align } = value;
  return typeof contiguous === 'boolean' && isInt(align, 1) ? { contiguous, align } : undefined;
}

function grantInfo(value: unknown): GrantInfo | undefined {
  if (!isRecord(value)) return undefined;
  const { grant, key, size, name, exporter } = value;
  if (!isInt(grant, 1) || !isName(key) || !isInt(size, 1)) return undefined;
  if (name !== null && (typeof name !== 'string' || new TextEncoder().encode(name).length > DMA_BUF_NAME_MAX)) return undefined;
  if (typeof exporter !== 'string' || exporter.length > MAX_NAME) return undefined;
  const fences = wireFences(value.fences);
  const layout = wireLayout(value.layout);
  return fences && layout ? { grant, key, size, name, exporter, fences, layout } : undefined;
}

function wireError(value: unknown): WireError | undefined {
  if (!isRecord(value)) return undefined;
  const { code, call, reason } = value;
  if (typeof code !== 'string' || !CODES.has(code) || typeof call !== 'string' || typeof reason !== 'string') return undefined;
  return { code: code as DmaBufErrorCode, call: call.slice(0, 100), reason: reason.slice(0, 1000) };
}

function inherited(value: unknown): { fd: number; info: GrantInfo }[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_INHERITED) return undefined;
  const fds: { fd: number; info: GrantInfo }[] = [];
  const seen = new Set<number>();
  for (const entry of value as unknown[]) {
    if (!isRecord(entry) || !isInt(entry.fd, 0) || seen.has(entry.fd)) return undefined;
    const info = grantInfo(entry.info);
    if (!info) return undefined;
    seen.add(entry.fd);
    fds.push({ fd: entry.fd, info });
  }
  return fds;
}

/**
 * The message `data` holds, or `undefined` when it is not the library's or is malformed in
 * any way. Never throws; reads each field once, so a getter cannot answer two ways.
 */
export function parse(data: unknown): Message | undefined {
  if (!isRecord(data) || data.dmabuf !== MARKER) return undefined;
  try {
    return parseFields(data);
  } catch {
    // A proxy or a getter that throws: not a message of ours.
    return undefined;
  }
}

function parseFields(data: Fields): Message | undefined {
  switch (data.kind) {
    case 'hello': {
      const { realm, reply, inherit, ring } = data;
      const isRing = ring === null || (typeof SharedArrayBuffer === 'function' && ring instanceof SharedArrayBuffer && ring.byteLength === RING_BYTES);
      return isName(realm) && typeof reply === 'boolean' && typeof inherit === 'boolean' && isRing ? { kind: 'hello', realm, reply, inherit, ring } : undefined;
    }
    case 'shutdown':
      return { kind: 'shutdown' };
    case 'chunk': {
      const { slot, len, call, reply, total } = data;
      const ok = isInt(slot, 0) && slot < RING_SLOTS && isInt(len, 1) && len <= SLOT_BYTES && isInt(call, 1) && typeof reply === 'boolean' && isInt(total, len);
      return ok ? { kind: 'chunk', slot, len, call, reply, total } : undefined;
    }
    case 'fd': {
      const { seq } = data;
      const info = grantInfo(data.info);
      return isInt(seq, 1) && info ? { kind: 'fd', seq, info } : undefined;
    }
    case 'inherit': {
      const { seq } = data;
      const fds = inherited(data.fds);
      return isInt(seq, 1) && fds ? { kind: 'inherit', seq, fds } : undefined;
    }
    case 'ack': {
      const { seq, ok } = data;
      return isInt(seq, 1) && typeof ok === 'boolean' ? { kind: 'ack', seq, ok } : undefined;
    }
    case 'drop': {
      const { grant, count } = data;
      return isInt(grant, 1) && isInt(count, 1) ? { kind: 'drop', grant, count } : undefined;
    }
    case 'read': {
      const { call, grant, start, len } = data;
      return isInt(call, 1) && isInt(grant, 1) && isInt(start, 0) && isInt(len, 1) ? { kind: 'read', call, grant, start, len } : undefined;
    }
    case 'write': {
      const { call, grant, start, bytes, shared } = data;
      // The bytes in the message, or as `shared` bytes of the chunks before it; never both.
      const carried = bytes instanceof ArrayBuffer ? bytes.byteLength > 0 && shared === 0 : bytes === null && isInt(shared, 1);
      const ok = isInt(call, 1) && isInt(grant, 1) && isInt(start, 0) && isInt(shared, 0) && carried;
      return ok ? { kind: 'write', call, grant, start, bytes: bytes instanceof ArrayBuffer ? bytes : null, shared } : undefined;
    }
    case 'reply': {
      const { call, bytes, shared } = data;
      const error = data.error === null ? null : wireError(data.error);
      if (!isInt(call, 1) || !isInt(shared, 0) || error === undefined || (bytes !== null && !(bytes instanceof ArrayBuffer))) return undefined;
      // Bytes (a read's answer, in the message or shared), an error, or neither (a write's answer); never two.
      if ([bytes !== null, shared > 0, error !== null].filter(Boolean).length > 1) return undefined;
      return { kind: 'reply', call, bytes, shared, error };
    }
    case 'fence': {
      const { grant, mine } = data;
      const fence = wireFence(data.fence);
      return isInt(grant, 1) && typeof mine === 'boolean' && fence ? { kind: 'fence', grant, mine, fence } : undefined;
    }
    case 'signal': {
      const { fence, error } = data;
      const ok = isInt(fence, 1) && (error === null || (typeof error === 'string' && CODES.has(error)));
      return ok ? { kind: 'signal', fence, error: error as DmaBufErrorCode | null } : undefined;
    }
    default:
      return undefined;
  }
}
