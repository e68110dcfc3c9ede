// `<dmabuf-camera source="pattern" uncapped>`, the frame-pipeline benchmark's source: no
// frame-rate cap (frames without animation frames), the next frame as soon as the importers
// take it (never one to wait behind another and be replaced), no frame dropped. Without
// `uncapped` the pattern keeps its pace of one frame per animation frame. Counts only, never speed.
import { expect, test, vi } from 'vitest';
import { FdTable } from 'webgpu-dmabuf';
import type { DmabufCamera } from '../../elements/camera/camera.component.js';
import '../../elements/camera/camera.js';
import { FrameEvent } from '../../elements/frame/frame-event.js';
import type { FrameLease } from '../../elements/frame/frame-info.js';
import { cameraMounts } from './camera-mounts.js';
import { distinctReds, nextFrame } from './frame-helpers.js';

const mountCamera = cameraMounts(160, 120);

/** A camera drawing the test pattern, with or without the frame-rate cap. */
function mount(uncapped: boolean): DmabufCamera {
  return mountCamera((camera) => {
    camera.source = 'pattern';
    camera.uncapped = uncapped;
  });
}

/**
 * Lets the uncapped loop run: it looks at its ring every millisecond, so `ms` is dozens of its
 * rounds. Only for showing that something does NOT happen (no frame drawn); never a deadline:
 * a slow machine can make the check weaker, never make a correct camera fail it.
 */
const letLoopRun = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

test('<dmabuf-camera uncapped> draws frames without animation frames; the default pattern waits for them', async () => {
  // No animation frame ever comes.
  vi.spyOn(window, 'requestAnimationFrame').mockImplementation(() => 0);
  const capped = mount(false);
  const uncapped = mount(true);
  await uncapped.updateComplete;
  expect(uncapped.hasAttribute('uncapped')).toBe(true);
  const first = await nextFrame(uncapped);
  const later = await nextFrame(uncapped, (f) => f.sequence > first.frame.sequence + 2);
  expect(uncapped.path).toBe('pattern');
  expect(distinctReds(first.bytes)).toBeGreaterThan(4);
  expect(later.bytes.length).toBe(160 * 120 * 4);
  await capped.settled;
  expect(capped.status).toBe('running');
  expect(capped.frames).toBe(0);
});

test('<dmabuf-camera uncapped> draws the next frame when the importer takes it: one worked on, one ready, none dropped; none while paused', async () => {
  const camera = mount(true);
  const table = new FdTable();
  const leases: FrameLease[] = [];
  const take = (event: FrameEvent) => { leases.push(event.accept(table)); };
  camera.addEventListener(FrameEvent.type, take);
  try {
    // An importer that never gives a frame back: it holds the one it works on and the next, and the camera waits.
    await expect.poll(() => leases.length, { timeout: 30_000 }).toBe(2);
    await letLoopRun(100);
    expect(leases.length).toBe(2);
    expect(camera.frames).toBe(2);
    // Each frame given back lets exactly one more come.
    for (let n = 3; n <= 6; n++) {
      leases.shift()?.release();
      await expect.poll(() => camera.frames, { timeout: 30_000 }).toBe(n);
      await letLoopRun(20);
      expect(camera.frames).toBe(n);
    }
    expect(camera.dropped).toBe(0);
    // Paused, it makes none even with nothing held.
    camera.paused = true;
    for (const lease of leases.splice(0)) lease.release();
    await letLoopRun(50);
    const frames = camera.frames;
    await letLoopRun(100);
    expect(camera.frames).toBe(frames);
    camera.paused = false;
    await expect.poll(() => camera.frames, { timeout: 30_000 }).toBeGreaterThan(frames);
    expect(camera.dropped).toBe(0);
  } finally {
    camera.removeEventListener(FrameEvent.type, take);
    for (const lease of leases) lease.release();
    table.closeAll();
  }
});

test('<dmabuf-camera> draws its card again a few times a second, not once per frame: a redraw per frame costs the page a layout and a paint per frame', async () => {
  const camera = mount(true);
  await camera.updateComplete;
  const render = vi.spyOn(camera, 'render');
  // Uncapped with no importer: frames as fast as the device makes them.
  await expect.poll(() => camera.frames, { timeout: 30_000 }).toBeGreaterThan(60);
  expect(render.mock.calls.length).toBeGreaterThan(0);
  expect(render.mock.calls.length).toBeLessThan(camera.frames / 2);
});
