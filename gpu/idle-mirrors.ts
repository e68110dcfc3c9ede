import { isLost } from './device-loss.js';
import { destroySegments, segmentBytes, type Segment } from './segments.js';

/** A mirror whose attachment has detached, kept for the next one of the same shape. */
interface IdleMirror {
  readonly device: GPUDevice;
  readonly size: number;
  readonly usage: GPUBufferUsageFlags;
  /** How it is cut: the length of its first segment (every one but the last has it). */
  readonly cut: number;
  /** The dma-buf whose bytes it last held. */
  readonly owner: object;
  readonly segments: readonly Segment[];
}

/** Whether an idle mirror has this device, size, usage and cut. */
const shape = (device: GPUDevice, size: number, usage: GPUBufferUsageFlags, cut: number) => (m: IdleMirror) =>
  m.device === device && m.size === size && m.usage === usage && m.cut === cut;

/** The cut of segments: the length of the first (a buffer cut every `segmentSize` bytes has `min(segmentSize, size)`). */
const cutOf = (segments: readonly Segment[]): number => segments[0]?.length ?? 0;

/** Most idle mirrors kept for one shape (device, size, usage and cut). */
const PER_SHAPE = 4;

/**
 * Mirrors kept after detach, so that an importer that attaches, maps and detaches for every
 * frame (the usual way to take a buffer through an fd) does not create and destroy a
 * `GPUBuffer` each time. A mirror is reused only for a buffer of the same size and usage on
 * the same device, cut the same way (its segment boundaries are part of what the buffer
 * promises its importers); `dirty` says that it holds another buffer's bytes.
 */
export class IdleMirrors {
  readonly #capBytes: number;
  #idle: IdleMirror[] = [];
  #bytes = 0;
  #closed = false;

  /** @param capBytes most bytes kept idle, over all devices. */
  constructor(capBytes: number) {
    this.#capBytes = capBytes;
  }

  /** Bytes of the mirrors kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * An idle mirror of this shape (cut every `segmentSize` bytes), preferring one `owner` used
   * last; the caller owns it.
   */
  take(device: GPUDevice, size: number, usage: GPUBufferUsageFlags, owner: object, segmentSize: number): { segments: readonly Segment[]; dirty: boolean } | undefined {
    const fits = shape(device, size, usage, Math.min(segmentSize, size));
    let index = this.#idle.findIndex((m) => fits(m) && m.owner === owner);
    if (index < 0) index = this.#idle.findIndex(fits);
    const [mirror] = index < 0 ? [] : this.#idle.splice(index, 1);
    if (!mirror) return undefined;
    this.#bytes -= segmentBytes(mirror.segments);
    return { segments: mirror.segments, dirty: mirror.owner !== owner };
  }

  /**
   * Keeps a detached mirror, or destroys it when its shape has enough idle, the cap is
   * reached, its device is lost or the set is closed.
   */
  keep(device: GPUDevice, size: number, usage: GPUBufferUsageFlags, owner: object, segments: readonly Segment[]): void {
    const bytes = segmentBytes(segments);
    const cut = cutOf(segments);
    const sameShape = this.#idle.filter(shape(device, size, usage, cut)).length;
    if (this.#closed || isLost(device) || sameShape >= PER_SHAPE || this.#bytes + bytes > this.#capBytes) {
      destroySegments(segments);
      return;
    }
    this.#idle.push({ device, size, usage, cut, owner, segments });
    this.#bytes += bytes;
  }

  /** Destroys every idle mirror and keeps none from now on (the heap is destroyed). Safe to call twice. */
  close(): void {
    this.#closed = true;
    for (const mirror of this.#idle.splice(0)) destroySegments(mirror.segments);
    this.#bytes = 0;
  }

  /** Destroys the idle mirrors on `device` (it was lost). */
  purge(device: GPUDevice): void {
    for (const mirror of this.#idle) if (mirror.device === device) destroySegments(mirror.segments);
    this.#idle = this.#idle.filter((m) => m.device !== device);
    this.#bytes = this.#idle.reduce((sum, m) => sum + segmentBytes(m.segments), 0);
  }
}
