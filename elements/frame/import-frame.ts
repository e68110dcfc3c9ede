import type { DmaBuf, DmaBufAttachment, FdTable, SgTable } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import type { FrameLease } from './frame-info.js';

interface Mapped {
  readonly buf: DmaBuf;
  readonly attachment: DmaBufAttachment;
  readonly sgt: SgTable;
}

/**
 * The importer's side of the contract for one frame, begun as soon as the frame is taken:
 * takes a reference through the fd (`dma_buf_get`), attaches `device` and maps
 * `'to-device'` (which waits for the frame's write fence, the exporter's GPU work that wrote
 * it). Across devices that map moves the frame's bytes, so beginning it early lets the move
 * overlap the importer's work on the frame before. {@link use} then runs the importer's work
 * with the mapping; {@link cancel} gives a frame up unused. Either one unmaps, detaches and
 * puts, in reverse order, whatever happens; the caller releases the lease after.
 *
 * Realm: any realm with WebGPU, the page or a worker (it needs no DOM).
 */
export class FrameImport {
  readonly #mapped: Promise<Mapped>;
  #finished: Promise<void> | undefined;

  constructor(table: FdTable, lease: FrameLease, device: GPUDevice) {
    this.#mapped = mapFrame(table, lease.fd, device);
    // A failed map is reported by use(), or goes with the frame when it is cancelled.
    this.#mapped.catch(() => undefined);
  }

  /**
   * Runs `work` with the frame's mapping once it is ready, then unmaps. `work` submits its GPU
   * work before it returns: work queued on the device keeps its order after the unmap.
   * @throws {DmabufElementError} `EEXPIRED` when the frame was used or cancelled already; whatever the map or `work` threw.
   */
  use<T>(work: (sgt: SgTable) => T): Promise<T> {
    if (this.#finished) return Promise.reject(new DmabufElementError('EEXPIRED', 'FrameImport.use', 'this frame was used or cancelled already'));
    const result = this.#mapped.then(async (mapped) => {
      try {
        return work(mapped.sgt);
      } finally {
        await unmapFrame(mapped);
      }
    });
    this.#finished = result.then(() => undefined, () => undefined);
    return result;
  }

  /** Gives the frame up: once its map settles, unmaps, detaches and puts. Resolves when done; safe to call after {@link use}, and twice. */
  cancel(): Promise<void> {
    this.#finished ??= this.#mapped.then(unmapFrame, () => undefined);
    return this.#finished;
  }
}

/** Imports `lease`'s frame on `device`, runs `work` with the mapping, and undoes the import. */
export function importFrame<T>(table: FdTable, lease: FrameLease, device: GPUDevice, work: (sgt: SgTable) => T): Promise<T> {
  return new FrameImport(table, lease, device).use(work);
}

async function mapFrame(table: FdTable, fd: number, device: GPUDevice): Promise<Mapped> {
  const buf = table.get(fd);
  try {
    const attachment = buf.attach(device);
    try {
      return { buf, attachment, sgt: await attachment.map('to-device') };
    } catch (error) {
      buf.detach(attachment);
      throw error;
    }
  } catch (error) {
    buf.put();
    throw error;
  }
}

async function unmapFrame({ buf, attachment, sgt }: Mapped): Promise<void> {
  try {
    try {
      await attachment.unmap(sgt, 'to-device');
    } finally {
      buf.detach(attachment);
    }
  } finally {
    buf.put();
  }
}
