import type { CameraPath } from './camera-path.js';

/** Fired by `<dmabuf-camera>` when it has found the path its frames take into the dma-buf. */
export class CameraPathEvent extends Event {
  /** The event's name. */
  static readonly type = 'dmabuf-camera-path';
  /** The path the camera's frames take. */
  readonly path: CameraPath;
  /** Why faster paths were not taken, one line each (empty when the first worked). */
  readonly skipped: readonly string[];

  constructor(path: CameraPath, skipped: readonly string[]) {
    super(CameraPathEvent.type, { bubbles: true, composed: true });
    this.path = path;
    this.skipped = skipped;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'dmabuf-camera-path': CameraPathEvent;
  }
}
