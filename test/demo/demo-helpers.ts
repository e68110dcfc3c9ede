// Helpers for the demo's end-to-end tests: the page's own errors collected per test, and
// waits on modules that are running.
import { afterEach, beforeEach, expect, vi } from 'vitest';
import type { FdTable } from 'webgpu-dmabuf';
import type { DmabufDemo } from '../../demo/demo.component.js';
import type { DmabufCamera } from '../../elements/camera/camera.component.js';
import { FrameEvent } from '../../elements/frame/frame-event.js';
import type { FrameLease } from '../../elements/frame/frame-info.js';
import type { DmabufView } from '../../elements/view/view.component.js';
import type { DmabufModule } from '../../elements/module/module-element.js';

/** Options of `expect.poll` for the demo's waits: long (SwiftShader), with a message. */
export const wait = (message: string) => ({ timeout: 60_000, interval: 50, message });

/**
 * Collects every uncaught error and unhandled rejection of the page during each test of the
 * file (and restores spies after each): the returned list is emptied before each test.
 */
export function pageProblems(): string[] {
  const problems: string[] = [];
  const onError = (event: ErrorEvent) => { problems.push(`error: ${event.message}`); };
  const onRejection = (event: PromiseRejectionEvent) => { problems.push(`unhandled rejection: ${String(event.reason)}`); };
  beforeEach(() => {
    problems.length = 0;
    window.addEventListener('error', onError);
    window.addEventListener('unhandledrejection', onRejection);
  });
  afterEach(() => {
    window.removeEventListener('error', onError);
    window.removeEventListener('unhandledrejection', onRejection);
    vi.restoreAllMocks();
  });
  return problems;
}

/** `value`, or an error naming the part of the demo that is missing. */
export function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`the demo has no ${what}`);
  return value;
}

/** Resolves once every module has drawn or made `more` frames after now, on the devices it has now. */
export async function framesFlow(modules: readonly DmabufModule[], more: number): Promise<void> {
  const start = modules.map((m) => m.frames);
  const state = () => modules.map((m) => `${m.name}: ${m.status} ${m.frames} frames, ${m.dropped} dropped`).join('; ');
  await expect.poll(() => modules.every((m, i) => m.frames >= (start[i] ?? 0) + more), wait(`frames flow (${state()})`)).toBe(true);
}

/**
 * A `<dmabuf-demo>` with 160 x 120 camera frames, not connected yet. Its pipelines run the
 * whole time a test waits on them, on the CPU here (SwiftShader): frames a sixteenth of the
 * default size leave the CPU to the tests running beside them, and every rule checked holds
 * at any size.
 */
export function smallDemo(): DmabufDemo {
  const demo = document.createElement('dmabuf-demo');
  demo.frameWidth = 160;
  demo.frameHeight = 120;
  return demo;
}

/**
 * Pauses the camera on a frame every view in `views` shows, and returns the test's own lease on
 * it: the last frame the camera made before the pause took effect (`pausedAfter`). A worker's
 * inbox drops the newest frame when one already waits, so the frame the camera paused on may
 * never be shown: then the camera runs on and pauses again.
 */
export async function pauseOnShownFrame(camera: DmabufCamera, views: readonly DmabufView[], table: FdTable): Promise<FrameLease> {
  const box: { held: FrameLease | undefined } = { held: undefined };
  const hold = (event: FrameEvent) => {
    box.held?.release();
    box.held = event.accept(table);
  };
  // Read through a call: the listener sets it between awaits, which narrowing does not see.
  const current = (): FrameLease | undefined => box.held;
  camera.addEventListener(FrameEvent.type, hold);
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      box.held?.release();
      box.held = undefined;
      camera.paused = false;
      await expect.poll(() => box.held !== undefined, wait('a camera frame to hold')).toBe(true);
      camera.paused = true;
      // The last frame made before the pause took effect (in a worker, frames made while the pause crossed come after).
      await expect.poll(() => camera.pausedAfter, wait('the camera says which frame was its last')).toBeDefined();
      const last = camera.pausedAfter;
      const shown = () => box.held?.frame.sequence === last && views.every((view) => view.shown !== undefined && view.shown.origin === last);
      const ok = await expect.poll(shown, { timeout: 3000, interval: 50 }).toBe(true).then(() => true, () => false);
      const lease = current();
      // Otherwise dropped on the way: the camera runs on and pauses on the next frame.
      if (ok && lease) {
        box.held = undefined;
        return lease;
      }
    }
    throw new Error('no frame the camera paused on was shown by every view');
  } finally {
    camera.removeEventListener(FrameEvent.type, hold);
    box.held?.release();
  }
}
