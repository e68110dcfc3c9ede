// End to end: the demo's third mode, a worker per module, on real WebGPU with Chromium's fake
// camera. The camera, the filter and the views run in module workers of their own, each with
// its own device; the camera's frames reach the camera's worker untouched by the page and go
// from there to the filter's and the raw view's workers as fds over FdSockets, the filter's to
// the filtered view's; the filtered view draws into its canvas through
// transferControlToOffscreen(). The inspector lists every realm, the page
// says which transport the sockets run on, and switching back gives everything back.
import { expect, test, vi, type MockInstance } from 'vitest';
import { bufinfoEntries, FdTable } from 'webgpu-dmabuf';
import '../../demo/demo.js';
import type { DmabufCamera } from '../../elements/camera/camera.component.js';
import type { DmabufDemo } from '../../demo/demo.component.js';
import { DeviceModeEvent } from '../../demo/device-mode-event.js';
import type { DmabufFilter } from '../../elements/filter/filter.component.js';
import type { FrameLease } from '../../elements/frame/frame-info.js';
import type { DmabufView } from '../../elements/view/view.component.js';
import { workerRealmListings } from '../../elements/worker/worker-realms.js';
import { framesFlow, pageProblems, pauseOnShownFrame, required, smallDemo, wait } from './demo-helpers.js';
import { applyEffect, compareRgb } from '../elements/effect-reference.js';
import { distinctReds, readFrame } from '../elements/frame-helpers.js';

const problems = pageProblems();


/** The demo's modules, once its filtered view shows frames. */
async function showingModules(demo: DmabufDemo): Promise<{ camera: DmabufCamera; filter: DmabufFilter; view: DmabufView; preview: DmabufView }> {
  await expect.poll(() => demo.view?.shown?.origin ?? 0, wait('first frames shown')).toBeGreaterThan(2);
  return { camera: required(demo.camera, 'camera'), filter: required(demo.filter, 'filter'), view: required(demo.view, 'view'), preview: required(demo.preview, 'raw view') };
}

/** The worker the page told to start its module with `fields` (a role, a name), among the `postMessage` calls `posts` spied on. */
function startedWorker(posts: MockInstance<Worker['postMessage']>, fields: { readonly role?: string; readonly name?: string }): Worker {
  const index = posts.mock.calls.findIndex(([message]) => {
    const start = message as { worker?: unknown; role?: unknown; name?: unknown };
    return start.worker === 'start' && (fields.role === undefined || start.role === fields.role) && (fields.name === undefined || start.name === fields.name);
  });
  return required(posts.mock.contexts[index] as Worker | undefined, `the worker of ${JSON.stringify(fields)}`);
}

test('demo, a worker per module: every module runs in a worker and takes its frames straight from its source\'s, the filtered camera reaches the canvas, the inspector lists each realm, the transport is shown, and switching back gives every buffer back', async () => {
  const consoleErrors = vi.spyOn(console, 'error');
  const terminate = vi.spyOn(Worker.prototype, 'terminate');
  const demo: DmabufDemo = smallDemo();
  document.body.append(demo);
  const table = new FdTable();
  let held: FrameLease | undefined;
  try {
    const { camera, filter, view, preview } = await showingModules(demo);
    const inspector = required(demo.inspector, 'inspector');
    const modules = [camera, filter, view, preview];

    required(demo.shadowRoot?.querySelector<HTMLInputElement>('#mode-workers'), 'workers radio').click();
    await demo.settled;
    expect(demo.mode).toBe('workers');
    expect([camera.worker, filter.worker, view.worker, preview.worker]).toEqual([true, true, true, true]);
    expect(modules.map((m) => m.status)).toEqual(['running', 'running', 'running', 'running']);
    // The page relays no frame: the filter and the raw view take the camera's from its worker, the filtered view the filter's.
    expect([filter.frameRoute, view.frameRoute, preview.frameRoute]).toEqual(['direct', 'direct', 'direct']);
    // The fake camera's frames reach the camera's worker as a stream moved there (this Chromium moves no track).
    expect(camera.feed).toBe('stream');
    // Stats come from the workers, each on a device of its own there.
    await framesFlow(modules, 5);
    await expect.poll(() => inspector.rows.get('filter')?.device, wait('the filter reports its worker device')).toBe('filter device (worker)');
    expect(inspector.rows.get('camera')?.device).toBe('camera device (worker)');
    expect(inspector.rows.get('view')?.device).toBe('view device (worker)');
    // Capture to screen across realms, on the clock they share: a worker's performance.now() starts later.
    const latency = inspector.rows.get('view')?.frameMs ?? -1;
    expect(latency).toBeGreaterThanOrEqual(0);
    expect(latency).toBeLessThan(10_000);
    expect(view.shown?.capturedAt ?? Infinity).toBeLessThanOrEqual(performance.now());
    expect(inspector.rows.get('raw view')?.fps).toBeGreaterThan(0);

    // The page says which transport the sockets run on: shared memory, the page being cross-origin isolated.
    expect(demo.transport).toBe(crossOriginIsolated ? 'shared-memory' : 'message');
    expect(demo.transport).toBe(filter.transport);
    await demo.updateComplete;
    expect(demo.shadowRoot?.querySelector('[data-transport]')?.getAttribute('data-transport')).toBe(demo.transport);

    // The filtered canvas shows frames that advance: read back in the worker from the canvas's own texture.
    const first = await view.capture();
    await expect.poll(() => (view.shown?.origin ?? 0) > first.frame.origin, wait('the filtered view advances')).toBe(true);
    const second = await view.capture();
    expect(second.frame.origin).toBeGreaterThan(first.frame.origin);
    expect(distinctReds(second.pixels)).toBeGreaterThan(1);

    // And what it shows is the camera's frame, filtered: hold a camera frame, pause, compare with Sobel on the CPU.
    held = await pauseOnShownFrame(camera, [view, preview], table);
    const frame = held;
    const { width, height } = frame.frame.layout;
    const cameraBytes = await readFrame(table, frame.fd);
    const onScreen = await view.capture();
    expect(onScreen.frame.origin).toBe(frame.frame.sequence);
    const shown = compareRgb(onScreen.pixels, applyEffect('sobel', cameraBytes, width, height), 3);
    expect(shown.mean).toBeLessThan(0.5);
    expect(shown.offShare).toBeLessThan(0.005);
    expect(compareRgb((await preview.capture()).pixels, cameraBytes, 1).offShare).toBe(0);
    frame.release();
    held = undefined;
    camera.paused = false;

    // The inspector lists each realm's buffers: the page's and each worker's, labelled.
    const realms = await inspector.refreshRealms();
    expect(realms.map((r) => r.realm).sort()).toEqual(['page', 'worker camera', 'worker filter', 'worker raw view', 'worker view']);
    const filterRealm = required(realms.find((r) => r.realm === 'worker filter'), 'filter realm');
    expect(filterRealm.entries.map((e) => e.name).filter((n) => n.startsWith('filter frame')).sort()).toEqual(['filter frame 0', 'filter frame 1', 'filter frame 2', 'filter frame 3']);
    const cameraRealm = required(realms.find((r) => r.realm === 'worker camera'), 'camera realm');
    expect(cameraRealm.entries.map((e) => e.name).filter((n) => n.startsWith('camera frame')).sort()).toEqual(['camera frame 0', 'camera frame 1', 'camera frame 2', 'camera frame 3']);
    // The page has no ring of its own: at most frames of the workers', received.
    const pageRealm = required(realms.find((r) => r.realm === 'page'), 'page realm');
    expect(pageRealm.entries.every((e) => e.exporter === 'remote')).toBe(true);
    await inspector.updateComplete;
    const listed = new Set([...inspector.shadowRoot?.querySelectorAll('[data-table="bufinfo"] tr[data-realm]') ?? []].map((row) => row.getAttribute('data-realm')));
    // The page's own rows only while it holds a worker's frame.
    listed.delete('page');
    expect(listed).toEqual(new Set(['worker camera', 'worker filter', 'worker raw view', 'worker view']));

    // Back to a device each in the page: every worker stops, gives its frames back and is terminated.
    required(demo.shadowRoot?.querySelector<HTMLInputElement>('#mode-own'), 'own radio').click();
    await demo.settled;
    expect(demo.mode).toBe('own');
    expect(terminate).toHaveBeenCalledTimes(4);
    expect(await workerRealmListings()).toEqual([]);
    expect([camera.worker, filter.worker, view.worker, preview.worker]).toEqual([false, false, false, false]);
    await framesFlow(modules, 5);
    expect(modules.map((m) => m.status)).toEqual(['running', 'running', 'running', 'running']);
    // Only the page's own rings are left: nothing received from a worker.
    expect(bufinfoEntries().map((e) => e.name).sort()).toEqual(['camera frame 0', 'camera frame 1', 'camera frame 2', 'camera frame 3', 'filter frame 0', 'filter frame 1', 'filter frame 2', 'filter frame 3']);
    expect(bufinfoEntries().every((e) => e.exporter !== 'remote')).toBe(true);
    // The page's view draws again, on a fresh canvas of its own.
    const again = await view.capture();
    expect(distinctReds(again.pixels)).toBeGreaterThan(1);

    demo.remove();
    await demo.settled;
    expect(bufinfoEntries()).toEqual([]);
  } finally {
    held?.release();
    table.closeAll();
    demo.remove();
    await demo.settled;
  }
  expect(consoleErrors).not.toHaveBeenCalled();
  expect(problems).toEqual([]);
}, 240_000);

test('demo, from one shared device to a worker per module and back: the effect chosen reaches the worker, and the shared device is zero-copy again after', async () => {
  const consoleErrors = vi.spyOn(console, 'error');
  const demo: DmabufDemo = smallDemo();
  demo.shared = true;
  const modes: [boolean, boolean][] = [];
  demo.addEventListener(DeviceModeEvent.type, (event) => { modes.push([event.shared, event.workers]); });
  document.body.append(demo);
  const table = new FdTable();
  let held: FrameLease | undefined;
  try {
    const { camera, filter, view, preview } = await showingModules(demo);
    await demo.settled;
    const modules = [camera, filter, view, preview];
    expect(modules.every((m) => m.device !== undefined && m.device === camera.device)).toBe(true);

    await demo.setMode('workers');
    expect(camera.device).toBeUndefined();
    await framesFlow(modules, 3);
    filter.effect = 'invert';
    // The effect applies from the next frame the worker takes.
    await framesFlow([filter], 2);
    held = await pauseOnShownFrame(camera, [view], table);
    const frame = held;
    const { width, height } = frame.frame.layout;
    const onScreen = await view.capture();
    expect(compareRgb(onScreen.pixels, applyEffect('invert', await readFrame(table, frame.fd), width, height), 1).offShare).toBe(0);
    frame.release();
    held = undefined;
    camera.paused = false;

    await demo.setMode('shared');
    expect(modules.every((m) => m.device !== undefined && m.device === camera.device)).toBe(true);
    expect([camera.worker, filter.worker, view.worker, preview.worker]).toEqual([false, false, false, false]);
    await framesFlow(modules, 5);
    expect(camera.heapStats?.bytesCopied).toBe(0);
    expect(filter.heapStats?.bytesCopied).toBe(0);
    expect(bufinfoEntries().every((e) => e.exporter !== 'remote')).toBe(true);
    expect(modes).toEqual([[true, false], [false, true], [true, false]]);

    demo.remove();
    await demo.settled;
    expect(bufinfoEntries()).toEqual([]);
  } finally {
    held?.release();
    table.closeAll();
    demo.remove();
    await demo.settled;
  }
  expect(consoleErrors).not.toHaveBeenCalled();
  expect(problems).toEqual([]);
}, 240_000);

test('demo, a worker per module: the filtered view takes its frames from the filter\'s worker, and follows the filter when it moves to the page and back', async () => {
  const consoleErrors = vi.spyOn(console, 'error');
  const demo: DmabufDemo = smallDemo();
  document.body.append(demo);
  try {
    const { camera, filter, view } = await showingModules(demo);
    await demo.setMode('workers');
    expect(view.frameRoute).toBe('direct');
    await framesFlow([camera, filter, view], 3);
    // The filter alone back in the page: the view's worker starts again and takes its frames through the page.
    await filter.useWorker(false);
    await expect.poll(() => view.frameRoute, wait('the view relinks through the page')).toBe('page');
    await framesFlow([camera, filter, view], 3);
    // And into a worker again: straight from there.
    await filter.useWorker(true);
    await expect.poll(() => view.frameRoute, wait('the view relinks to the filter\'s worker')).toBe('direct');
    await framesFlow([camera, filter, view], 3);
    expect([filter.status, view.status]).toEqual(['running', 'running']);
    demo.remove();
    await demo.settled;
    await expect.poll(workerRealmListings).toEqual([]);
    expect(bufinfoEntries()).toEqual([]);
  } finally {
    demo.remove();
    await demo.settled;
  }
  expect(consoleErrors).not.toHaveBeenCalled();
  expect(problems).toEqual([]);
}, 240_000);

test('demo, a worker per module: a view\'s worker that takes its frames from the filter\'s and dies: the view fails, the filter gets its frames back and goes on', async () => {
  const consoleErrors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const posts = vi.spyOn(Worker.prototype, 'postMessage');
  const demo: DmabufDemo = smallDemo();
  document.body.append(demo);
  try {
    const { camera, filter, view } = await showingModules(demo);
    await demo.setMode('workers');
    expect(view.frameRoute).toBe('direct');
    await framesFlow([camera, filter, view], 3);
    startedWorker(posts, { name: 'view' }).terminate();

    await expect.poll(() => view.status, wait('the view fails when its worker is gone')).toBe('failed');
    expect(view.error).toBe('worker view is gone');
    // The filter's worker got back what the dead one held: its ring keeps turning.
    await framesFlow([camera, filter], 8);
    await demo.setMode('own');
    await framesFlow([camera, filter, view], 3);
    demo.remove();
    await demo.settled;
    expect(bufinfoEntries()).toEqual([]);
  } finally {
    demo.remove();
    await demo.settled;
  }
  expect(consoleErrors.mock.calls.map(([message]) => String(message))).toEqual(['<dmabuf-view name="view">: worker view is gone']);
  expect(problems).toEqual([]);
}, 240_000);

test('demo, a worker per module: a module worker that dies gives every frame it held back, its element fails (and an importer caught reading its frame with ENODEV), and switching mode starts them again', async () => {
  const consoleErrors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const posts = vi.spyOn(Worker.prototype, 'postMessage');
  const demo: DmabufDemo = smallDemo();
  document.body.append(demo);
  try {
    const { camera, filter, view, preview } = await showingModules(demo);
    await demo.setMode('workers');
    await framesFlow([camera, filter, preview], 3);
    // The filter's worker is the one the page told to start a filter.
    startedWorker(posts, { role: 'filter' }).terminate();

    await expect.poll(() => filter.status, wait('the filter fails when its worker is gone')).toBe('failed');
    expect(filter.error).toBe('worker filter is gone');
    // The camera got back what the dead worker held: it goes on making frames for the raw view
    // (and, once every module is stopped below, nothing is left alive).
    await framesFlow([camera, preview], 8);

    await demo.setMode('own');
    expect([filter.status, view.status]).toEqual(['running', 'running']);
    await framesFlow([camera, filter, view, preview], 3);
    demo.remove();
    await demo.settled;
    expect(bufinfoEntries()).toEqual([]);
  } finally {
    demo.remove();
    await demo.settled;
  }
  const errors = consoleErrors.mock.calls.map(([message]) => String(message));
  expect(errors).toContain('<dmabuf-filter name="filter">: worker filter is gone');
  // The filtered view's worker may have been reading a frame of the dead realm: ENODEV there, nothing else.
  expect(errors.filter((message) => !message.startsWith('<dmabuf-filter')).every((message) => message.startsWith('<dmabuf-view name="view">: worker view: ENODEV: '))).toBe(true);
  expect(problems).toEqual([]);
}, 240_000);
