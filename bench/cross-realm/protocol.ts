/**
 * The messages of `map-cross-realm` between the page and its worker. Every operation of
 * every variant is one request and one reply, so each carries the same control message;
 * they share the worker's channel with the library's socket, which ignores them.
 */

/** What the page asks the worker; `id` numbers the request, the reply carries it back. */
export type CrossRealmRequest =
  /** Make the worker's device, its plain buffers, and attach the inherited fd `fd`. */
  | { readonly id: number; readonly op: 'setup'; readonly fd: number; readonly size: number; readonly shared: SharedArrayBuffer }
  /** Map the inherited buffer in `dir` and unmap it: the bytes cross at map or at unmap. */
  | { readonly id: number; readonly op: 'map'; readonly dir: 'to-device' | 'from-device' }
  /** `writeBuffer` the transferred `bytes` into the worker's buffer. */
  | { readonly id: number; readonly op: 'write-message'; readonly bytes: ArrayBuffer }
  /** `writeBuffer` the shared buffer's bytes into the worker's buffer. */
  | { readonly id: number; readonly op: 'write-shared' }
  /** Read the worker's buffer back and send its bytes, transferred. */
  | { readonly id: number; readonly op: 'read-message' }
  /** Read the worker's buffer back into the shared buffer. */
  | { readonly id: number; readonly op: 'read-shared' }
  /** Let go of the attachment and the fd, free the buffers and the device. */
  | { readonly id: number; readonly op: 'close' };

/** The worker's answer to request `id`, once the work it asked for is complete. */
export type CrossRealmReply =
  | { readonly id: number; readonly ok: true; readonly bytes?: ArrayBuffer }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** The request's op names. */
export type CrossRealmOp = CrossRealmRequest['op'];

const OPS: readonly string[] = ['setup', 'map', 'write-message', 'write-shared', 'read-message', 'read-shared', 'close'] satisfies readonly CrossRealmOp[];

/** Whether `data` is a {@link CrossRealmRequest} (the socket's own messages are not). */
export function isCrossRealmRequest(data: unknown): data is CrossRealmRequest {
  if (typeof data !== 'object' || data === null) return false;
  const { id, op } = data as { id?: unknown; op?: unknown };
  return typeof id === 'number' && typeof op === 'string' && OPS.includes(op);
}

/** Whether `data` is a {@link CrossRealmReply}. */
export function isCrossRealmReply(data: unknown): data is CrossRealmReply {
  if (typeof data !== 'object' || data === null) return false;
  const { id, ok } = data as { id?: unknown; ok?: unknown };
  return typeof id === 'number' && typeof ok === 'boolean';
}
