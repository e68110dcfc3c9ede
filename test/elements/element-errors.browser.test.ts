// The elements' typed errors: what fails in an element, its frame protocol or its module worker
// is a DmabufElementError with a code, the call and the reason; a module that fails fires a
// ModuleErrorEvent carrying it. On real WebGPU, with real module workers.
import { afterEach, expect, test } from 'vitest';
import { DmabufElementError } from '../../elements/element-error.js';
import type { DmabufFilter } from '../../elements/filter/filter.component.js';
import '../../elements/filter/filter.js';
import { rgbaFrameLayout } from '../../elements/kernels/frame-layout.js';
import { ModuleErrorEvent } from '../../elements/module/module-error-event.js';
import type { DmabufView } from '../../elements/view/view.component.js';
import '../../elements/view/view.js';
import { ModuleWorkerClient } from '../../elements/worker/module-worker-client.js';
import { expectNoLeaks } from '../gpu/gpu-helpers.js';
import { recordingHost } from './exporter-source.js';
import { expectNoBuffers } from './frame-helpers.js';
import { testSource } from './test-source.js';

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  expectNoBuffers();
});

/** Mounts `element`, and removes it (and lets it settle) after the test. */
function mounted<E extends DmabufView | DmabufFilter>(element: E): E {
  document.body.append(element);
  cleanup = async () => {
    element.remove();
    await element.settled;
  };
  return element;
}

/** The `dmabuf-module-error` events `element` fires. */
function moduleErrors(element: EventTarget): ModuleErrorEvent[] {
  const events: ModuleErrorEvent[] = [];
  element.addEventListener(ModuleErrorEvent.type, (event) => { if (event instanceof ModuleErrorEvent) events.push(event); });
  return events;
}

test('a view whose source names no element fails with ENOSOURCE, fires one dmabuf-module-error with it, and shows its reason', async () => {
  const view = document.createElement('dmabuf-view');
  view.source = 'nowhere';
  const events = moduleErrors(view);
  const bubbled: Event[] = [];
  const onBubbled = (event: Event) => { bubbled.push(event); };
  document.addEventListener(ModuleErrorEvent.type, onBubbled);
  try {
    mounted(view);
    await expect.poll(() => view.status, { timeout: 30_000 }).toBe('failed');
  } finally {
    document.removeEventListener(ModuleErrorEvent.type, onBubbled);
  }
  expect(events).toHaveLength(1);
  const { error } = events[0] as ModuleErrorEvent;
  expect(error).toBeInstanceOf(DmabufElementError);
  expect([error.code, error.call, error.reason]).toEqual(['ENOSOURCE', '<dmabuf-view>', 'source="nowhere" names no element in its document or shadow root']);
  expect(error.message).toBe('ENOSOURCE: <dmabuf-view>: source="nowhere" names no element in its document or shadow root');
  expect(view.failure).toBe(error);
  expect(view.error).toBe(error.reason);
  // It bubbles out of the element, composed, like the stats.
  expect(bubbled).toEqual(events);
});

test('a filter in a worker whose source names no element fails with ENOSOURCE before a worker starts; moved to the page once the source is there, it runs with no failure left', async () => {
  const filter = document.createElement('dmabuf-filter');
  filter.source = 'later';
  filter.worker = true;
  const events = moduleErrors(filter);
  mounted(filter);
  await expect.poll(() => filter.status, { timeout: 30_000 }).toBe('failed');
  expect(events.map((e) => [e.error.code, e.error.call])).toEqual([['ENOSOURCE', '<dmabuf-filter>']]);
  expect(filter.workerBuffersLeftAlive).toBeUndefined();

  const source = await testSource('later', 16, 16);
  const stop = cleanup;
  cleanup = async () => {
    await stop?.();
    await source.close();
    expectNoLeaks(source.heap);
  };
  // A failed module starts again on a change of where it runs.
  await filter.useWorker(false);
  await expect.poll(() => filter.status, { timeout: 30_000 }).toBe('running');
  expect(filter.failure).toBeUndefined();
  expect(filter.error).toBe('');
});

test('capture on a view that is not running rejects with ENOFRAME, naming the call', async () => {
  const view = document.createElement('dmabuf-view');
  const failure = await view.capture().then(() => undefined, (error: unknown) => error);
  expect(failure).toBeInstanceOf(DmabufElementError);
  const { code, call, reason } = failure as DmabufElementError;
  expect([code, call, reason]).toEqual(['ENOFRAME', '<dmabuf-view>.capture', 'the view is not running: no frame on screen']);
});

test('capture on a view in a worker with no frame yet rejects with the worker\'s ENOFRAME, rebuilt in the page as a DmabufElementError', async () => {
  const source = await testSource('quiet', 16, 16);
  const view = document.createElement('dmabuf-view');
  view.name = 'quiet view';
  view.source = 'quiet';
  view.worker = true;
  mounted(view);
  const stop = cleanup;
  cleanup = async () => {
    await stop?.();
    await source.close();
    expectNoLeaks(source.heap);
  };
  await expect.poll(() => view.status, { timeout: 30_000 }).toBe('running');
  const failure = await view.capture().then(() => undefined, (error: unknown) => error);
  expect(failure).toBeInstanceOf(DmabufElementError);
  const { code, call, reason } = failure as DmabufElementError;
  expect([code, call, reason]).toEqual(['ENOFRAME', '<dmabuf-view name="quiet view"> (worker).capture', 'no frame on screen']);
  // A refused request does not fail the module.
  expect(view.status).toBe('running');
});

test('a worker entry asked for a module of a role it does not host fails its start with EWORKER, whose cause is the worker\'s ENOWORKER naming the roles it hosts', async () => {
  const record = recordingHost();
  const client = new ModuleWorkerClient({
    role: 'view', owner: '<test-module>', name: 'misrouted', source: new EventTarget(), host: record.host,
    spawn: (realm) => new Worker(new URL('../../elements/filter/filter.worker.ts', import.meta.url), { type: 'module', name: realm }),
  });
  try {
    const failure = await client.start().then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(DmabufElementError);
    const { code, call, reason, cause } = failure as DmabufElementError;
    expect([code, call]).toEqual(['EWORKER', '<test-module>']);
    expect(cause).toBeInstanceOf(DmabufElementError);
    const inner = cause as DmabufElementError;
    expect([inner.code, inner.call, inner.reason]).toEqual(['ENOWORKER', 'worker misrouted', 'this worker entry hosts no module of role "view" (it hosts filter)']);
    expect(reason).toBe(`worker misrouted: ${inner.message}`);
  } finally {
    await client.close();
  }
  // It failed before it asked for a device or took a frame: it stopped holding nothing.
  expect(client.leftAlive).toEqual([]);
});

test('a frame layout of zero width is EINVAL, naming rgbaFrameLayout and the size given', () => {
  let thrown: unknown;
  try {
    rgbaFrameLayout(0, 4);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DmabufElementError);
  const { code, call, reason } = thrown as DmabufElementError;
  expect([code, call, reason]).toEqual(['EINVAL', 'rgbaFrameLayout', 'width and height must be positive integers, got 0 x 4']);
});
