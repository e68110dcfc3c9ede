// The filter's work without its element: a FilterModule on a device of its own takes frames
// from a plain EventTarget and offers its own on another, as a worker would host it.
import { afterEach, expect, test } from 'vitest';
import { FdTable } from 'webgpu-dmabuf';
import { FilterModule } from '../../elements/filter/filter-module.js';
import { FrameEvent } from '../../elements/frame/frame-event.js';
import type { FrameLease } from '../../elements/frame/frame-info.js';
import { newDevice } from '../gpu/gpu-helpers.js';
import { applyEffect, compareRgb } from './effect-reference.js';
import { exporterSource, recordingHost, type ExporterSource, type HostRecord } from './exporter-source.js';
import { expectNoBuffers, nextFrame } from './frame-helpers.js';
import { testPicture } from './test-source.js';

const WIDTH = 48;
const HEIGHT = 32;
/** The filter's ring. */
const FILTER_SLOTS = 4;

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  expectNoBuffers();
});

async function mount(): Promise<{ filter: FilterModule; source: ExporterSource; record: HostRecord }> {
  const source = await exporterSource('src', WIDTH, HEIGHT);
  const device = await newDevice('filter device');
  const record = recordingHost();
  const filter = new FilterModule(device, { name: 'fm', source: source.target, effect: 'invert', host: record.host });
  cleanup = async () => {
    await filter.close();
    expect(filter.heapStats).toMatchObject({ liveBuffers: 0, storageBytes: 0, mirrorBytes: 0 });
    await source.close();
    device.destroy();
    expect(record.errors).toEqual([]);
  };
  return { filter, source, record };
}

test('a FilterModule filters each frame of its source into a frame of its own, offered on its own EventTarget', async () => {
  const { filter, source, record } = await mount();
  expect(filter.target).toBeInstanceOf(EventTarget);
  const picture = testPicture(WIDTH, HEIGHT);
  const out = nextFrame(filter.target);
  expect(await source.publish(picture)).toBe(1);
  const { frame, bytes } = await out;
  expect(frame).toMatchObject({ exporter: 'fm', sequence: 1, origin: 1, layout: source.layout });
  expect(compareRgb(bytes, applyEffect('invert', picture, WIDTH, HEIGHT), 0).offShare).toBe(0);
  expect(record.done).toEqual([expect.objectContaining({ detail: 'invert', liveBuffers: FILTER_SLOTS })]);

  // The effect set now applies to the next frame.
  filter.effect = 'grayscale';
  const gray = nextFrame(filter.target);
  await source.publish(picture);
  expect(compareRgb((await gray).bytes, applyEffect('grayscale', picture, WIDTH, HEIGHT), 1).offShare).toBe(0);
  expect(record.done.map((d) => d.detail)).toEqual(['invert', 'grayscale']);
  expect(record.dropped).toBe(0);
});

test('a FilterModule drops a frame that finds every slot of its ring held, and close takes every frame back', async () => {
  const { filter, source, record } = await mount();
  const table = new FdTable();
  const leases: FrameLease[] = [];
  // An importer that keeps every frame until the filter asks for them back.
  filter.target.addEventListener(FrameEvent.type, (event) => {
    if (!(event instanceof FrameEvent)) return;
    const lease = event.accept(table);
    leases.push(lease);
    lease.signal.addEventListener('abort', () => { lease.release(); });
  });
  for (let n = 1; n <= FILTER_SLOTS + 1; n++) {
    await source.publish(testPicture(WIDTH, HEIGHT));
    // One frame at a time: the inbox then drops none.
    await expect.poll(() => record.done.length + record.dropped).toBe(n);
  }
  expect(leases).toHaveLength(FILTER_SLOTS);
  expect(record.dropped).toBe(1);
  await filter.close();
  expect(leases.every((lease) => lease.signal.aborted)).toBe(true);
  expect(table.openFds()).toEqual([]);
});
