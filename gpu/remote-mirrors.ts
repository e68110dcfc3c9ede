/**
 * Device access for remote buffers on WebGPU: each attachment of a proxy gets a mirror on
 * its own device (no `GPUDevice` or `GPUBuffer` can cross realms), kept in step per
 * direction as the stock exporter keeps its mirrors: a map that moves bytes to the device
 * reads the buffer from the exporter's realm and writes it with `writeBuffer`; an unmap that
 * moves bytes back copies the mirror into a `MAP_READ` staging buffer, maps it and sends the
 * bytes to the exporter's realm. Every map of one attachment returns the same `GPUBuffer`s
 * until it detaches.
 */
import type { DmaBufAttachment } from '../src/attachment.js';
import { MAPPABLE_USAGE, usageNames } from '../src/buffer-usage.js';
import { describe } from '../src/checks.js';
import { movesFromDevice, movesToDevice, type DmaDirection } from '../src/direction.js';
import { DmaBufError } from '../src/error.js';
import type { RemoteBytes, RemoteDeviceAccess, RemoteDeviceOps } from '../src/remote/device-access.js';
import type { SgList } from '../src/sg-table.js';
import { checkDevice, deviceFailure, watchDevice } from './device-loss.js';
import { FREE_LAYOUT, layoutSegmentSize } from './segment-layout.js';
import { alignUp, createSegments, destroySegments, type Segment } from './segments.js';

// STORAGE | COPY_SRC | COPY_DST, spelled out (see gpu-heap.ts): what the runtime needs.
const BASE_USAGE = 0x0080 | 0x0004 | 0x0008;
const MAP_READ = 0x0001;
const COPY_DST = 0x0008;
const READ_MODE = 0x0001;

/** The mirrors of one proxy's attachments. */
class RemoteMirrors implements RemoteDeviceOps {
  readonly #bytes: RemoteBytes;
  readonly #mirrors = new Map<DmaBufAttachment, readonly Segment[]>();
  #released = false;

  constructor(bytes: RemoteBytes) {
    this.#bytes = bytes;
  }

  attach(attachment: DmaBufAttachment): void {
    const call = 'attach';
    const device: unknown = attachment.device;
    if (!(device instanceof GPUDevice)) throw new DmaBufError('EINVAL', `${call}: device must be a GPUDevice, got ${describe(device)}`);
    if ((attachment.usage & MAPPABLE_USAGE) !== 0) {
      throw new DmaBufError('EINVAL', `${call}: usage ${usageNames(attachment.usage)} has MAP_READ or MAP_WRITE, which cannot go with STORAGE (a remote buffer's mirrors are storage buffers)`);
    }
    checkDevice(call, device, 'importer');
    // Refused here, never at map: the mirror must be possible on this device.
    layoutSegmentSize(call, device, this.#bytes.size, FREE_LAYOUT);
    watchDevice(device);
  }

  async map(attachment: DmaBufAttachment, dir: DmaDirection): Promise<SgList> {
    const call = 'map';
    const { device } = attachment;
    checkDevice(call, device, 'importer');
    const segments = this.#mirror(attachment);
    let moved = 0;
    if (movesToDevice(dir)) {
      const bytes = await this.#bytes.read(0, this.#bytes.size);
      this.#guard(call, device);
      for (const segment of segments) {
        const words = alignUp(segment.length, 4);
        if (words === segment.length) {
          device.queue.writeBuffer(segment.buffer, 0, bytes, segment.start, segment.length);
        } else {
          // writeBuffer moves whole words: the buffer's last bytes, padded.
          const padded = new Uint8Array(words);
          padded.set(bytes.subarray(segment.start, segment.start + segment.length));
          device.queue.writeBuffer(segment.buffer, 0, padded);
        }
      }
      moved = this.#bytes.size;
    }
    return { segments: segments.map(({ buffer, start, length }) => ({ buffer, offset: 0, start, length })), bytesMoved: moved };
  }

  async unmap(attachment: DmaBufAttachment, _sgt: unknown, dir: DmaDirection): Promise<number> {
    const call = 'unmap';
    if (!movesFromDevice(dir)) return 0;
    const { device } = attachment;
    const segments = this.#mirrors.get(attachment);
    if (!segments) return 0;
    checkDevice(call, device, 'importer');
    // The write's place in call order is the unmap's call, though its bytes come later.
    const place = this.#bytes.reserveWrite();
    const size = alignUp(this.#bytes.size, 4);
    let staging: GPUBuffer | undefined;
    try {
      // Submitted now: behind the importer's own work on the mirror, in queue order.
      staging = device.createBuffer({ size, usage: MAP_READ | COPY_DST, label: 'dmabuf remote unmap' });
      const encoder = device.createCommandEncoder({ label: 'dmabuf remote unmap' });
      for (const segment of segments) encoder.copyBufferToBuffer(segment.buffer, 0, staging, segment.start, alignUp(segment.length, 4));
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(READ_MODE);
      const bytes = new Uint8Array(staging.getMappedRange(0, size).slice(0, this.#bytes.size));
      await place.write(0, bytes);
      return this.#bytes.size;
    } catch (error) {
      place.cancel();
      throw deviceFailure(call, error);
    } finally {
      staging?.destroy();
    }
  }

  detach(attachment: DmaBufAttachment): void {
    const segments = this.#mirrors.get(attachment);
    this.#mirrors.delete(attachment);
    if (segments) destroySegments(segments);
  }

  release(): void {
    this.#released = true;
    for (const segments of this.#mirrors.values()) destroySegments(segments);
    this.#mirrors.clear();
  }

  /** The attachment's mirror, made at its first map: the same buffers for every later map. */
  #mirror(attachment: DmaBufAttachment): readonly Segment[] {
    const known = this.#mirrors.get(attachment);
    if (known) return known;
    const { device } = attachment;
    const size = this.#bytes.size;
    const segments = createSegments(device, size, BASE_USAGE | attachment.usage, 'dmabuf remote mirror', layoutSegmentSize('map', device, size, FREE_LAYOUT));
    this.#mirrors.set(attachment, segments);
    return segments;
  }

  /** Throws unless the mirror may still be written: `EINVAL` once released, `ENODEV` once the device is lost. */
  #guard(call: string, device: GPUDevice): void {
    if (this.#released) throw new DmaBufError('EINVAL', `${call}: the buffer was released while the operation was under way`);
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
