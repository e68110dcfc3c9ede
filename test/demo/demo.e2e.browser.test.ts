// End to end: the demo page's own element, on real WebGPU with Chromium's fake camera.
// camera -> filter -> view, the inspector, the live device switch, and no console error.
import { expect, test, vi } from 'vitest';
import { page } from 'vitest/browser';
import { bufinfoEntries, FdTable } from 'webgpu-dmabuf';
import '../../demo/demo.js';
import type { DmabufDemo } from '../../demo/demo.component.js';
import type { FrameLease } from '../../elements/frame/frame-info.js';
import { framesFlow, pageProblems, pauseOnShownFrame, required, smallDemo, wait } from './demo-helpers.js';
import { applyEffect, compareRgb } from '../elements/effect-reference.js';
import { readFrame } from '../elements/frame-helpers.js';

const problems = pageProblems();

test('demo: the camera, filtered on the GPU, reaches the canvas; the inspector counts; the device switch works both ways', async () => {
  const consoleErrors = vi.spyOn(console, 'error');
  await page.viewport(1280, 1100);
  const demo: DmabufDemo = smallDemo();
  document.body.append(demo);
  const table = new FdTable();
  let held: FrameLease | undefined;
  try {
    await expect.poll(() => demo.view?.shown?.origin ?? 0, wait('first frames shown')).toBeGreaterThan(2);
    const camera = required(demo.camera, 'camera');
    const filter = required(demo.filter, 'filter');
    const view = required(demo.view, 'view');
    const preview = required(demo.preview, 'raw view');
    const inspector = required(demo.inspector, 'inspector');
    const modules = [camera, filter, view, preview];
    expect(camera.path).toBe('external-texture');
    expect(filter.effect).toBe('sobel');

    // Frames advance, on a device per module.
    await framesFlow(modules, 3);
    expect(modules.map((m) => m.status)).toEqual(['running', 'running', 'running', 'running']);

    // The filtered camera image: hold the camera's newest frame as another importer would, pause
    // the camera, and wait until both views show that very frame.
    held = await pauseOnShownFrame(camera, [view, preview], table);
    const frame = held;
    const { width, height } = frame.frame.layout;
    const cameraBytes = await readFrame(table, frame.fd);
    const canvas = required(view.canvas, 'canvas');
    expect([canvas.width, canvas.height]).toEqual([width, height]);
    expect(getComputedStyle(canvas).aspectRatio).toBe(`${width} / ${height}`);
    // What the canvas shows, read back from its own texture, against Sobel computed on the CPU.
    const onScreen = await view.capture();
    expect(onScreen.frame.origin).toBe(frame.frame.sequence);
    const expected = applyEffect('sobel', cameraBytes, width, height);
    const shown = compareRgb(onScreen.pixels, expected, 3);
    expect(shown.mean).toBeLessThan(0.5);
    expect(shown.offShare).toBeLessThan(0.005);
    // The picture has edges in it, not a blank canvas that happens to match a blank frame.
    expect(expected.filter((v, i) => i % 4 === 0 && v > 64).length).toBeGreaterThan(width);
    // The unfiltered view shows the camera frame itself.
    const raw = await preview.capture();
    expect(compareRgb(raw.pixels, cameraBytes, 1).offShare).toBe(0);
    frame.release();
    held = undefined;

    // The inspector lists the two rings (camera and filter, three buffers each) with plausible counts.
    inspector.refresh();
    const names = inspector.entries.map((e) => e.name).sort();
    expect(names).toEqual(['camera frame 0', 'camera frame 1', 'camera frame 2', 'camera frame 3', 'filter frame 0', 'filter frame 1', 'filter frame 2', 'filter frame 3']);
    for (const entry of inspector.entries) {
      expect(entry.size).toBe(width * height * 4);
      // The creator's reference and the exporter's fd, plus the views' frames on screen.
      expect(entry.refCount).toBeGreaterThanOrEqual(2);
      expect(entry.refCount).toBeLessThanOrEqual(4);
    }
    await demo.updateComplete;
    await inspector.updateComplete;
    expect(inspector.shadowRoot?.querySelectorAll('[data-table="bufinfo"] tbody tr[data-buffer]').length).toBe(8);
    expect([...inspector.rows.keys()].sort()).toEqual(['camera', 'filter', 'raw view', 'view']);
    camera.paused = false;
    await framesFlow(modules, 3);
    const independent = inspector.rows;
    for (const row of independent.values()) {
      expect(row.sharedDevice, row.module).toBe(false);
      expect(row.fps, row.module).toBeGreaterThan(0);
    }
    expect(inspector.totals.bytesCopied).toBeGreaterThan(0);
    expect(inspector.totals.copiedPerFrame).toBeGreaterThan(0);

    // Switch to one shared device with the keyboard-accessible radio: frames keep flowing, nothing is copied.
    const sharedRadio = required(demo.shadowRoot?.querySelector<HTMLInputElement>('#mode-shared'), 'shared radio');
    sharedRadio.click();
    await demo.settled;
    expect(modules.every((m) => m.device !== undefined && m.device === camera.device)).toBe(true);
    await framesFlow(modules, 5);
    await expect.poll(() => [...inspector.rows.values()].every((r) => r.sharedDevice), wait('every module reports the shared device')).toBe(true);
    expect(inspector.totals.bytesCopied).toBe(0);
    expect(camera.heapStats?.bytesCopied).toBe(0);
    expect(filter.heapStats?.bytesCopied).toBe(0);
    expect(camera.heapStats?.mirrorBytes).toBe(0);
    // The table shows the figures at its next reading.
    await expect.poll(() => inspector.shadowRoot?.querySelector('[data-total="copied-per-frame"]')?.textContent, wait('the inspector shows no copy per frame')).toBe('0 B');
    await page.screenshot({ path: '../../test-results/demo-shared.png' });

    // And back to a device each: frames flow again, and bytes are copied through staging.
    required(demo.shadowRoot?.querySelector<HTMLInputElement>('#mode-own'), 'own radio').click();
    await demo.settled;
    expect(modules.every((m) => m.device === undefined)).toBe(true);
    await framesFlow(modules, 5);
    await expect.poll(() => [...inspector.rows.values()].every((r) => !r.sharedDevice), wait('every module reports a device of its own')).toBe(true);
    expect(camera.heapStats?.bytesCopied).toBeGreaterThan(0);
    expect(filter.heapStats?.bytesCopied).toBeGreaterThan(0);
    expect(inspector.totals.bytesCopied).toBeGreaterThan(0);
    await page.screenshot({ path: '../../test-results/demo.png' });

    expect(modules.map((m) => m.status)).toEqual(['running', 'running', 'running', 'running']);
    const cameraStats = camera;
    const filterStats = filter;
    demo.remove();
    await demo.settled;
    // Every module gave everything back: no dma-buf alive, each heap empty.
    expect(bufinfoEntries()).toEqual([]);
    for (const heap of [cameraStats.heapStats, filterStats.heapStats]) {
      expect(heap).toMatchObject({ liveBuffers: 0, storageBytes: 0, mirrorBytes: 0 });
    }
  } finally {
    held?.release();
    table.closeAll();
    demo.remove();
    await demo.settled;
  }
  expect(consoleErrors).not.toHaveBeenCalled();
  expect(problems).toEqual([]);
}, 240_000);
