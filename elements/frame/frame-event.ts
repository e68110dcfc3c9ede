import type { FdTable } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import type { FrameInfo, FrameLease } from './frame-info.js';

/**
 * Fired by an exporting module (`<dmabuf-camera>`, `<dmabuf-filter>`) on itself for each new
 * frame. It does not bubble: importers listen on the exporter they were wired to. An
 * importer that wants the frame calls {@link accept} with its own fd table while the event
 * is being dispatched; the buffer arrives there as an fd (`FdTable.send`), never as a
 * `GPUBuffer`.
 */
export class FrameEvent extends Event {
  /** The event's name. */
  static readonly type = 'dmabuf-frame';
  /** What travels with the frame's fd: its layout and where it came from. */
  readonly frame: FrameInfo;
  readonly #accept: (table: FdTable) => FrameLease;
  #open = true;

  constructor(frame: FrameInfo, accept: (table: FdTable) => FrameLease) {
    super(FrameEvent.type);
    this.frame = frame;
    this.#accept = accept;
  }

  /**
   * Receives the frame's buffer into `table` and returns the lease that gives it back.
   * @throws {DmabufElementError} `EEXPIRED` once the event's dispatch is over: the exporter may have reused the slot.
   */
  accept(table: FdTable): FrameLease {
    if (!this.#open) throw new DmabufElementError('EEXPIRED', 'FrameEvent.accept', `frame ${this.frame.sequence} of ${this.frame.exporter} is no longer on offer; accept it while the event is dispatched`);
    return this.#accept(table);
  }

  /** Called by the exporter when dispatch returns. */
  close(): void {
    this.#open = false;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'dmabuf-frame': FrameEvent;
  }
}
