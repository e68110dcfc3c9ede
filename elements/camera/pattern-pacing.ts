// The test pattern's pace: the camera module waits on these between frames.
/** The display's rate assumed where a realm has no `requestAnimationFrame`, ms per frame. */
const DISPLAY_FRAME_MS = 1000 / 60;

/**
 * Resolves `true` at the next animation frame (`requestAnimationFrame`, which the page and,
 * in Chromium, a dedicated worker have; elsewhere a timer at 60 Hz), or `false` at once when
 * `stop` settles first: the capped test pattern's pace. Realm: the page or a worker.
 */
export function nextPatternFrame(stop: Promise<void>): Promise<boolean> {
  if (typeof requestAnimationFrame !== 'function') return timerWait(DISPLAY_FRAME_MS, stop);
  let id = 0;
  return Promise.race([
    new Promise<boolean>((resolve) => { id = requestAnimationFrame(() => { resolve(true); }); }),
    stop.then(() => { cancelAnimationFrame(id); return false; }),
  ]);
}

/** Resolves `true` after `ms`, or `false` as soon as `stop` settles first. */
function timerWait(ms: number, stop: Promise<void>): Promise<boolean> {
  let id: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    new Promise<boolean>((resolve) => { id = setTimeout(() => { resolve(true); }, ms); }),
    stop.then(() => { clearTimeout(id); return false; }),
  ]);
}

/**
 * How long an uncapped test pattern (`<dmabuf-camera uncapped>`) waits before it looks at
 * its ring again, ms: the ring tells no one when a lease comes back. (Browsers stretch
 * nested timers to 4 ms.)
 */
const RING_POLL_MS = 1;

/**
 * Waits {@link RING_POLL_MS}, or less when `stop` settles first: the uncapped test pattern's
 * pause before it looks for a free ring slot again. Realm: the page or a worker.
 */
export async function ringWait(stop: Promise<void>): Promise<void> {
  await timerWait(RING_POLL_MS, stop);
}
