import type { FrameInfo } from '../frame/frame-info.js';

/**
 * What a {@link FrameSender} and a {@link FrameReceiver} say to each other beside the fds,
 * as plain messages on the channel their `FdSocket` runs on (the socket ignores them). Each
 * `offer` is followed on the socket by exactly one fd, so offers and fds pair up in order.
 * An offer's `capturedAt` is on the shared clock ({@link toSharedClock}).
 */
export type FrameLinkMessage =
  | { readonly dmabufFrame: 'offer'; readonly id: number; readonly frame: FrameInfo }
  | { readonly dmabufFrame: 'revoke'; readonly id: number }
  | { readonly dmabufFrame: 'done'; readonly id: number };

/** The channel a frame link speaks on: a `Worker`, a worker's global scope or a `MessagePort`. */
export interface FrameLinkEndpoint {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/** The frame-link message in `data`, or `undefined` for anything else (the socket's own, or the host's). */
export function frameLinkMessage(data: unknown): FrameLinkMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { dmabufFrame, id } = data as { dmabufFrame?: unknown; id?: unknown };
  if (typeof id !== 'number') return undefined;
  return dmabufFrame === 'offer' || dmabufFrame === 'revoke' || dmabufFrame === 'done' ? (data as FrameLinkMessage) : undefined;
}

/**
 * A `performance.now()` of this realm on the clock every realm shares (ms since the epoch):
 * each realm's `performance.now()` counts from its own `timeOrigin`, a worker's later than
 * its page's.
 */
export function toSharedClock(frame: FrameInfo): FrameInfo {
  return { ...frame, capturedAt: frame.capturedAt + performance.timeOrigin };
}

/** A frame whose `capturedAt` is on the shared clock, back on this realm's `performance.now()`. */
export function fromSharedClock(frame: FrameInfo): FrameInfo {
  return { ...frame, capturedAt: frame.capturedAt - performance.timeOrigin };
}
