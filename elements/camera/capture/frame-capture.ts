import type { FrameLayout } from '../../kernels/frame-layout.js';
import type { CameraPath } from '../camera-path.js';

/** A camera path that starts from a `VideoFrame`: every {@link CameraPath} but the pattern. */
export type VideoFramePath = Exclude<CameraPath, 'pattern'>;

/**
 * One way of getting a `VideoFrame`'s picture into a frame buffer as packed RGBA, on one
 * device. Made once per module run and reused for every frame; the caller destroys it.
 *
 * Realm: any realm with WebGPU and `VideoFrame` (the page or a worker); none needs a DOM.
 */
export interface FrameCapture {
  /** The path it takes. */
  readonly path: VideoFramePath;
  /**
   * Records and submits the GPU work that writes `frame` into `dst` (`layout`'s size). The
   * caller keeps `frame` open until this settles and closes it after.
   * @throws when the browser refuses this path for this frame (nothing is written then).
   */
  write(frame: VideoFrame, dst: GPUBufferBinding, layout: FrameLayout): Promise<void> | void;
  /** Frees its GPU objects. */
  destroy(): void;
}
