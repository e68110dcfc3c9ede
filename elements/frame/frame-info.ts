import type { FrameLayout } from '../kernels/frame-layout.js';

/**
 * What travels with a frame's fd: how to read the buffer, and where the frame came from.
 * Plain data; the bytes are only reachable through the fd.
 */
export interface FrameInfo {
  /** How the dma-buf's bytes are laid out (packed RGBA). */
  readonly layout: FrameLayout;
  /** The exporter's own frame counter, from 1. */
  readonly sequence: number;
  /** The camera frame this one was made from (its `sequence`); for the camera, `sequence`. */
  readonly origin: number;
  /** `performance.now()` when the camera captured the origin frame. */
  readonly capturedAt: number;
  /** The exporting module's name. */
  readonly exporter: string;
}

/**
 * An importer's hold on one frame: the fd, in the importer's own table, and the call that
 * gives the frame back. Until {@link release}, the exporter never writes that ring slot
 * again. The importer must release every lease it takes (after it has unmapped, detached
 * and put what it got from the fd), exactly as a process closes an fd.
 */
export interface FrameLease {
  /** The frame's fd in the importer's table. */
  readonly fd: number;
  /** What travels with the fd: the frame's layout and where it came from. */
  readonly frame: FrameInfo;
  /**
   * Aborted when the exporter stops and wants its buffers back. An importer that keeps the
   * lease after its work is done (a view keeping the frame on screen) releases it then.
   */
  readonly signal: AbortSignal;
  /** Closes the fd in the importer's table and frees the slot for the exporter. Safe to call twice. */
  release(): void;
}
