/**
 * How an exporter promises to cut a buffer's bytes into segments, on every device it maps
 * on: what `GpuHeap.allocate(size, { contiguous, segmentAlign })` asks for. The contract
 * carries it with the buffer (`DmaBuf.layout`), so that it crosses realms with an fd and an
 * importing realm's mirrors keep it too.
 */
import { booleanOption, checkInteger, checkOptions } from './checks.js';

/** What a buffer's segments promise. */
export interface SegmentLayout {
  /** One segment for the whole buffer, on every device, or the allocation (or attach) fails. */
  readonly contiguous: boolean;
  /** Segment boundaries fall on multiples of this many bytes (1: anywhere the 256-byte rule allows). */
  readonly align: number;
}

/** The layout of a buffer exported without one: segments cut wherever a device needs. */
export const FREE_LAYOUT: SegmentLayout = Object.freeze({ contiguous: false, align: 1 });

/**
 * Reads a layout given to `call`: `undefined` is {@link FREE_LAYOUT}.
 * @throws {DmaBufError} `EINVAL` for something that is not `{ contiguous: boolean, align: positive integer }`.
 */
export function checkLayout(call: string, value: unknown): SegmentLayout {
  if (value === undefined) return FREE_LAYOUT;
  const bag = checkOptions(`${call}: layout`, value);
  const contiguous = booleanOption(`${call}: layout`, bag, 'contiguous', false);
  const align = bag.align ?? 1;
  checkInteger(`${call}: layout`, 'align', align, 1);
  return !contiguous && align === 1 ? FREE_LAYOUT : Object.freeze({ contiguous, align });
}
