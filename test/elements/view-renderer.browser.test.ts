// The view's work without its element: a ViewRenderer on a device of its own draws the frames
// of a plain EventTarget into an OffscreenCanvas, as a worker would host it.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries } from 'webgpu-dmabuf';
import type { FrameInfo } from '../../elements/frame/frame-info.js';
import { ViewRenderer } from '../../elements/view/view-renderer.js';
import { newDevice } from '../gpu/gpu-helpers.js';
import { compareRgb } from './effect-reference.js';
import { exporterSource, recordingHost, type ExporterSource, type HostRecord } from './exporter-source.js';
import { expectNoBuffers } from './frame-helpers.js';
import { testPicture } from './test-source.js';

const WIDTH = 40;
const HEIGHT = 24;

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  expectNoBuffers();
});

async function mount(canvas: OffscreenCanvas): Promise<{ renderer: ViewRenderer; source: ExporterSource; record: HostRecord; shown: [FrameInfo, number][] }> {
  const source = await exporterSource('src', WIDTH, HEIGHT);
  const device = await newDevice('renderer device');
  const record = recordingHost();
  const shown: [FrameInfo, number][] = [];
  const renderer = new ViewRenderer(device, { canvas, source: source.target, host: record.host, onShown: (frame, latency) => { shown.push([frame, latency]); } });
  cleanup = async () => {
    await renderer.close();
    await source.close();
    device.destroy();
    expect(record.errors).toEqual([]);
  };
  return { renderer, source, record, shown };
}

test('a ViewRenderer draws each frame pixel for pixel into an OffscreenCanvas sized to it', async () => {
  const canvas = new OffscreenCanvas(1, 1);
  const { renderer, source, record, shown } = await mount(canvas);
  const picture = testPicture(WIDTH, HEIGHT);
  await source.publish(picture);
  await expect.poll(() => renderer.shown?.sequence).toBe(1);
  expect([canvas.width, canvas.height]).toEqual([WIDTH, HEIGHT]);
  expect(shown.map(([frame]) => frame.sequence)).toEqual([1]);
  expect(shown[0]?.[1]).toBeGreaterThanOrEqual(0);
  expect(record.done).toEqual([{ frameMs: shown[0]?.[1], detail: `${WIDTH}×${HEIGHT}`, liveBuffers: undefined }]);
  const { frame, pixels } = await renderer.capture();
  expect(frame.sequence).toBe(1);
  expect(compareRgb(pixels, picture, 0).offShare).toBe(0);
});

test('a ViewRenderer keeps the frame on screen until the next, gives it back when the exporter stops, and close ends it', async () => {
  const { renderer, source } = await mount(new OffscreenCanvas(1, 1));
  await source.publish(testPicture(WIDTH, HEIGHT));
  await expect.poll(() => renderer.shown?.sequence).toBe(1);
  // Its frame on screen: one slot of three is held.
  expect(bufinfoEntries().map((e) => e.refCount)).toEqual([3, 2, 2]);
  await source.publish(testPicture(WIDTH, HEIGHT).reverse());
  await expect.poll(() => renderer.shown?.sequence).toBe(2);
  expect(bufinfoEntries().map((e) => e.refCount)).toEqual([2, 3, 2]);
  // The exporter asks for its frames back: the renderer lets go of the one on screen.
  await source.exporter.close();
  expect(renderer.shown).toBeUndefined();
  await renderer.close();
  await expect(renderer.capture()).rejects.toThrow('ViewRenderer.capture: no frame on screen');
});

test('a ViewRenderer refuses a canvas that gives no WebGPU context', async () => {
  const canvas = new OffscreenCanvas(4, 4);
  canvas.getContext('2d');
  const device = await newDevice('renderer device');
  try {
    expect(() => new ViewRenderer(device, { canvas, source: new EventTarget(), host: recordingHost().host })).toThrow('ViewRenderer: the canvas gives no WebGPU context');
  } finally {
    device.destroy();
  }
});
