/**
 * A dma-buf's bytes laid out over one or more `GPUBuffer`s on one device, in order. The
 * storage on the exporter's device and every mirror on an importer's device is one of these;
 * each may be cut differently, because each device has its own limits.
 */

/** One `GPUBuffer` holding `length` bytes of the dma-buf from byte `start` on. */
export interface Segment {
  /** The buffer, on the device this layout is for. */
  readonly buffer: GPUBuffer;
  /** Where the segment starts in the dma-buf: a multiple of 256 (and of the buffer's `segmentAlign`). */
  readonly start: number;
  /** The dma-buf bytes it holds (the buffer itself is rounded up to a multiple of 4). */
  readonly length: number;
}

/** A piece of a byte range that lies in one segment. */
export interface SegmentPiece {
  readonly buffer: GPUBuffer;
  /** Offset of the piece inside `buffer`. */
  readonly offset: number;
  /** Where the piece starts in the dma-buf. */
  readonly at: number;
  readonly length: number;
}

/** Rounds up to a multiple of `unit`. */
export function alignUp(value: number, unit: number): number {
  return Math.ceil(value / unit) * unit;
}

/** Rounds down to a multiple of `unit`. */
export function alignDown(value: number, unit: number): number {
  return Math.floor(value / unit) * unit;
}

/** How `size` bytes are cut into segments of at most `segmentSize`: `[start, length]` pairs. */
export function segmentRanges(size: number, segmentSize: number): [start: number, length: number][] {
  const ranges: [number, number][] = [];
  for (let start = 0; start < size; start += segmentSize) ranges.push([start, Math.min(segmentSize, size - start)]);
  return ranges;
}

/**
 * Creates zero-filled buffers for `size` bytes on `device`, cut every `segmentSize` bytes
 * (see `layoutSegmentSize` in `segment-layout.ts`).
 * The caller owns them (see {@link destroySegments}). If a creation throws, the buffers made
 * so far are destroyed before the error is rethrown.
 */
export function createSegments(device: GPUDevice, size: number, usage: GPUBufferUsageFlags, label: string, segmentSize: number): Segment[] {
  const segments: Segment[] = [];
  try {
    for (const [start, length] of segmentRanges(size, segmentSize)) {
      const buffer = device.createBuffer({ size: alignUp(length, 4), usage, label: `${label} @${start}` });
      segments.push({ buffer, start, length });
    }
  } catch (error) {
    destroySegments(segments);
    throw error;
  }
  return segments;
}

/** Destroys every segment's buffer. */
export function destroySegments(segments: readonly Segment[]): void {
  for (const { buffer } of segments) buffer.destroy();
}

/** The bytes the segments' buffers take on the device. */
export function segmentBytes(segments: readonly Segment[]): number {
  return segments.reduce((sum, { buffer }) => sum + buffer.size, 0);
}

/**
 * The pieces of `[start, start + len)` in each segment, in order. Offsets and lengths stay
 * multiples of 4 when `start` and `len` are (segments start 256-aligned).
 */
export function* segmentPieces(segments: readonly Segment[], start: number, len: number): Generator<SegmentPiece> {
  const end = start + len;
  for (const segment of segments) {
    const from = Math.max(start, segment.start);
    const to = Math.min(end, segment.start + segment.buffer.size);
    if (from < to) yield { buffer: segment.buffer, offset: from - segment.start, at: from, length: to - from };
  }
}
