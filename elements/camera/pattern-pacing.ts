// The test pattern's pace: the camera's element waits on these between frames.
/**
 * The next animation frame's time, or `undefined` at once when `stop` settles first: the
 * capped test pattern's pace. Realm: the page (or a worker with `requestAnimationFrame`).
 */
export function nextAnimationFrame(stop: Promise<void>): Promise<number | undefined> {
  let id = 0;
  return Promise.race([
    new Promise<number>((resolve) => { id = requestAnimationFrame(resolve); }),
    stop.then(() => { cancelAnimationFrame(id); return undefined; }),
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
 * pause before it looks for a free ring slot again. Realm: the page.
 */
export function ringWait(stop: Promise<void>): Promise<void> {
  let id = 0;
  return Promise.race([
    new Promise<void>((resolve) => { id = window.setTimeout(resolve, RING_POLL_MS); }),
    stop.then(() => { clearTimeout(id); }),
  ]);
}
