/**
 * DOC: mirrors
 *
 * An importer on another device than the exporter's cannot use the storage's `GPUBuffer`s:
 * it maps a mirror, a copy of the dma-buf's bytes on its own device, one per attachment.
 * A mirror's life:
 * 1. Made at the attachment's first map: an idle mirror of the same size and usage on that
 *    device when there is one (cleared first if it held another buffer's bytes and the map
 *    does not overwrite it whole), else new `GPUBuffer`s.
 * 2. Kept in step per direction: a `'to-device'` map copies the storage into it, a
 *    `'from-device'` unmap copies it back into the storage (`'bidirectional'`: both), each in
 *    its turn in the buffer's reservation.
 * 3. Idle at detach: kept for the next attachment of the same shape on that device, within
 *    the heap's idle-mirror cap (see `idle-mirrors.ts`).
 * 4. Destroyed, never recycled, when the buffer is released while the mirror is in use (a
 *    table of it outstanding, or a transfer that may still write it), when its device is
 *    lost, or when the heap is destroyed.
 */
import type { DmaBufAttachment } from '../src/attachment.js';
import { movesToDevice, type DmaDirection } from '../src/direction.js';
import { IdleMirrors } from './idle-mirrors.js';
import { createSegments, destroySegments, segmentBytes, type Segment } from './segments.js';

/** One attachment's copy of a dma-buf on the importer's device. */
export interface Mirror {
  readonly device: GPUDevice;
  readonly segments: readonly Segment[];
  /** Tables of the mirror handed out by maps and not yet given back by unmaps. */
  tables: number;
  /** Transfers under way that read or write the mirror. */
  transfers: number;
}

/** What a mirror is a copy of. */
export interface MirrorSource {
  /** The dma-buf: a mirror that last held its bytes needs no clearing. */
  readonly owner: object;
  readonly size: number;
  readonly usage: GPUBufferUsageFlags;
  readonly name: string;
}

/**
 * The mirrors of one heap: makes them, retires them, and counts them. Owns its idle
 * mirrors; each live mirror belongs to the buffer whose storage records it.
 */
export class Mirrors {
  readonly #idle: IdleMirrors;
  readonly #maxSegmentBytes: number;
  #bytes = 0;
  #created = 0;

  /** @param idleCapBytes most bytes of idle mirrors kept, over all devices. */
  constructor(idleCapBytes: number, maxSegmentBytes: number) {
    this.#idle = new IdleMirrors(idleCapBytes);
    this.#maxSegmentBytes = maxSegmentBytes;
  }

  /** Destroys the idle mirrors on `device` (it was lost). */
  purge(device: GPUDevice): void {
    this.#idle.purge(device);
  }

  /** Destroys every idle mirror and keeps none from now on (the heap is destroyed). */
  close(): void {
    this.#idle.close();
  }

  /** Bytes of live mirrors (not idle ones). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Mirror `GPUBuffer` sets created so far; a reused idle mirror is not counted again. */
  get created(): number {
    return this.#created;
  }

  /** Bytes of idle mirrors. */
  get idleBytes(): number {
    return this.#idle.bytes;
  }

  /**
   * The mirror of `attachment` (rule 1), made or taken from the idle ones at its first map.
   * A dirty idle mirror is cleared on its device before anything else uses it, unless `dir`
   * overwrites it whole.
   */
  take<A extends Pick<DmaBufAttachment, 'device'>>(mirrors: Map<A, Mirror>, attachment: A, source: MirrorSource, dir: DmaDirection): Mirror {
    const known = mirrors.get(attachment);
    if (known) return known;
    const { device } = attachment;
    const idle = this.#idle.take(device, source.size, source.usage, source.owner);
    let segments: readonly Segment[];
    if (idle) {
      segments = idle.segments;
      if (idle.dirty && !movesToDevice(dir)) {
        const encoder = device.createCommandEncoder({ label: 'dmabuf mirror clear' });
        for (const segment of segments) encoder.clearBuffer(segment.buffer);
        device.queue.submit([encoder.finish()]);
      }
    } else {
      segments = createSegments(device, source.size, source.usage, `dmabuf mirror of ${source.name}`, this.#maxSegmentBytes);
      this.#created += 1;
    }
    const mirror: Mirror = { device, segments, tables: 0, transfers: 0 };
    mirrors.set(attachment, mirror);
    this.#bytes += segmentBytes(segments);
    return mirror;
  }

  /** Rules 3 and 4: at detach or release, an unused mirror goes idle (or is destroyed when it cannot be kept); one in use is destroyed. */
  retire(mirror: Mirror, source: MirrorSource): void {
    this.#bytes -= segmentBytes(mirror.segments);
    if (mirror.tables > 0 || mirror.transfers > 0) destroySegments(mirror.segments);
    else this.#idle.keep(mirror.device, source.size, source.usage, source.owner, mirror.segments);
  }
}
