import { expect, test, vi } from 'vitest';
import { FdTable } from 'webgpu-dmabuf';
import '../../elements/camera/camera.js';
import { CameraPathEvent } from '../../elements/camera/camera-path-event.js';
import { FrameEvent } from '../../elements/frame/frame-event.js';
import type { FrameLease } from '../../elements/frame/frame-info.js';
import { cameraMounts } from './camera-mounts.js';
import { distinctReds, nextFrame, readFrame } from './frame-helpers.js';

/** The camera's ring: four dma-bufs. */
const RING_SLOTS = 4;
const mount = cameraMounts(320, 240);

test('<dmabuf-camera> takes the fastest path and its frames carry the fake camera picture', async () => {
  const paths: CameraPathEvent[] = [];
  const camera = mount((c) => { c.addEventListener(CameraPathEvent.type, (e) => { paths.push(e); }); });
  const { frame, bytes } = await nextFrame(camera);
  expect(frame.layout.format).toBe('rgba8');
  expect(bytes.length).toBe(frame.layout.byteLength);
  expect(distinctReds(bytes)).toBeGreaterThan(8);
  expect(paths.map((e) => e.path)).toEqual(['external-texture']);
  expect(camera.shadowRoot?.querySelector('[data-path]')?.getAttribute('data-path')).toBe('external-texture');
  // The rate to keep up with is the camera track's own (Chromium's fake camera: 20 fps).
  expect(camera.sourceFrameRate).toBeGreaterThan(0);
  // Alpha is always opaque.
  expect(bytes.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
});

test.each(['copy-external-image', 'copy-to'] as const)('<dmabuf-camera force-path="%s"> gives frames by the slower path too', async (path) => {
  const camera = mount((c) => { c.forcePath = path; });
  const { bytes } = await nextFrame(camera);
  expect(camera.path).toBe(path);
  expect(distinctReds(bytes)).toBeGreaterThan(8);
});

test('<dmabuf-camera> with the permission refused says so and draws a moving pattern instead', async () => {
  vi.spyOn(navigator.mediaDevices, 'getUserMedia').mockRejectedValue(new DOMException('Permission denied', 'NotAllowedError'));
  const camera = mount();
  const first = await nextFrame(camera);
  const later = await nextFrame(camera, (f) => f.sequence > first.frame.sequence + 2);
  expect(camera.path).toBe('pattern');
  expect(camera.sourceFrameRate).toBeUndefined();
  expect(camera.shadowRoot?.querySelector('[role="status"]')?.textContent).toContain('permission was refused');
  expect(distinctReds(first.bytes)).toBeGreaterThan(4);
  expect(later.bytes).not.toEqual(first.bytes);
});

test('<dmabuf-camera> never writes a slot an importer still holds: it drops frames instead', async () => {
  const camera = mount();
  // Hold every frame offered until the ring is exhausted.
  const table = new FdTable();
  const leases: FrameLease[] = [];
  const take = (event: FrameEvent) => { leases.push(event.accept(table)); };
  camera.addEventListener(FrameEvent.type, take);
  try {
    await expect.poll(() => leases.length, { timeout: 30_000 }).toBe(RING_SLOTS);
    const held = await Promise.all(leases.map((lease) => readFrame(table, lease.fd)));
    const dropped = camera.dropped;
    // The camera keeps taking camera frames and drops them, offering nothing new...
    await expect.poll(() => camera.dropped, { timeout: 30_000 }).toBeGreaterThan(dropped + 3);
    expect(leases.length).toBe(RING_SLOTS);
    // ...and the held frames' bytes are unchanged.
    const again = await Promise.all(leases.map((lease) => readFrame(table, lease.fd)));
    expect(again).toEqual(held);
    // Give one back: frames flow again.
    leases[0]?.release();
    await expect.poll(() => leases.length, { timeout: 30_000 }).toBeGreaterThan(RING_SLOTS);
  } finally {
    camera.removeEventListener(FrameEvent.type, take);
    for (const lease of leases) lease.release();
    table.closeAll();
  }
});
