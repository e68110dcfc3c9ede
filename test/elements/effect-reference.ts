// The effects of the filter's compute shader, computed on the CPU in plain JavaScript: what
// the GPU's output is checked against. Same definitions as elements/kernels/frame-effect.ts says.
import type { FrameEffect } from '../../elements/kernels/frame-effect.js';

const luma = (rgba: Uint8Array, i: number) => 0.299 * (rgba[i] ?? 0) + 0.587 * (rgba[i + 1] ?? 0) + 0.114 * (rgba[i + 2] ?? 0);
const byte = (value: number) => Math.min(255, Math.max(0, Math.round(value)));

/** `effect` applied to a packed RGBA frame of `width` x `height`. */
export function applyEffect(effect: FrameEffect, rgba: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(rgba.length);
  const at = (x: number, y: number) => (Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))) * 4;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      let rgb: [number, number, number] = [rgba[i] ?? 0, rgba[i + 1] ?? 0, rgba[i + 2] ?? 0];
      if (effect === 'grayscale') {
        const l = luma(rgba, i);
        rgb = [l, l, l];
      } else if (effect === 'invert') {
        rgb = [255 - rgb[0], 255 - rgb[1], 255 - rgb[2]];
      } else if (effect === 'sobel') {
        const l = (dx: number, dy: number) => luma(rgba, at(x + dx, y + dy));
        const gx = l(1, -1) + 2 * l(1, 0) + l(1, 1) - (l(-1, -1) + 2 * l(-1, 0) + l(-1, 1));
        const gy = l(-1, 1) + 2 * l(0, 1) + l(1, 1) - (l(-1, -1) + 2 * l(0, -1) + l(1, -1));
        const m = Math.min(255, Math.hypot(gx, gy));
        rgb = [m, m, m];
      }
      out.set([byte(rgb[0]), byte(rgb[1]), byte(rgb[2]), 255], i);
    }
  }
  return out;
}

/** How far `actual` is from `expected` (RGB only): the largest and mean channel difference, and the share of pixels off by more than `slack`. */
export function compareRgb(actual: Uint8Array | Uint8ClampedArray, expected: Uint8Array, slack: number): { max: number; mean: number; offShare: number } {
  let max = 0;
  let sum = 0;
  let off = 0;
  const pixels = expected.length / 4;
  for (let p = 0; p < pixels; p++) {
    let worst = 0;
    for (let c = 0; c < 3; c++) {
      const d = Math.abs((actual[p * 4 + c] ?? 0) - (expected[p * 4 + c] ?? 0));
      sum += d;
      worst = Math.max(worst, d);
    }
    max = Math.max(max, worst);
    if (worst > slack) off += 1;
  }
  return { max, mean: sum / (pixels * 3), offShare: off / pixels };
}
