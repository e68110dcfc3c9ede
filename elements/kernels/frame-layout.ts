import { DmabufElementError } from '../element-error.js';

/**
 * The layout of a video frame in a dma-buf, as the demo's exporters write it and its
 * importers read it: packed RGBA, 8 bits a channel, rows top to bottom with no padding.
 * Pixel `(x, y)` is the 32-bit word at byte `y * bytesPerRow + x * 4`, red in its lowest
 * byte (so a `u32` read in WGSL unpacks with `unpack4x8unorm`). Alpha is always 255.
 */
export interface FrameLayout {
  /** The only format so far: packed 8-bit RGBA. */
  readonly format: 'rgba8';
  /** Pixels in a row. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Bytes from one row to the next: `width * 4`. */
  readonly bytesPerRow: number;
  /** Bytes of the whole frame: `bytesPerRow * height`; the dma-buf's size. */
  readonly byteLength: number;
}

/**
 * The packed RGBA layout of a `width` x `height` frame.
 * @throws {DmabufElementError} `EINVAL` when a dimension is not a positive integer.
 */
export function rgbaFrameLayout(width: number, height: number): FrameLayout {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new DmabufElementError('EINVAL', 'rgbaFrameLayout', `width and height must be positive integers, got ${width} x ${height}`);
  }
  return { format: 'rgba8', width, height, bytesPerRow: width * 4, byteLength: width * height * 4 };
}
