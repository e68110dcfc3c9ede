/**
 * What a remote buffer's proxy needs to map on a device: the contract stays WebGPU-free, so
 * an {@link FdSocket} is given the device side (`gpu/remote-mirrors.ts` on WebGPU; the
 * socket that `'webgpu-dmabuf'` exports has it by default).
 */
import type { DmaBufAttachment } from '../src/attachment.js';
import type { DmaDirection } from '../src/direction.js';
import type { DmaFence } from '../src/dma-fence.js';
import { DmaBufError } from '../src/error.js';
import type { SegmentLayout } from '../src/segment-layout.js';
import type { SgList, SgTable } from '../src/sg-table.js';

/**
 * A remote buffer's bytes, read and written in the exporter's realm. Each call takes its
 * place in the proxy's call order (its reservation) when it is made.
 */
export interface RemoteBytes {
  /** The buffer's size in bytes. */
  readonly size: number;
  /** How the buffer's exporter cuts it into segments: mirrors keep it on every device. */
  readonly layout: SegmentLayout;
  /**
   * Streams bytes `[start, start + len)` as the exporter's realm holds them once every write
   * called before this read has reached it: `into(at, chunk)` is called for consecutive
   * pieces, `at` counted from `start`, each `chunk` a view valid only during the call (a
   * slot of shared memory, or the message's bytes). Resolves once all came. When `into`
   * throws, the later pieces are not handed over and the read rejects with that error.
   * @throws {DmaBufError} `ENODEV` once the exporter's realm is gone; `EINVAL` when the proxy
   *   is released first; what the exporter's CPU access throws there.
   */
  read(start: number, len: number, into: (at: number, chunk: Uint8Array) => void): Promise<void>;
  /**
   * Takes a write's place in call order now, for bytes that will be known later (an unmap
   * reads its mirror back first). Call `write` or `cancel` on what it returns, exactly once.
   */
  reserveWrite(): RemoteWrite;
  /**
   * Tells the connection of `bytes` payload bytes the device side copied with the CPU on
   * their way (a padded last word, bytes kept while the mirror is busy): they count in the
   * socket's `cpuBytesCopied`.
   */
  copied(bytes: number): void;
}

/** A write whose place in call order is taken: see {@link RemoteBytes.reserveWrite}. */
export interface RemoteWrite {
  /**
   * Writes `bytes` at `start` in the exporter's realm, exactly those bytes. They are read
   * from `bytes` while the call is under way: keep them unchanged until it settles.
   * @throws {DmaBufError} as {@link RemoteBytes.read}.
   */
  write(start: number, bytes: Uint8Array): Promise<void>;
  /** Gives the place up: nothing is written. */
  cancel(): void;
}

/**
 * The device side of one remote buffer's proxy: its attachments' mirrors on their devices.
 * Ops as `DmaBufOps`' (the proxy calls them from its own), without `priv`.
 */
export interface RemoteDeviceOps {
  /** Checks what the attachment asks for (its device, its usage); throws to refuse it. */
  attach(attachment: DmaBufAttachment): void;
  /** Maps on the attachment's device; every map of one attachment gives the same buffers. */
  map(attachment: DmaBufAttachment, dir: DmaDirection): Promise<SgList>;
  /**
   * Ends a map, moving back what `dir` asks for; resolves to the bytes moved back. `until` is
   * as `DmaBufOps.unmapDmaBuf`'s: the mirror stays as it is until it signals.
   */
  unmap(attachment: DmaBufAttachment, sgt: SgTable, dir: DmaDirection, until?: DmaFence): Promise<number>;
  /** Frees the attachment's mirror. */
  detach(attachment: DmaBufAttachment): void;
  /** Frees every mirror: the proxy is released. */
  release(): void;
}

/** Makes the device side of each remote buffer a socket receives. */
export interface RemoteDeviceAccess {
  /** The device side of a proxy whose bytes are `bytes`; the proxy owns it and releases it. */
  forBuffer(bytes: RemoteBytes): RemoteDeviceOps;
}

/**
 * Device access for a socket given none: CPU access works, and `attach` refuses with
 * `ENODEV`, naming what to use instead.
 */
export const noDeviceAccess: RemoteDeviceAccess = {
  forBuffer: () => ({
    attach() {
      throw new DmaBufError('ENODEV', 'attach', "this socket was made without device access; use the FdSocket of 'webgpu-dmabuf', which maps on WebGPU");
    },
    map: () => Promise.reject(new DmaBufError('ENODEV', 'map', 'this socket was made without device access')),
    unmap: () => Promise.resolve(0),
    detach: () => undefined,
    release: () => undefined,
  }),
};
