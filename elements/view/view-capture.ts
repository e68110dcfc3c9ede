import type { FrameInfo } from '../frame/frame-info.js';

/** What `DmabufView.capture` (and `ViewRenderer.capture`) read back: plain data, the caller's. */
export interface ViewCapture {
  /** The frame on screen. */
  readonly frame: FrameInfo;
  /** The canvas's pixels, RGBA, rows top to bottom with no padding. */
  readonly pixels: Uint8Array;
}
