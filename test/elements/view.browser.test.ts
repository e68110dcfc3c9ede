import { afterEach, expect, test } from 'vitest';
import type { DmabufView } from '../../elements/view/view.component.js';
import '../../elements/view/view.js';
import { expectNoLeaks } from '../gpu/gpu-helpers.js';
import { compareRgb } from './effect-reference.js';
import { expectNoBuffers } from './frame-helpers.js';
import { testPicture, testSource, type TestSource } from './test-source.js';

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  expectNoBuffers();
});

async function mount(width: number, height: number, shared: boolean): Promise<{ view: DmabufView; source: TestSource }> {
  const source = await testSource('src', width, height);
  const view = document.createElement('dmabuf-view');
  view.source = 'src';
  view.label = 'Test picture';
  if (shared) view.device = source.device;
  document.body.append(view);
  cleanup = async () => {
    view.remove();
    await view.settled;
    await source.close();
    expectNoLeaks(source.heap);
  };
  await expect.poll(() => view.status, { timeout: 30_000 }).toBe('running');
  return { view, source };
}

test.each([false, true])('<dmabuf-view> draws the frame pixel for pixel at its aspect ratio (shared device: %s)', async (shared) => {
  const { view, source } = await mount(120, 40, shared);
  const picture = testPicture(120, 40);
  await source.publish(picture);
  await expect.poll(() => view.shown?.sequence, { timeout: 30_000 }).toBe(1);
  const canvas = view.canvas;
  expect([canvas?.width, canvas?.height]).toEqual([120, 40]);
  await view.updateComplete;
  expect(canvas && getComputedStyle(canvas).aspectRatio).toBe('120 / 40');
  expect(canvas?.getAttribute('aria-label')).toBe('Test picture');
  const { frame, pixels } = await view.capture();
  expect(frame.sequence).toBe(1);
  expect(compareRgb(pixels, picture, 0).offShare).toBe(0);
  expect(source.heap.stats().bytesCopied).toBe(shared ? 0 : 2 * 120 * 40 * 4);
});

test('<dmabuf-view> keeps the frame on screen until the next, and gives it back when the exporter asks', async () => {
  const { view, source } = await mount(32, 32, false);
  await source.publish(testPicture(32, 32));
  await expect.poll(() => view.shown?.sequence, { timeout: 30_000 }).toBe(1);
  // The view holds the first frame: one slot of three is taken.
  const { bufinfoEntries } = await import('webgpu-dmabuf');
  expect(bufinfoEntries().map((e) => e.refCount)).toEqual([3, 2, 2]);
  await source.publish(testPicture(32, 32).reverse());
  await expect.poll(() => view.shown?.sequence, { timeout: 30_000 }).toBe(2);
  expect(bufinfoEntries().map((e) => e.refCount)).toEqual([2, 3, 2]);
});
