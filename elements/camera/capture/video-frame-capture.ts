import { DmabufElementError } from '../../element-error.js';
import type { FrameLayout } from '../../kernels/frame-layout.js';
import { CAMERA_PATHS } from '../camera-path.js';
import { CopyImageCapture } from './copy-image-capture.js';
import { ExternalTextureCapture } from './external-texture-capture.js';
import type { FrameCapture, VideoFramePath } from './frame-capture.js';
import { PlanesCapture } from './planes-capture.js';

/** What a path's failure says: a typed error's reason (its code and call are the path's own), else the message. */
function reasonOf(error: unknown): string {
  if (error instanceof DmabufElementError) return error.reason;
  return error instanceof Error ? error.message : String(error);
}

const CAPTURES: Record<VideoFramePath, new (device: GPUDevice) => FrameCapture> = {
  'external-texture': ExternalTextureCapture,
  'copy-external-image': CopyImageCapture,
  'copy-to': PlanesCapture,
};

/**
 * Writes camera frames (`VideoFrame`s) into frame buffers by the fastest path the browser
 * allows on one device: the first frame tries each path in {@link CAMERA_PATHS} order (or
 * only the one asked for) until one works, and every later frame takes that one. A path
 * counts as refused when it throws or raises a WebGPU validation error.
 *
 * It makes each path's {@link FrameCapture} when first tried and owns them until
 * {@link destroy}; the device stays the caller's. Realm: any realm with WebGPU and
 * `VideoFrame` (the page or a worker); it needs no DOM.
 */
export class VideoFrameCapture {
  readonly #device: GPUDevice;
  readonly #order: readonly VideoFramePath[];
  readonly #onPath: (path: VideoFramePath, skipped: readonly string[]) => void;
  readonly #captures = new Map<VideoFramePath, FrameCapture>();
  #path: VideoFramePath | undefined;

  /**
   * @param onPath called once, when the first frame has gone through: the path it took and
   *   why faster ones were not taken (one line each).
   * @param only the one path to try (for tests and comparisons); all of them, fastest first, when absent.
   */
  constructor(device: GPUDevice, onPath: (path: VideoFramePath, skipped: readonly string[]) => void, only?: VideoFramePath) {
    this.#device = device;
    this.#order = only ? [only] : CAMERA_PATHS;
    this.#onPath = onPath;
  }

  /** The path frames take, once the first one went through. */
  get path(): VideoFramePath | undefined {
    return this.#path;
  }

  /**
   * Writes `frame` into `dst` (`layout`'s size) by the known path, or finds the fastest that
   * works. The caller closes `frame` after this settles.
   * @throws {DmabufElementError} `ECAPTURE` when no path works for the first frame (the reason
   *   says why for each); the known path's own error when it fails later.
   */
  async write(frame: VideoFrame, dst: GPUBufferBinding, layout: FrameLayout): Promise<void> {
    if (this.#path) {
      await this.#writeBy(this.#path, frame, dst, layout);
      return;
    }
    const skipped: string[] = [];
    for (const path of this.#order) {
      try {
        await this.#writeBy(path, frame, dst, layout);
        this.#path = path;
        this.#onPath(path, skipped);
        return;
      } catch (error) {
        skipped.push(`${path}: ${reasonOf(error)}`);
      }
    }
    throw new DmabufElementError('ECAPTURE', 'VideoFrameCapture.write', `no way to get camera frames into a buffer worked: ${skipped.join('; ')}`);
  }

  /** Frees every path's GPU objects. */
  destroy(): void {
    for (const capture of this.#captures.values()) capture.destroy();
    this.#captures.clear();
  }

  /** One path; rejects (with nothing written) when the browser refuses it. */
  async #writeBy(path: VideoFramePath, frame: VideoFrame, dst: GPUBufferBinding, layout: FrameLayout): Promise<void> {
    const device = this.#device;
    device.pushErrorScope('validation');
    let thrown: unknown;
    try {
      let capture = this.#captures.get(path);
      if (!capture) {
        capture = new CAPTURES[path](device);
        this.#captures.set(path, capture);
      }
      await capture.write(frame, dst, layout);
    } catch (error) {
      thrown = error;
    }
    const invalid = await device.popErrorScope();
    if (thrown !== undefined) throw thrown instanceof Error ? thrown : new DmabufElementError('ECAPTURE', `VideoFrameCapture ${path}`, 'the path threw a value that is no error', { cause: thrown });
    if (invalid) throw new DmabufElementError('EGPU', `VideoFrameCapture ${path}`, invalid.message);
  }
}
