import type { DmaBufError } from 'webgpu-dmabuf';
import type { DmabufElementError } from '../element-error.js';

/**
 * Fired by a pipeline module on itself when it fails (its `status` turns `failed`), once per
 * failure, with the typed error that stopped it: a `DmaBufError` of the contract (a device
 * lost under a map: `ENODEV`) or a {@link DmabufElementError} of the elements (a `source`
 * that names no element: `ENOSOURCE`; its worker gone: `EWORKER`). It bubbles and is
 * composed, like the stats, so a page hears every module's failure in one place.
 */
export class ModuleErrorEvent extends Event {
  /** The event's name. */
  static readonly type = 'dmabuf-module-error';
  /** What stopped the module: branch on its `code`, read its `call` and `reason`. */
  readonly error: DmaBufError | DmabufElementError;

  constructor(error: DmaBufError | DmabufElementError) {
    super(ModuleErrorEvent.type, { bubbles: true, composed: true });
    this.error = error;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'dmabuf-module-error': ModuleErrorEvent;
  }
}
