/**
 * Device access for remote buffers on WebGPU: each attachment of a proxy gets a mirror on
 * its own device (no `GPUDevice` or `GPUBuffer` can cross realms), kept in step per
 * direction as the stock exporter keeps its mirrors: a map that moves bytes to the device
 * reads the buffer from the exporter's realm and uploads each piece as it comes, by the path
 * the device's measurement chose for its size (`upload-path.ts`); an unmap that moves bytes back copies the mirror into a `MAP_READ` staging buffer
 * (one per attachment, reused), maps it and sends the bytes to the exporter's realm from the
 * mapped range. Every map of one attachment returns the same `GPUBuffer`s
 * until it detaches.
 */
import type { DmaBufAttachment } from '../src/attachment.js';
import { MAPPABLE_USAGE, usageNames } from '../src/buffer-usage.js';
import { describe } from '../src/checks.js';
import { movesFromDevice, movesToDevice, type DmaDirection } from '../src/direction.js';
import type { DmaFence } from '../src/dma-fence.js';
import { DmaBufError } from '../src/error.js';
import type { RemoteBytes, RemoteDeviceAccess, RemoteDeviceOps } from '../remote/device-access.js';
import type { SegmentLayout } from '../src/segment-layout.js';
import type { SgList } from '../src/sg-table.js';
import { checkDevice, deviceFailure, watchDevice } from './device-loss.js';
import { Holds } from './holds.js';
import { layoutSegmentSize } from './segment-layout.js';
import { alignUp, createSegments, destroySegments, type Segment } from './segments.js';
import { upload, type UploadPiece } from './upload-path.js';

// STORAGE | COPY_SRC | COPY_DST, spelled out (see gpu-heap.ts): what the runtime needs.
const BASE_USAGE = 0x0080 | 0x0004 | 0x0008;
const MAP_READ = 0x0001;
const COPY_DST = 0x0008;
const READ_MODE = 0x0001;

/**
 * Writes `chunk`, bytes `[at, at + chunk.length)` of the buffer, into the segments that hold
 * them, in one upload by the path the device's measurement chose for its size
 * (`upload-path.ts`). Uploads move whole words: chunks start at a multiple of 4 and only the
 * buffer's last one may end off a word, whose last bytes are padded (a copy of at most 3
 * bytes, counted by `copied`).
 */
function uploadChunk(device: GPUDevice, segments: readonly Segment[], at: number, chunk: Uint8Array, copied: (bytes: number) => void): void {
  const end = at + chunk.length;
  const pieces: UploadPiece[] = [];
  for (const segment of segments) {
    const from = Math.max(at, segment.start);
    const to = Math.min(end, segment.start + segment.length);
    if (from >= to) continue;
    const len = to - from;
    // Whole words straight from the chunk; a last word cut short is padded, a copy of at most 3 bytes.
    const words = len - (len % 4);
    if (words > 0) pieces.push({ buffer: segment.buffer, offset: from - segment.start, data: chunk.subarray(from - at), length: words });
    if (words < len) {
      const padded = new Uint8Array(4);
      padded.set(chunk.subarray(from - at + words, to - at));
      copied(len - words);
      pieces.push({ buffer: segment.buffer, offset: from - segment.start + words, data: padded, length: 4 });
    }
  }
  upload(device, pieces);
}

/** The mirrors of one proxy's attachments. */
class RemoteMirrors implements RemoteDeviceOps {
  readonly #bytes: RemoteBytes;
  readonly #mirrors = new Map<DmaBufAttachment, readonly Segment[]>();
  // One MAP_READ staging buffer per attachment, reused from one unmap to the next.
  readonly #staging = new Map<DmaBufAttachment, GPUBuffer>();
  // The fences each attachment's importer named at unmap (`until`): its mirror stays as it is until they signal.
  readonly #holds = new Map<DmaBufAttachment, Holds>();
  #released = false;

  constructor(bytes: RemoteBytes) {
    this.#bytes = bytes;
  }

  attach(attachment: DmaBufAttachment): void {
    const call = 'attach';
    const device: unknown = attachment.device;
    if (!(device instanceof GPUDevice)) throw new DmaBufError('EINVAL', call, `device must be a GPUDevice, got ${describe(device)}`);
    if ((attachment.usage & MAPPABLE_USAGE) !== 0) {
      throw new DmaBufError('EINVAL', call, `usage ${usageNames(attachment.usage)} has MAP_READ or MAP_WRITE, which cannot go with STORAGE (a remote buffer's mirrors are storage buffers)`);
    }
    checkDevice(call, device, 'importer');
    // Refused here, never at map: the mirror must be possible on this device.
    layoutSegmentSize(call, device, this.#bytes.size, this.#layout(attachment));
    watchDevice(device);
  }

  async map(attachment: DmaBufAttachment, dir: DmaDirection): Promise<SgList> {
    const call = 'map';
    const { device } = attachment;
    checkDevice(call, device, 'importer');
    const segments = this.#mirror(attachment);
    let moved = 0;
    const copied = (bytes: number) => { this.#bytes.copied(bytes); };
    if (movesToDevice(dir)) {
      const held = this.#holds.get(attachment)?.released();
      if (held) {
        // Work named at an earlier unmap may still read the mirror: the bytes wait in this
        // realm (read in call order all the same) until it is done.
        const bytes = new Uint8Array(this.#bytes.size);
        await this.#bytes.read(0, this.#bytes.size, (at, chunk) => {
          bytes.set(chunk, at);
          copied(chunk.length);
        });
        await held;
        this.#guard(call, device);
        uploadChunk(device, segments, 0, bytes, copied);
      } else {
        // Each piece goes to the mirror as it comes, straight from where it lies (a slot of
        // shared memory): no copy of the whole buffer is ever put together in this realm.
        await this.#bytes.read(0, this.#bytes.size, (at, chunk) => {
          this.#guard(call, device);
          uploadChunk(device, segments, at, chunk, copied);
        });
      }
      this.#guard(call, device);
      moved = this.#bytes.size;
    }
    return { segments: segments.map(({ buffer, start, length }) => ({ buffer, offset: 0, start, length })), bytesMoved: moved };
  }

  async unmap(attachment: DmaBufAttachment, _sgt: unknown, dir: DmaDirection, until?: DmaFence): Promise<number> {
    const call = 'unmap';
    const segments = this.#mirrors.get(attachment);
    if (!segments) return 0;
    if (until) {
      const holds = this.#holds.get(attachment) ?? new Holds();
      holds.add(until);
      this.#holds.set(attachment, holds);
    }
    if (!movesFromDevice(dir)) return 0;
    const { device } = attachment;
    checkDevice(call, device, 'importer');
    // Readers called after the unmap wait for the importer's work too, and fail with its error.
    if (until) attachment.dmabuf.resv.addFence(until, 'write');
    // The write's place in call order is the unmap's call, though its bytes come later.
    const place = this.#bytes.reserveWrite();
    const size = alignUp(this.#bytes.size, 4);
    let staging: GPUBuffer | undefined;
    try {
      if (until) {
        await until.wait();
        if (until.error) throw until.error;
        this.#guard(call, device);
      }
      // Submitted now: behind the importer's own work on the mirror, in queue order.
      staging = this.#takeStaging(attachment, size);
      const encoder = device.createCommandEncoder({ label: 'dmabuf remote unmap' });
      for (const segment of segments) encoder.copyBufferToBuffer(segment.buffer, 0, staging, segment.start, alignUp(segment.length, 4));
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(READ_MODE);
      // Sent from the mapped range itself, which stays mapped until the write is done.
      await place.write(0, new Uint8Array(staging.getMappedRange(0, size), 0, this.#bytes.size));
      return this.#bytes.size;
    } catch (error) {
      place.cancel();
      throw deviceFailure(call, error);
    } finally {
      if (staging) this.#giveStaging(attachment, staging);
    }
  }

  detach(attachment: DmaBufAttachment): void {
    const segments = this.#mirrors.get(attachment);
    this.#mirrors.delete(attachment);
    if (segments) this.#destroyMirror(attachment, segments);
    this.#staging.get(attachment)?.destroy();
    this.#staging.delete(attachment);
  }

  release(): void {
    this.#released = true;
    for (const [attachment, segments] of this.#mirrors) this.#destroyMirror(attachment, segments);
    this.#mirrors.clear();
    for (const staging of this.#staging.values()) staging.destroy();
    this.#staging.clear();
  }

  /** Destroys an attachment's mirror once the fences its importer named at unmap have signalled. */
  #destroyMirror(attachment: DmaBufAttachment, segments: readonly Segment[]): void {
    const holds = this.#holds.get(attachment);
    this.#holds.delete(attachment);
    if (holds) holds.whenReleased(() => { destroySegments(segments); });
    else destroySegments(segments);
  }

  /** The attachment's kept `MAP_READ` staging buffer when it is free, else a new one. */
  #takeStaging(attachment: DmaBufAttachment, size: number): GPUBuffer {
    const kept = this.#staging.get(attachment);
    if (kept) {
      this.#staging.delete(attachment);
      return kept;
    }
    return attachment.device.createBuffer({ size, usage: MAP_READ | COPY_DST, label: 'dmabuf remote unmap' });
  }

  /** Keeps `staging` for the attachment's next unmap, unless one is kept already or the mirror is gone. */
  #giveStaging(attachment: DmaBufAttachment, staging: GPUBuffer): void {
    if (staging.mapState === 'mapped') staging.unmap();
    if (this.#released || !this.#mirrors.has(attachment) || this.#staging.has(attachment) || staging.mapState !== 'unmapped') staging.destroy();
    else this.#staging.set(attachment, staging);
  }

  /** The attachment's mirror, made at its first map: the same buffers for every later map. */
  #mirror(attachment: DmaBufAttachment): readonly Segment[] {
    const known = this.#mirrors.get(attachment);
    if (known) return known;
    const { device } = attachment;
    const size = this.#bytes.size;
    const segments = createSegments(device, size, BASE_USAGE | attachment.usage, 'dmabuf remote mirror', layoutSegmentSize('map', device, size, this.#layout(attachment)));
    this.#mirrors.set(attachment, segments);
    return segments;
  }

  /** How the attachment's mirror is cut: as the buffer's layout says, in one piece when it asked for one buffer. */
  #layout(attachment: DmaBufAttachment): SegmentLayout {
    const { layout } = this.#bytes;
    return attachment.contiguous ? { contiguous: true, align: layout.align } : layout;
  }

  /** Throws unless the mirror may still be written: `EINVAL` once released, `ENODEV` once the device is lost. */
  #guard(call: string, device: GPUDevice): void {
    if (this.#released) throw new DmaBufError('EINVAL', call, `the buffer was released while the operation was under way`);
    checkDevice(call, device, 'importer');
  }
}

/**
 * Device access on WebGPU for the proxies of remote buffers: a mirror per attachment on the
 * importer's device, filled at a map that moves bytes to the device and read back at an
 * unmap that moves them back. The socket that `'webgpu-dmabuf'` exports uses it by default.
 */
export const gpuRemoteDeviceAccess: RemoteDeviceAccess = {
  forBuffer: (bytes) => new RemoteMirrors(bytes),
};
