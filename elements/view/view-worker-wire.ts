/**
 * What the view's worker entry (`view.worker.ts`) tells its element beside the host's own
 * messages, and the element's parsers of it: a frame's `capturedAt` crosses on the shared
 * clock (`toSharedClock`) and comes back on the page's.
 *
 * @module
 */
import type { FrameInfo } from '../frame/frame-info.js';
import { fromSharedClock } from '../worker/frame-link.js';
import { frameInfo, isNumber, isRecord } from '../worker/wire-fields.js';
import type { ViewCapture } from './view-capture.js';

/** The `'shown'` notice of a view's worker: a frame drawn, and its time from capture to display. */
export interface ViewShownNotice {
  /** The frame drawn, its `capturedAt` on the page's clock once parsed. */
  readonly frame: FrameInfo;
  /** Capture to display, in ms. */
  readonly latencyMs: number;
}

/** The notice in `detail`, on the page's clock, or `undefined` when it does not parse. */
export function parseShownNotice(detail: unknown): ViewShownNotice | undefined {
  if (!isRecord(detail) || !isNumber(detail.latencyMs)) return undefined;
  const frame = frameInfo(detail.frame);
  return frame ? { frame: fromSharedClock(frame), latencyMs: detail.latencyMs } : undefined;
}

/**
 * The capture in a view worker's answer, on the page's clock, or `undefined` when it does not
 * parse (pixels that are not the frame's RGBA bytes included).
 */
export function parseViewCapture(value: unknown): ViewCapture | undefined {
  if (!isRecord(value)) return undefined;
  const { pixels } = value;
  const frame = frameInfo(value.frame);
  if (!frame || !(pixels instanceof Uint8Array) || pixels.byteLength !== frame.layout.byteLength) return undefined;
  return { frame: fromSharedClock(frame), pixels };
}
