/**
 * The endpoint a connection runs on, and how a value passed as one is told to be one (the
 * socket's constructor refuses anything else).
 */

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

/** Whether `value` can be an {@link MessageEndpoint}. */
export function isEndpoint(value: unknown): value is MessageEndpoint {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.postMessage === 'function' && typeof candidate.addEventListener === 'function' && typeof candidate.removeEventListener === 'function';
}
