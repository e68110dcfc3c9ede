// The camera's capture paths without its element: each writes a VideoFrame's picture into a
// plain storage buffer as packed RGBA; VideoFrameCapture finds the fastest that works, says
// which once, and passes over a path the browser refuses; the pattern moves with time.
import { afterEach, beforeEach, expect, test } from 'vitest';
import { TestPatternCapture } from '../../elements/camera/capture/test-pattern-capture.js';
import { VideoFrameCapture } from '../../elements/camera/capture/video-frame-capture.js';
import type { VideoFramePath } from '../../elements/camera/capture/frame-capture.js';
import { CAMERA_PATHS } from '../../elements/camera/camera-path.js';
import { rgbaFrameLayout } from '../../elements/kernels/frame-layout.js';
import { newDevice, readBytes } from '../gpu/gpu-helpers.js';
import { compareRgb } from './effect-reference.js';
import { distinctReds } from './frame-helpers.js';
import { testPicture } from './test-source.js';

const WIDTH = 64;
const HEIGHT = 48;
const layout = rgbaFrameLayout(WIDTH, HEIGHT);
let device: GPUDevice;
let dst: GPUBuffer;

beforeEach(async () => {
  device = await newDevice('capture device');
  dst = device.createBuffer({ label: 'capture target', size: layout.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
});

afterEach(() => {
  dst.destroy();
  device.destroy();
});

/** An opaque RGBA video frame of the test picture. */
function rgbaFrame(): VideoFrame {
  return new VideoFrame(testPicture(WIDTH, HEIGHT), { format: 'RGBA', codedWidth: WIDTH, codedHeight: HEIGHT, timestamp: 0 });
}

test.each(CAMERA_PATHS)('the %s path writes a VideoFrame into a buffer as packed RGBA', async (path) => {
  const seen: [VideoFramePath, readonly string[]][] = [];
  const capture = new VideoFrameCapture(device, (found, skipped) => { seen.push([found, skipped]); }, path);
  const frame = rgbaFrame();
  try {
    await capture.write(frame, { buffer: dst }, layout);
    await capture.write(frame, { buffer: dst }, layout);
  } finally {
    frame.close();
    capture.destroy();
  }
  expect(capture.path).toBe(path);
  // Said once, for the first frame.
  expect(seen).toEqual([[path, []]]);
  const bytes = await readBytes(device, dst, 0, layout.byteLength);
  expect(compareRgb(bytes, testPicture(WIDTH, HEIGHT), 2).offShare).toBe(0);
  expect(bytes.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
});

test('a path the browser refuses for a frame is passed over, with the reason, and nothing is taken as found', async () => {
  // Planes the planes kernel does not read: the only path asked for is refused.
  const frame = new VideoFrame(new Uint8Array(WIDTH * HEIGHT * 3), { format: 'I444', codedWidth: WIDTH, codedHeight: HEIGHT, timestamp: 0 });
  const capture = new VideoFrameCapture(device, () => { throw new Error('no path should be found'); }, 'copy-to');
  try {
    await expect(capture.write(frame, { buffer: dst }, layout)).rejects.toThrow('no way to get camera frames into a buffer worked: copy-to: VideoFrame format I444 is not one the planes kernel reads');
    expect(capture.path).toBeUndefined();
  } finally {
    frame.close();
    capture.destroy();
  }
});

test('the test pattern is drawn on the GPU and moves with time', async () => {
  const pattern = new TestPatternCapture(device);
  try {
    pattern.draw(0, { buffer: dst }, layout);
    const first = await readBytes(device, dst, 0, layout.byteLength);
    pattern.draw(500, { buffer: dst }, layout);
    const later = await readBytes(device, dst, 0, layout.byteLength);
    expect(distinctReds(first)).toBeGreaterThan(4);
    expect(later).not.toEqual(first);
  } finally {
    pattern.destroy();
  }
});
