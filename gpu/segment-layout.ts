/**
 * How a dma-buf's bytes may be cut into segments, as its allocator asked
 * (`GpuHeap.allocate(size, { contiguous, segmentAlign })`), and the segment size that keeps
 * that promise on one device. The storage and every mirror follow the same layout, each cut
 * by its own device's limits, so what an importer binds is shaped alike on every device.
 */
import { deviceLabel } from '../src/device-label.js';
import { DmaBufError } from '../src/error.js';
import type { SegmentLayout } from '../src/segment-layout.js';

export { FREE_LAYOUT, type SegmentLayout } from '../src/segment-layout.js';

/** Where every segment starts in the dma-buf: a multiple of this (the storage offset alignment WebGPU guarantees, and copy-friendly). */
export const SEGMENT_START_ALIGN = 256;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The device limit that bounds one storage segment, by name, with its value. */
function bindingLimit(device: GPUDevice): { name: string; value: number } {
  const { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } = device.limits;
  return binding <= buffer ? { name: 'maxStorageBufferBindingSize', value: binding } : { name: 'maxBufferSize', value: buffer };
}

/**
 * The segment size to cut `size` bytes into on `device` under `layout`: every segment but
 * the last has this length (a contiguous buffer: one segment of `size`). `cap` is the heap's
 * `maxSegmentBytes`, which a contiguous buffer does not obey (it asked for one piece).
 * @throws {DmaBufError} `ENOMEM` naming the device limit when a contiguous buffer is larger
 *   than one segment can be there; `EINVAL` when `layout.align` makes the smallest segment
 *   boundary (its least common multiple with 256) larger than a segment can be, while the
 *   buffer needs more than one.
 */
export function layoutSegmentSize(call: string, device: GPUDevice, size: number, layout: SegmentLayout, cap = Infinity): number {
  const limit = bindingLimit(device);
  // Storage bindings and buffers hold whole words: the one segment takes size rounded up to 4.
  const bytes = Math.ceil(size / 4) * 4;
  if (layout.contiguous) {
    if (bytes > limit.value) {
      throw new DmaBufError('ENOMEM', call, `a contiguous buffer of ${size} bytes does not fit one segment on ${deviceLabel(device)}, whose ${limit.name} is ${limit.value}`);
    }
    return size;
  }
  const unit = (layout.align / gcd(layout.align, SEGMENT_START_ALIGN)) * SEGMENT_START_ALIGN;
  const bound = Math.min(limit.value, cap);
  const segmentSize = Math.floor(bound / unit) * unit;
  if (segmentSize > 0) return segmentSize;
  if (bytes <= Math.floor(bound / SEGMENT_START_ALIGN) * SEGMENT_START_ALIGN) return size;
  const boundName = cap < limit.value ? `the heap's maxSegmentBytes (${cap})` : `the ${limit.name} of ${deviceLabel(device)} (${limit.value})`;
  throw new DmaBufError(
    'EINVAL',
    call,
    `segmentAlign ${layout.align} puts segment boundaries on multiples of ${unit} bytes (its least common multiple with the ${SEGMENT_START_ALIGN}-byte segment start alignment), more than one segment can hold under ${boundName}; a buffer of ${size} bytes needs more than one`,
  );
}
