import { afterEach, expect, test } from 'vitest';
import { FRAME_EFFECTS, type FrameEffect } from '../../elements/kernels/frame-effect.js';
import type { DmabufFilter } from '../../elements/filter/filter.component.js';
import '../../elements/filter/filter.js';
import { expectNoLeaks } from '../gpu/gpu-helpers.js';
import { applyEffect, compareRgb } from './effect-reference.js';
import { expectNoBuffers, nextFrame } from './frame-helpers.js';
import { testPicture, testSource, type TestSource } from './test-source.js';

const WIDTH = 96;
const HEIGHT = 64;
let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  expectNoBuffers();
});

async function mount(effect: FrameEffect, shared: boolean): Promise<{ filter: DmabufFilter; source: TestSource }> {
  const source = await testSource('src', WIDTH, HEIGHT);
  const filter = document.createElement('dmabuf-filter');
  filter.source = 'src';
  filter.effect = effect;
  if (shared) filter.device = source.device;
  document.body.append(filter);
  cleanup = async () => {
    filter.remove();
    await filter.settled;
    expect(filter.heapStats).toMatchObject({ liveBuffers: 0, storageBytes: 0, mirrorBytes: 0 });
    await source.close();
    expectNoLeaks(source.heap);
  };
  await expect.poll(() => filter.status, { timeout: 30_000 }).toBe('running');
  return { filter, source };
}

test.each(FRAME_EFFECTS)('<dmabuf-filter effect="%s"> on its own device writes the effect of the imported frame into its own dma-buf', async (effect) => {
  const { filter, source } = await mount(effect, false);
  const picture = testPicture(WIDTH, HEIGHT);
  const out = nextFrame(filter);
  expect(await source.publish(picture)).toBe(1);
  const { frame, bytes } = await out;
  expect(frame).toMatchObject({ exporter: 'filter', origin: 1, layout: source.layout });
  const diff = compareRgb(bytes, applyEffect(effect, picture, WIDTH, HEIGHT), 1);
  expect(diff.offShare).toBe(0);
  // Across devices the exporter's heap staged the frame over ('to-device' only).
  expect(source.heap.stats().bytesCopied).toBe(WIDTH * HEIGHT * 4);
});

test('<dmabuf-filter> on the exporter\'s device reads the frame zero-copy', async () => {
  const { filter, source } = await mount('invert', true);
  const picture = testPicture(WIDTH, HEIGHT);
  const out = nextFrame(filter);
  await source.publish(picture);
  const { bytes } = await out;
  expect(compareRgb(bytes, applyEffect('invert', picture, WIDTH, HEIGHT), 0).offShare).toBe(0);
  expect(source.heap.stats().bytesCopied).toBe(0);
  // The filter's heap copied only what this test read back through CPU access.
  expect(filter.heapStats?.bytesCopied).toBe(WIDTH * HEIGHT * 4);
});

test('<dmabuf-filter> effect select is labelled and changes the effect', async () => {
  const { filter } = await mount('sobel', false);
  await filter.updateComplete;
  const select = filter.shadowRoot?.querySelector('select');
  expect(filter.shadowRoot?.querySelector('label[for="effect"]')?.textContent).toBe('Effect');
  if (!select) throw new Error('no select');
  select.value = 'grayscale';
  select.dispatchEvent(new Event('change'));
  expect(filter.effect).toBe('grayscale');
});
