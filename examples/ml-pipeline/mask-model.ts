/**
 * The ML module's model, in TensorFlow.js ops only, so that the same code runs on the WebGPU
 * backend in the page and on the CPU backend as the reference: a soft mask of the bright
 * regions of a frame (luminance, smoothed over 3 × 3 pixels, through a steep sigmoid), and
 * the frame with the mask tinted over it.
 */
import * as tf from '@tensorflow/tfjs-core';

/** How much of the tint a fully masked pixel takes. */
export const TINT_STRENGTH = 0.6;
/** The tint's red, green and blue. */
export const TINT = [255, 64, 160] as const;

/** What {@link maskOverFrame} makes of one frame; the caller disposes of both tensors. */
export interface MaskedFrame {
  /** One value in [0, 1] per pixel, `[height, width]`. */
  readonly mask: tf.Tensor2D;
  /** The frame with the mask tinted over it, packed RGBA as the input (alpha 255), `[height, width]` int32. */
  readonly composite: tf.Tensor2D;
}

/**
 * Runs the model on `pixels`: a frame of packed 8-bit RGBA, one int32 per pixel with red in
 * its lowest byte (the elements' `FrameLayout`), `[height, width]`. Runs on TensorFlow.js's
 * active backend; disposes of every intermediate tensor.
 */
export function maskOverFrame(pixels: tf.Tensor2D): MaskedFrame {
  return tf.tidy(() => {
    // A channel of every pixel, 0..255: floor division and floor modulo take the byte out of
    // a word whose top byte (alpha 255) makes it negative as an int32.
    const channel = (index: number) => tf.cast(tf.mod(tf.floorDiv(pixels, tf.scalar(2 ** (8 * index), 'int32')), tf.scalar(256, 'int32')), 'float32');
    const [r, g, b] = [channel(0), channel(1), channel(2)];
    const luminance = tf.addN([tf.mul(r, 0.299 / 255), tf.mul(g, 0.587 / 255), tf.mul(b, 0.114 / 255)]);
    const [height, width] = pixels.shape;
    const smooth = tf.avgPool(tf.reshape<tf.Rank.R4>(luminance, [1, height, width, 1]), 3, 1, 'same');
    const mask = tf.reshape(tf.sigmoid(tf.mul(tf.sub(smooth, 0.5), 12)), [height, width]);
    const weight = tf.mul(mask, TINT_STRENGTH);
    const keep = tf.sub(1, weight);
    const tinted = (c: tf.Tensor, tint: number) => tf.cast(tf.round(tf.add(tf.mul(c, keep), tf.mul(weight, tint))), 'int32');
    // Alpha 255 in the top byte: 255 << 24 is -2^24 as an int32, so the sum never overflows.
    const composite = tf.addN([tinted(r, TINT[0]), tf.mul(tinted(g, TINT[1]), tf.scalar(256, 'int32')), tf.mul(tinted(b, TINT[2]), tf.scalar(65536, 'int32')), tf.fill([height, width], -(2 ** 24), 'int32')]);
    return { mask: mask as tf.Tensor2D, composite: composite as tf.Tensor2D };
  });
}
