import { DmabufElementError } from '../element-error.js';
import { readCameraFrames, trackProcessor } from './camera-stream.js';
import type { CameraFeed } from './camera-worker-wire.js';

/** The camera's worker as the page feeds it: a notice of the module's own, with what moves. */
export interface CameraFeedTarget {
  /**
   * Posts a notice to the camera's worker, moving `transfer`.
   * @throws {DOMException} `DataCloneError` when the browser cannot move it to a worker.
   */
  notify(name: string, detail: unknown, transfer: Transferable[]): void;
}

/** A feed running: which one, and when it is done (its frames stopped coming). */
export interface RunningFeed {
  readonly feed: CameraFeed;
  readonly done: Promise<void>;
}

const isDataCloneError = (error: unknown): boolean => error instanceof DOMException && error.name === 'DataCloneError';

/**
 * Hands `stream`'s video track to the camera's worker by the first {@link CameraFeed} the
 * browser allows, touching no pixel: its track (when `readsTracks`: the worker has a
 * `MediaStreamTrackProcessor`), else a `MediaStreamTrackProcessor`'s stream of frames, else
 * each frame, read here and moved, until `stopped` settles. A refused move (`DataCloneError`)
 * passes on to the next form. The caller stops the stream's tracks once the worker stopped
 * (the `'frames'` feed stops them itself when `done`).
 * @throws {DmabufElementError} `ECAPTURE` when the stream has no video track.
 *
 * Realm: the page.
 */
export function feedCameraWorker(stream: MediaStream, worker: CameraFeedTarget, readsTracks: boolean, stopped: Promise<void>): RunningFeed {
  const [track] = stream.getVideoTracks();
  if (!track) throw new DmabufElementError('ECAPTURE', 'feedCameraWorker', 'the camera stream has no video track');
  if (readsTracks && moved(() => { worker.notify('track', { track }, [track]); })) return { feed: 'track', done: stopped };
  const Processor = trackProcessor();
  if (Processor) {
    const { readable } = new Processor({ track });
    if (moved(() => { worker.notify('stream', { readable }, [readable]); })) return { feed: 'stream', done: stopped };
    readable.cancel().catch(() => undefined);
  }
  const done = readCameraFrames(stream, stopped, (frame) => {
    try {
      worker.notify('frames', { frame }, [frame]);
    } catch (error) {
      frame.close();
      throw error;
    }
    return Promise.resolve();
  });
  return { feed: 'frames', done };
}

/** Runs `move`; `false` when the browser refused to move it to a worker. */
function moved(move: () => void): boolean {
  try {
    move();
    return true;
  } catch (error) {
    if (isDataCloneError(error)) return false;
    throw error;
  }
}
