/**
 * The camera's worker entry: the module worker `<dmabuf-camera worker>` starts (beside its
 * element, so that bundlers bundle it with the element). It registers the camera's
 * {@link CameraModule} with the worker's generic host under the role `'camera'`, on the
 * worker's own device: it draws the test pattern here (paced by the worker's own animation
 * frames), or takes the camera's frames the page moves here (a `MediaStreamTrack`, a stream
 * of `VideoFrame`s, or each `VideoFrame`: {@link CameraFeed}) and writes them into its ring by
 * the fastest capture path. It tells the page what it can read (`'feeds'`), the path its
 * frames take (`'path'`) and their size (`'layout'`). Realm: a module worker.
 *
 * @module
 */
import { DmabufElementError } from '../element-error.js';
import { registerWorkerModule } from '../worker/module-worker.js';
import { CameraModule } from './camera-module.js';
import { isCameraPath } from './camera-path.js';
import { parseCameraFrames, parseCameraSettings, type CameraFeed } from './camera-worker-wire.js';

/** Chromium's and Safari's `MediaStreamTrackProcessor`, where this realm has one. */
type TrackProcessorClass = new (init: { track: MediaStreamTrack }) => { readonly readable: ReadableStream<VideoFrame> };
const TrackProcessor = (globalThis as { MediaStreamTrackProcessor?: TrackProcessorClass }).MediaStreamTrackProcessor;

registerWorkerModule({
  role: 'camera',
  start({ device, name, host, settings, notify }) {
    const start = parseCameraSettings(settings);
    if (!start) throw new DmabufElementError('EINVAL', `<dmabuf-camera name="${name}"> (worker)`, 'the page gave the camera\'s worker settings that do not parse');
    const camera = new CameraModule(device, {
      name, host,
      ...(isCameraPath(start.forcePath) ? { only: start.forcePath } : {}),
      onPath: (path, skipped) => { notify('path', { path, skipped }); },
      onLayout: ({ width, height }) => { notify('layout', { width, height }); },
    });
    camera.paused = start.paused;
    camera.uncapped = start.uncapped;
    if (start.paused) notify('paused', { sequence: 0 });
    // A track moved here is this worker's to stop.
    let track: MediaStreamTrack | undefined;
    let feed: CameraFeed | undefined;
    notify('feeds', { readsTracks: TrackProcessor !== undefined && typeof MediaStreamTrack === 'function' });
    if (start.source === 'pattern') camera.drawPattern(start.width, start.height);
    return {
      output: camera.target,
      configure(next) {
        const parsed = parseCameraSettings(next);
        if (!parsed) return;
        const pausing = parsed.paused && !camera.paused;
        camera.paused = parsed.paused;
        // Once the frame being made (if any) is out: the page learns which frame was the last.
        if (pausing) void camera.idle().then((sequence) => { if (camera.paused) notify('paused', { sequence }); });
        camera.uncapped = parsed.uncapped;
      },
      notice(kind, detail) {
        const frames = parseCameraFrames(kind, detail);
        // One feed per run: frames of another kind, or a second stream, are not taken.
        if (!frames || (feed !== undefined && (feed !== 'frames' || frames.feed !== 'frames')) || start.source !== 'camera') {
          if (frames?.feed === 'frames') frames.frame.close();
          else if (frames?.feed === 'stream') frames.readable.cancel().catch(() => undefined);
          else frames?.track.stop();
          return;
        }
        feed = frames.feed;
        if (frames.feed === 'frames') camera.offer(frames.frame);
        else if (frames.feed === 'stream') camera.readFrames(frames.readable);
        else if (TrackProcessor) {
          track = frames.track;
          camera.readFrames(new TrackProcessor({ track }).readable);
        } else frames.track.stop();
      },
      async close() {
        try {
          await camera.close();
        } finally {
          track?.stop();
        }
      },
    };
  },
});
