/**
 * What the camera's element and its worker entry (`camera.worker.ts`) say to each other beside
 * the host's own messages, and the parsers of each side: every field checked, anything
 * malformed `undefined`.
 *
 * @module
 */
import { isCameraPath, type CameraPath } from './camera-path.js';
import { isInt, isRecord, isText } from '../worker/wire-fields.js';

/** The camera's settings as they cross to its worker (at start, and `paused` / `uncapped` when they change). */
export interface CameraWorkerSettings {
  /** `'pattern'`: the worker draws the test pattern; `'camera'`: the page moves the camera's frames to it. */
  readonly source: 'camera' | 'pattern';
  /** The pattern's size. */
  readonly width: number;
  /** The pattern's height. */
  readonly height: number;
  /** While set, no frame is made. */
  readonly paused: boolean;
  /** The pattern's pace (see `<dmabuf-camera uncapped>`). */
  readonly uncapped: boolean;
  /** The one capture path to try, or `''` for the fastest that works. */
  readonly forcePath: string;
}

/** The settings in `value`, or `undefined` when they do not parse. */
export function parseCameraSettings(value: unknown): CameraWorkerSettings | undefined {
  if (!isRecord(value)) return undefined;
  const { source, width, height, paused, uncapped, forcePath } = value;
  if ((source !== 'camera' && source !== 'pattern') || !isInt(width, 1) || !isInt(height, 1)) return undefined;
  if (typeof paused !== 'boolean' || typeof uncapped !== 'boolean' || !isText(forcePath)) return undefined;
  return { source, width, height, paused, uncapped, forcePath };
}

/**
 * How the camera's frames reach its worker, fastest first (the page takes the first the
 * browser allows):
 * - `'track'`: the page moves the camera's `MediaStreamTrack` to the worker, which reads it with
 *   its own `MediaStreamTrackProcessor` (where a track is transferable and a worker has one);
 * - `'stream'`: the page makes a `MediaStreamTrackProcessor` and moves its `readable` to the
 *   worker, which reads the frames from it (Chromium: neither of the above in a worker, but
 *   the stream can be moved);
 * - `'frames'`: the page reads each frame (`MediaStreamTrackProcessor`, or a `<video>` and
 *   `new VideoFrame(video)`) and moves each `VideoFrame` to the worker (Firefox).
 * In none does the page touch a frame's pixels.
 */
export type CameraFeed = 'track' | 'stream' | 'frames';

/** The worker's notice names, to the page: `'feeds'` (what it can read), `'path'`, `'layout'`, `'paused'` (after which frame). */
export type CameraWorkerNotice =
  | { readonly name: 'paused'; readonly sequence: number }
  | { readonly name: 'feeds'; readonly readsTracks: boolean }
  | { readonly name: 'path'; readonly path: CameraPath; readonly skipped: readonly string[] }
  | { readonly name: 'layout'; readonly width: number; readonly height: number };

/** The worker's notice `name` with `detail`, or `undefined` when it does not parse. */
export function parseCameraNotice(name: string, detail: unknown): CameraWorkerNotice | undefined {
  if (!isRecord(detail)) return undefined;
  switch (name) {
    case 'feeds':
      return typeof detail.readsTracks === 'boolean' ? { name, readsTracks: detail.readsTracks } : undefined;
    case 'path': {
      const { path, skipped } = detail;
      if (!isCameraPath(path) && path !== 'pattern') return undefined;
      if (!Array.isArray(skipped) || skipped.length > 8 || !skipped.every(isText)) return undefined;
      return { name, path, skipped: skipped };
    }
    case 'paused':
      return isInt(detail.sequence, 0) ? { name, sequence: detail.sequence } : undefined;
    case 'layout': {
      const { width, height } = detail;
      return isInt(width, 1) && isInt(height, 1) ? { name, width, height } : undefined;
    }
    default:
      return undefined;
  }
}

/** What the page moves to the camera's worker: the camera's frames in one of the {@link CameraFeed} forms. */
export type CameraFrames =
  | { readonly feed: 'track'; readonly track: MediaStreamTrack }
  | { readonly feed: 'stream'; readonly readable: ReadableStream<VideoFrame> }
  | { readonly feed: 'frames'; readonly frame: VideoFrame };

/** The page's notice `name` with `detail` as frames for the worker, or `undefined` when it does not parse. */
export function parseCameraFrames(name: string, detail: unknown): CameraFrames | undefined {
  if (!isRecord(detail)) return undefined;
  if (name === 'track' && typeof MediaStreamTrack === 'function' && detail.track instanceof MediaStreamTrack) return { feed: 'track', track: detail.track };
  if (name === 'stream' && detail.readable instanceof ReadableStream) return { feed: 'stream', readable: detail.readable as ReadableStream<VideoFrame> };
  if (name === 'frames' && typeof VideoFrame === 'function' && detail.frame instanceof VideoFrame) return { feed: 'frames', frame: detail.frame };
  return undefined;
}
