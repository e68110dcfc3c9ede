import type { FrameInfo } from '../frame/frame-info.js';
import { frameInfo, isInt, isRecord } from './wire-fields.js';

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

/**
 * The frame-link message in `data`, or `undefined` for anything else (the socket's own, the
 * host's) and for a malformed one (an id that is no positive integer, an offer whose frame
 * info does not parse). Never throws.
 */
export function frameLinkMessage(data: unknown): FrameLinkMessage | undefined {
  try {
    if (!isRecord(data)) return undefined;
    const { dmabufFrame, id } = data;
    if (!isInt(id, 1)) return undefined;
    if (dmabufFrame === 'revoke' || dmabufFrame === 'done') return { dmabufFrame, id };
    const frame = dmabufFrame === 'offer' ? frameInfo(data.frame) : undefined;
    return frame ? { dmabufFrame: 'offer', id, frame } : undefined;
  } catch {
    // A getter that throws: not a message of ours.
    return undefined;
  }
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
