/**
 * CPU access to a dma-buf on the GPU: the staging behind `beginCpuAccess`, the page windows
 * of `kmap`, and the exact write-back of `endCpuAccess`.
 */
import type { DmaDirection } from '../src/direction.js';
import { PAGE_SIZE } from '../src/page.js';
import { alignDown, alignUp, segmentPieces, type Segment } from './segments.js';
import type { StagingPool } from './staging-pool.js';
import { patchWords, wordPatch, type WordPatch } from './word-patch.js';

/** One staging buffer of a window, mapped, holding the dma-buf's bytes from `at` on. */
interface Span {
  readonly staging: GPUBuffer | undefined;
  readonly at: number;
  readonly bytes: ArrayBuffer;
}

/** The staged bytes of one active `beginCpuAccess`. */
export interface CpuWindow {
  readonly start: number;
  readonly len: number;
  readonly dir: DmaDirection;
  readonly spans: readonly Span[];
}

/** What staging needs of the buffer and its heap. */
export interface CpuWindowContext {
  readonly device: GPUDevice;
  readonly segments: readonly Segment[];
  readonly size: number;
  readonly pool: StagingPool;
  /** The dma-buf the window belongs to: staging it used last holds no one else's bytes. */
  readonly owner: object;
}

const readsBack = (dir: DmaDirection) => dir === 'from-device' || dir === 'bidirectional';
const writesBack = (dir: DmaDirection) => dir === 'to-device' || dir === 'bidirectional';

/** Up to this many bytes, a write-only window is plain memory flushed with `writeBuffer`. */
const SMALL_WRITE_BYTES = 2 * 1024 * 1024;

/**
 * Stages the page-aligned cover of `[start, start + len)`: copied into mapped `MAP_READ`
 * staging when the CPU reads (`'from-device'`, `'bidirectional'`); when it only writes
 * (`'to-device'`), zeroed plain memory up to 2 MiB, else mapped `MAP_WRITE` staging, zeroed
 * unless it last held this buffer's own bytes; plain zeroed memory for `'none'`. Returns the
 * number of bytes copied with the window. Rejects with the `mapAsync` error when the device
 * fails; its staging is discarded then.
 */
export async function beginWindow(context: CpuWindowContext, start: number, len: number, dir: DmaDirection): Promise<{ window: CpuWindow; copied: number }> {
  const { device, segments, size, pool, owner } = context;
  const coverStart = alignDown(start, PAGE_SIZE);
  const coverEnd = alignUp(Math.min(alignUp(start + len, PAGE_SIZE), size), 4);
  // Nothing to read: plain memory needs no GPU round trip, and writeBuffer beats mapping a
  // MAP_WRITE buffer up to a few MiB.
  if (dir === 'none' || (dir === 'to-device' && coverEnd - coverStart <= SMALL_WRITE_BYTES)) {
    return { window: { start, len, dir, spans: [{ staging: undefined, at: coverStart, bytes: pool.acquireHost(coverEnd - coverStart) }] }, copied: 0 };
  }
  const spanMax = alignDown(device.limits.maxBufferSize, PAGE_SIZE);
  const reading = readsBack(dir);
  const parts: { staging: GPUBuffer; dirty: boolean; at: number; length: number }[] = [];
  for (let at = coverStart; at < coverEnd; at += spanMax) {
    const length = Math.min(spanMax, coverEnd - at);
    const { buffer: staging, dirty } = pool.acquireFor(owner, device, reading ? 'read' : 'write', length);
    parts.push({ staging, dirty, at, length });
  }
  if (reading) {
    const encoder = device.createCommandEncoder({ label: 'dmabuf beginCpuAccess' });
    for (const part of parts) {
      for (const piece of segmentPieces(segments, part.at, part.length)) {
        encoder.copyBufferToBuffer(piece.buffer, piece.offset, part.staging, piece.at - part.at, piece.length);
      }
    }
    device.queue.submit([encoder.finish()]);
  }
  try {
    const mode = reading ? GPUMapMode.READ : GPUMapMode.WRITE;
    await Promise.all(parts.map((part) => part.staging.mapAsync(mode, 0, part.length)));
  } catch (error) {
    for (const part of parts) pool.discard(part.staging);
    throw error;
  }
  const spans = parts.map(({ staging, dirty, at, length }) => {
    const bytes = staging.getMappedRange(0, length);
    // A pooled write buffer still holds its last user's bytes: never show another buffer's.
    if (!reading && dirty) new Uint8Array(bytes).fill(0);
    return { staging, at, bytes };
  });
  return { window: { start, len, dir, spans }, copied: reading ? coverEnd - coverStart : 0 };
}

/** The window on `page`: its bytes in the staging, `PAGE_SIZE` long or up to the buffer's end; `undefined` when not staged here. */
export function windowView(window: CpuWindow, page: number, size: number): Uint8Array | undefined {
  const at = page * PAGE_SIZE;
  for (const span of window.spans) {
    if (at >= span.at && at < span.at + span.bytes.byteLength) return new Uint8Array(span.bytes, at - span.at, Math.min(PAGE_SIZE, size - at));
  }
  return undefined;
}

/** The byte at dma-buf offset `at`, as the window holds it. */
function byteAt(window: CpuWindow, at: number): number {
  const span = window.spans.find((s) => at >= s.at && at < s.at + s.bytes.byteLength);
  return span ? (new Uint8Array(span.bytes, at - span.at, 1)[0] ?? 0) : 0;
}

/**
 * Ends the window: writes back exactly `[start, start + len)` when its direction writes
 * (whole words by copy, the partial words at either end by {@link patchWords}), queued on
 * the device before anything later, then gives the staging back. Returns the bytes written.
 */
export function endWindow(context: CpuWindowContext, window: CpuWindow): number {
  const { device, segments, pool } = context;
  const { start, len, dir } = window;
  let written = 0;
  if (writesBack(dir)) {
    const end = start + len;
    const inner = [alignUp(start, 4), alignDown(end, 4)] as const;
    const patches = edgePatches(window, start, end);
    if (inner[0] < inner[1]) {
      if (window.spans.every((span) => span.staging) && !readsBack(dir)) copyInner(device, segments, window, inner[0], inner[1]);
      else writeInner(device, segments, window, inner[0], inner[1]);
    }
    for (const segment of segments) {
      const own = patches.filter((p) => p.at >= segment.start && p.at < segment.start + segment.buffer.size);
      patchWords(device, segment.buffer, own.map((p) => ({ ...p.patch, word: (p.at - segment.start) / 4 })));
    }
    written = len;
  }
  releaseSpans(pool, window);
  return written;
}

/** The partial words at the ends of `[start, end)`, with the window's bytes for them. */
function edgePatches(window: CpuWindow, start: number, end: number): { at: number; patch: WordPatch }[] {
  const words = new Set<number>();
  if (start % 4 !== 0) words.add(alignDown(start, 4));
  if (end % 4 !== 0) words.add(alignDown(end, 4));
  return [...words].map((at) => {
    const from = Math.max(start, at) - at;
    const to = Math.min(end, at + 4) - at;
    const bytes = Array.from({ length: to - from }, (_, k) => byteAt(window, at + from + k));
    return { at, patch: wordPatch(0, from, to, bytes) };
  });
}

/** Whole words of a write-only window: unmap its `MAP_WRITE` staging and copy on the GPU. */
function copyInner(device: GPUDevice, segments: readonly Segment[], window: CpuWindow, from: number, to: number): void {
  const encoder = device.createCommandEncoder({ label: 'dmabuf endCpuAccess' });
  for (const span of window.spans) {
    if (!span.staging) continue;
    const a = Math.max(from, span.at);
    const b = Math.min(to, span.at + span.bytes.byteLength);
    // Unmapping detaches the window's bytes: measure them first.
    span.staging.unmap();
    for (const piece of a < b ? segmentPieces(segments, a, b - a) : []) {
      encoder.copyBufferToBuffer(span.staging, piece.at - span.at, piece.buffer, piece.offset, piece.length);
    }
  }
  device.queue.submit([encoder.finish()]);
}

/** Whole words from the window's memory (mapped `MAP_READ` staging or plain memory) by `writeBuffer`. */
function writeInner(device: GPUDevice, segments: readonly Segment[], window: CpuWindow, from: number, to: number): void {
  for (const span of window.spans) {
    const a = Math.max(from, span.at);
    const b = Math.min(to, span.at + span.bytes.byteLength);
    for (const piece of a < b ? segmentPieces(segments, a, b - a) : []) {
      device.queue.writeBuffer(piece.buffer, piece.offset, span.bytes, piece.at - span.at, piece.length);
    }
  }
}

/** Gives a window's memory back to the pool: staging unmapped, plain memory detached. */
export function releaseSpans(pool: StagingPool, window: CpuWindow): void {
  for (const span of window.spans) {
    if (span.staging) pool.release(span.staging);
    else pool.releaseHost(span.bytes);
  }
}
