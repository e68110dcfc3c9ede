// The camera in a module worker of its own (<dmabuf-camera worker>), on real WebGPU and real
// module workers: the test pattern drawn there reaches a view in a worker straight from the
// camera's worker and an importer in the page, each with the bytes the page's own pattern
// kernel draws for the frame's capture time; Chromium's fake camera reaches the worker by the
// feed this browser allows; moving and stopping gives every frame back and leaves no buffer
// and no worker.
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { bufinfoEntries, FdTable } from 'webgpu-dmabuf';
import '../../elements/camera/camera.js';
import '../../elements/view/view.js';
import type { DmabufCamera } from '../../elements/camera/camera.component.js';
import { TestPatternCapture } from '../../elements/camera/capture/test-pattern-capture.js';
import { FrameEvent } from '../../elements/frame/frame-event.js';
import type { FrameInfo, FrameLease } from '../../elements/frame/frame-info.js';
import { rgbaFrameLayout } from '../../elements/kernels/frame-layout.js';
import type { DmabufModule } from '../../elements/module/module-element.js';
import type { DmabufView } from '../../elements/view/view.component.js';
import { workerRealmListings } from '../../elements/worker/worker-realms.js';
import { framesFlow, wait } from '../demo/demo-helpers.js';
import { compareRgb } from '../elements/effect-reference.js';
import { distinctReds, readFrame } from '../elements/frame-helpers.js';
import { newDevice, readBytes } from '../gpu/gpu-helpers.js';

const WIDTH = 160;
const HEIGHT = 120;
const layout = rgbaFrameLayout(WIDTH, HEIGHT);

let device: GPUDevice;
const modules: DmabufModule[] = [];

beforeEach(async () => {
  device = await newDevice('page pattern device');
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const module of modules.splice(0).reverse()) {
    module.remove();
    await module.settled;
  }
  device.destroy();
});

/** A camera of 160 x 120 frames in a worker of its own, connected. */
function workerCamera(source: 'camera' | 'pattern'): DmabufCamera {
  const camera = document.createElement('dmabuf-camera');
  camera.id = `camera-${source}`;
  camera.name = `${source} camera`;
  camera.source = source;
  camera.width = WIDTH;
  camera.height = HEIGHT;
  camera.worker = true;
  document.body.append(camera);
  modules.push(camera);
  return camera;
}

/** A view of `source` in a worker of its own, connected. */
function workerView(source: string): DmabufView {
  const view = document.createElement('dmabuf-view');
  view.source = source;
  view.name = 'worker view';
  view.worker = true;
  document.body.append(view);
  modules.push(view);
  return view;
}

/** The pattern as the page's own kernel draws it for `frame`'s capture time, on the clock every realm shares. */
async function patternInPage(frame: FrameInfo): Promise<Uint8Array> {
  const dst = device.createBuffer({ label: 'page pattern', size: layout.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const pattern = new TestPatternCapture(device);
  try {
    pattern.draw(frame.capturedAt + performance.timeOrigin, { buffer: dst }, layout);
    return await readBytes(device, dst, 0, layout.byteLength);
  } finally {
    pattern.destroy();
    dst.destroy();
  }
}

/** The next frame `camera` offers in the page, taken into `table`. */
function nextLease(camera: EventTarget, table: FdTable): Promise<FrameLease> {
  return new Promise((resolve) => {
    const take = (event: Event) => {
      if (!(event instanceof FrameEvent)) return;
      camera.removeEventListener(FrameEvent.type, take);
      resolve(event.accept(table));
    };
    camera.addEventListener(FrameEvent.type, take);
  });
}

test('<dmabuf-camera worker> draws the pattern in its worker: a view in a worker takes it straight from there and a page importer from the element, both the bytes the page\'s kernel draws for that instant; stopping leaves no buffer and no worker', async () => {
  const terminate = vi.spyOn(Worker.prototype, 'terminate');
  const camera = workerCamera('pattern');
  await camera.settled;
  expect(camera.status).toBe('running');
  expect(camera.path).toBe('pattern');
  const view = workerView(camera.id);
  await view.settled;
  expect(view.frameRoute).toBe('direct');
  await framesFlow([camera, view], 3);
  expect(camera.layout).toEqual(layout);
  expect(camera.heapStats?.liveBuffers).toBe(4);

  // Nothing in the page imports the camera's frames: its worker sends the page none (the page gives none back).
  const posts = vi.spyOn(Worker.prototype, 'postMessage');
  await framesFlow([camera, view], 3);
  expect(posts.mock.calls.filter(([message]) => (message as { dmabufFrame?: unknown }).dmabufFrame === 'done')).toEqual([]);

  // In the page: the frame the worker made is the pattern at its capture time (shared clock).
  const table = new FdTable();
  try {
    const lease = await nextLease(camera, table);
    const bytes = (await readFrame(table, lease.fd)).subarray(0, layout.byteLength);
    lease.release();
    expect(lease.frame.layout).toEqual(layout);
    expect(distinctReds(bytes)).toBeGreaterThan(4);
    const drawn = compareRgb(bytes, await patternInPage(lease.frame), 1);
    expect(drawn.offShare).toBe(0);
  } finally {
    table.closeAll();
  }
  // In the view's worker: the canvas shows the camera worker's frame, untouched.
  const shown = await view.capture();
  expect(shown.frame.exporter).toBe('pattern camera');
  expect(compareRgb(shown.pixels, await patternInPage(shown.frame), 1).offShare).toBe(0);

  // Paused in its worker: it says which frame was its last, and makes none after it.
  camera.paused = true;
  await camera.updateComplete;
  await expect.poll(() => camera.pausedAfter, wait('the camera says which frame was its last')).toBeDefined();
  expect(camera.frames).toBe(camera.pausedAfter);
  await expect.poll(async () => {
    const before = camera.frames;
    await new Promise((resolve) => setTimeout(resolve, 200));
    return camera.frames === before;
  }, wait('the camera pauses in its worker')).toBe(true);

  view.remove();
  camera.remove();
  await Promise.all([view.settled, camera.settled]);
  expect([camera.workerBuffersLeftAlive, view.workerBuffersLeftAlive]).toEqual([0, 0]);
  expect(terminate).toHaveBeenCalledTimes(2);
  expect(await workerRealmListings()).toEqual([]);
  expect(bufinfoEntries()).toEqual([]);
}, 120_000);

test('<dmabuf-camera worker> moves to the page and back while a view in a worker takes its frames: the view relinks each time, every frame comes back, nothing is left', async () => {
  const camera = workerCamera('pattern');
  await camera.settled;
  const view = workerView(camera.id);
  await view.settled;
  await framesFlow([camera, view], 2);
  await camera.useWorker(false);
  await expect.poll(() => view.frameRoute, wait('the view takes the camera\'s frames through the page')).toBe('page');
  expect(camera.workerBuffersLeftAlive).toBe(0);
  await framesFlow([camera, view], 2);
  await camera.useWorker(true);
  await expect.poll(() => view.frameRoute, wait('the view takes them from the camera\'s worker again')).toBe('direct');
  await framesFlow([camera, view], 2);
  expect([camera.status, view.status]).toEqual(['running', 'running']);
  view.remove();
  camera.remove();
  await Promise.all([view.settled, camera.settled]);
  expect(await workerRealmListings()).toEqual([]);
  expect(bufinfoEntries()).toEqual([]);
}, 120_000);

test('<dmabuf-camera worker> takes the fake camera in its worker: the page moves its frames there untouched (this Chromium: the track processor\'s stream), and they come out as frames of the camera\'s size', async () => {
  const camera = workerCamera('camera');
  await camera.settled;
  expect(camera.status).toBe('running');
  expect(camera.notice).toBe('');
  // Chromium moves no MediaStreamTrack and has no MediaStreamTrackProcessor in a worker; its stream can move.
  expect(camera.feed).toBe('stream');
  await framesFlow([camera], 3);
  expect(camera.path).toBeDefined();
  expect(camera.path).not.toBe('pattern');
  const table = new FdTable();
  try {
    const lease = await nextLease(camera, table);
    const bytes = await readFrame(table, lease.fd);
    lease.release();
    expect(lease.frame.layout.width).toBeGreaterThan(0);
    expect(distinctReds(bytes.subarray(0, lease.frame.layout.byteLength))).toBeGreaterThan(1);
  } finally {
    table.closeAll();
  }
  camera.remove();
  await camera.settled;
  expect(camera.workerBuffersLeftAlive).toBe(0);
  expect(bufinfoEntries()).toEqual([]);
}, 120_000);

test('<dmabuf-camera worker> where the browser moves no stream of frames (Firefox): the page moves each VideoFrame to the worker, which makes frames of them', async () => {
  const post = Object.getOwnPropertyDescriptor(Worker.prototype, 'postMessage')?.value as (this: Worker, message: unknown, transfer: Transferable[]) => void;
  // This Chromium moves a MediaStreamTrackProcessor's stream: refuse it, as a browser that cannot would.
  vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: unknown, transfer?: Transferable[] | StructuredSerializeOptions) {
    if (Array.isArray(transfer) && transfer.some((moved) => moved instanceof ReadableStream)) throw new DOMException('refused by the test', 'DataCloneError');
    post.call(this, message, transfer as Transferable[]);
  });
  const camera = workerCamera('camera');
  await camera.settled;
  expect(camera.status).toBe('running');
  expect(camera.feed).toBe('frames');
  await framesFlow([camera], 3);
  expect(camera.path).not.toBe('pattern');
  camera.remove();
  await camera.settled;
  expect(camera.workerBuffersLeftAlive).toBe(0);
  expect(bufinfoEntries()).toEqual([]);
}, 120_000);
