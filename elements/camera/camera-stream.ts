import { DmabufElementError } from '../element-error.js';

/** Chromium's `MediaStreamTrackProcessor`: a camera track as a stream of `VideoFrame`s. */
interface TrackProcessor {
  readonly readable: ReadableStream<VideoFrame>;
}
type TrackProcessorClass = new (init: { track: MediaStreamTrack }) => TrackProcessor;

/** This realm's `MediaStreamTrackProcessor`, where it has one (Chromium's page; no worker of Chromium's). */
export function trackProcessor(): TrackProcessorClass | undefined {
  return (globalThis as { MediaStreamTrackProcessor?: TrackProcessorClass }).MediaStreamTrackProcessor;
}

/** What asking for the camera gave: its stream, or why there is none, as a sentence for the page. */
export type CameraOpening = { readonly stream: MediaStream } | { readonly notice: string };

/**
 * Asks for the camera at `width` x `height` (ideal), without sound. Never rejects: a browser
 * without a camera API here, a refused permission, no camera or another failure comes back
 * as a `notice` that says so. The caller owns the stream and stops its tracks.
 *
 * Realm: the page only (`navigator.mediaDevices`; a camera in a worker is not available).
 */
export async function openCamera(width: number, height: number): Promise<CameraOpening> {
  const instead = 'Showing a test pattern drawn on the GPU instead.';
  if (!('mediaDevices' in navigator) || typeof navigator.mediaDevices.getUserMedia !== 'function') {
    return { notice: `This browser offers no camera here (navigator.mediaDevices needs a secure context such as https or localhost). ${instead}` };
  }
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: width }, height: { ideal: height } }, audio: false }) };
  } catch (error) {
    const name = error instanceof DOMException ? error.name : '';
    const why = name === 'NotAllowedError' ? 'Camera permission was refused' : name === 'NotFoundError' ? 'No camera was found' : `The camera could not be opened (${String(error)})`;
    return { notice: `${why}. ${instead}` };
  }
}

/**
 * Hands each frame of `stream`'s video track to `take`, one at a time, until `stopped`
 * settles or the track ends, then stops every track of the stream. `take` owns the frame it
 * is given and closes it. Reads the track with `MediaStreamTrackProcessor` where there is
 * one, else through a `<video>` and `requestVideoFrameCallback`.
 * @throws {DmabufElementError} `ECAPTURE` when the stream has no video track; whatever `take` threw.
 *
 * Realm: the page only (a camera stream, and a `<video>` element where there is no
 * `MediaStreamTrackProcessor`).
 */
export async function readCameraFrames(stream: MediaStream, stopped: Promise<void>, take: (frame: VideoFrame) => Promise<void>): Promise<void> {
  const [track] = stream.getVideoTracks();
  try {
    if (!track) throw new DmabufElementError('ECAPTURE', 'readCameraFrames', 'the camera stream has no video track');
    const Processor = trackProcessor();
    if (Processor) {
      const reader = new Processor({ track }).readable.getReader();
      void stopped.then(() => reader.cancel());
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) break;
        await take(frame);
      }
    } else {
      await readVideoFrames(stream, stopped, take);
    }
  } finally {
    for (const t of stream.getTracks()) t.stop();
  }
}

/** Browsers without `MediaStreamTrackProcessor`: a `<video>` and `requestVideoFrameCallback`. */
async function readVideoFrames(stream: MediaStream, stopped: Promise<void>, take: (frame: VideoFrame) => Promise<void>): Promise<void> {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  await video.play();
  try {
    for (;;) {
      const shown = await Promise.race([new Promise<boolean>((resolve) => video.requestVideoFrameCallback(() => { resolve(true); })), stopped.then(() => false)]);
      if (!shown) break;
      await take(new VideoFrame(video, { timestamp: performance.now() * 1000 }));
    }
  } finally {
    video.pause();
    video.srcObject = null;
  }
}
