/**
 * DOC: mirrors
 *
 * An importer on another device than the exporter's cannot use the storage's `GPUBuffer`s:
 * it maps a mirror, a copy of the dma-buf's bytes on its own device, one per attachment.
 * A mirror's life:
 * 1. Made at the attachment's first map, with the storage's usage and the attachment's own, cut
 *    as the buffer's layout says (`segment-layout.ts`) by that device's limits: an idle mirror
 *    of the same size, usage and cut on that device when there is one (cleared first if it held another buffer's bytes and the map
 *    does not overwrite it whole), else new `GPUBuffer`s.
 * 2. Kept in step per direction: a `'to-device'` map copies the storage into it, a
 *    `'from-device'` unmap copies it back into the storage (`'bidirectional'`: both), each in
 *    its turn in the buffer's reservation.
 * 3. The same `GPUBuffer`s for every map of the attachment, until it detaches: importers bind
 *    them once. Nothing retires a mirror while its attachment is attached (a lost device
 *    fails the maps, it does not swap the mirror).
 * 4. Idle at detach: kept for the next attachment of the same shape on that device, within
 *    the heap's idle-mirror cap (see `idle-mirrors.ts`).
 * 5. Destroyed, never recycled, when the buffer is released while the mirror is in use (a
 *    table of it outstanding, or a transfer that may still write it), when its device is
 *    lost, or when the heap is destroyed.
 * 6. Held by the fences its importer named at unmap (`until`): until they signal, no map's
 *    transfer writes into it, and retiring it (rules 4 and 5) waits for them.
 */
import type { DmaBufAttachment } from '../src/attachment.js';
import { movesToDevice, type DmaDirection } from '../src/direction.js';
import { Holds } from './holds.js';
import { IdleMirrors } from './idle-mirrors.js';
import { layoutSegmentSize, type SegmentLayout } from './segment-layout.js';
import { createSegments, destroySegments, segmentBytes, type Segment } from './segments.js';

/** One attachment's copy of a dma-buf on the importer's device. */
export interface Mirror {
  readonly device: GPUDevice;
  readonly segments: readonly Segment[];
  /** The usage its buffers were made with: the storage's and the attachment's. */
  readonly usage: GPUBufferUsageFlags;
  /** Tables of the mirror handed out by maps and not yet given back by unmaps. */
  tables: number;
  /** Transfers under way that read or write the mirror. */
  transfers: number;
  /** The fences its importer named at unmap (`until`), which keep it as it is (rule 6). */
  readonly holds: Holds;
}

/** What a mirror is a copy of. */
export interface MirrorSource {
  /** The dma-buf: a mirror that last held its bytes needs no clearing. */
  readonly owner: object;
  readonly size: number;
  /** The usage of the storage and of the attachment together. */
  readonly usage: GPUBufferUsageFlags;
  readonly layout: SegmentLayout;
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
   * The segment size of a mirror of `source` on `device`, as its layout says.
   * @throws {DmaBufError} `ENOMEM` / `EINVAL` as `layoutSegmentSize`, naming `call`.
   */
  segmentSize(call: string, device: GPUDevice, source: MirrorSource): number {
    return layoutSegmentSize(call, device, source.size, source.layout, this.#maxSegmentBytes);
  }

  /**
   * The mirror of `attachment` (rule 1), made or taken from the idle ones at its first map,
   * and the same one at every later map (rule 3). A dirty idle mirror is cleared on its
   * device before anything else uses it, unless `dir` overwrites it whole.
   */
  take<A extends Pick<DmaBufAttachment, 'device'>>(mirrors: Map<A, Mirror>, attachment: A, source: MirrorSource, dir: DmaDirection): Mirror {
    const known = mirrors.get(attachment);
    if (known) return known;
    const { device } = attachment;
    const segmentSize = this.segmentSize('map', device, source);
    const idle = this.#idle.take(device, source.size, source.usage, source.owner, segmentSize);
    let segments: readonly Segment[];
    if (idle) {
      segments = idle.segments;
      if (idle.dirty && !movesToDevice(dir)) {
        const encoder = device.createCommandEncoder({ label: 'dmabuf mirror clear' });
        for (const segment of segments) encoder.clearBuffer(segment.buffer);
        device.queue.submit([encoder.finish()]);
      }
    } else {
      segments = createSegments(device, source.size, source.usage, `dmabuf mirror of ${source.name}`, segmentSize);
      this.#created += 1;
    }
    const mirror: Mirror = { device, segments, usage: source.usage, tables: 0, transfers: 0, holds: new Holds() };
    mirrors.set(attachment, mirror);
    this.#bytes += segmentBytes(segments);
    return mirror;
  }

  /**
   * Rules 4 to 6: at detach or release, an unused mirror goes idle (or is destroyed when it
   * cannot be kept); one in use is destroyed; either once the fences holding it have signalled.
   * It counts as live until then.
   */
  retire(mirror: Mirror, owner: object, size: number): void {
    const inUse = mirror.tables > 0 || mirror.transfers > 0;
    mirror.holds.whenReleased(() => {
      this.#bytes -= segmentBytes(mirror.segments);
      if (inUse) destroySegments(mirror.segments);
      else this.#idle.keep(mirror.device, size, mirror.usage, owner, mirror.segments);
    });
  }
}
