import type { FdTable } from 'webgpu-dmabuf';
import { FrameEvent } from './frame-event.js';
import type { FrameLease } from './frame-info.js';
import { FrameImport } from './import-frame.js';

/** A frame an inbox hands to its importer: the lease, and its import, begun when the frame was taken. */
export interface InboxFrame {
  readonly lease: FrameLease;
  /** The importer runs its work on the frame with `import.use(…)`, at most once; the inbox cancels it if unused. */
  readonly import: FrameImport;
}

/**
 * An importer's inbox: it hands frames to `process` one at a time, and holds at most one
 * more, whose import (the map, which moves the bytes across devices) begins as soon as it
 * comes, while the importer still works on the frame before. A frame that comes while one
 * is already waiting is dropped (its lease released at once): the waiting frame's bytes are
 * already on their way, and dropping it instead would waste that move. So the importer
 * holds at most two leases (three with a view's frame on screen), the exporter's ring never
 * waits on a slow importer for more than that, and transfers overlap work.
 *
 * Every frame's import is ended (used or cancelled) and then its lease released, after
 * `process` settles, unless `process` keeps the lease (as a view keeps the frame on screen).
 *
 * Realm: any realm with WebGPU, the page or a worker (it needs no DOM).
 */
export class FrameInbox {
  readonly #table: FdTable;
  readonly #device: GPUDevice;
  readonly #process: (frame: InboxFrame) => Promise<boolean>;
  readonly #onDrop: () => void;
  readonly #onError: (error: unknown) => void;
  #next: InboxFrame | undefined;
  #running: Promise<void> | undefined;
  #source: EventTarget | undefined;
  readonly #listener = (event: Event) => {
    if (event instanceof FrameEvent) this.#offer(event.accept(this.#table));
  };

  /**
   * @param device the importer's device, which every frame is mapped for.
   * @param process does the importer's work on one frame, and resolves `true` when the
   *   importer keeps the lease (and releases it itself later), `false` to have it released now.
   * @param onDrop called for every frame dropped because another was already waiting.
   * @param onError called when `process` rejects; the inbox then stops taking frames.
   */
  constructor(table: FdTable, device: GPUDevice, process: (frame: InboxFrame) => Promise<boolean>, onDrop: () => void, onError: (error: unknown) => void) {
    this.#table = table;
    this.#device = device;
    this.#process = process;
    this.#onDrop = onDrop;
    this.#onError = onError;
  }

  /** Starts taking frames from `source`. */
  listen(source: EventTarget): void {
    this.#source = source;
    source.addEventListener(FrameEvent.type, this.#listener);
  }

  /** Stops taking frames, gives up the one waiting, and resolves when the one in progress is done. */
  async stop(): Promise<void> {
    this.#unlisten();
    await this.#giveUpNext();
    await this.#running;
  }

  #offer(lease: FrameLease): void {
    if (this.#next) {
      lease.release();
      this.#onDrop();
      return;
    }
    this.#next = { lease, import: new FrameImport(this.#table, lease, this.#device) };
    this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      for (let frame = this.#next; frame; frame = this.#next) {
        this.#next = undefined;
        let kept = false;
        try {
          kept = await this.#process(frame);
        } catch (error) {
          this.#unlisten();
          await this.#giveUpNext();
          this.#onError(error);
        } finally {
          await frame.import.cancel();
          if (!kept) frame.lease.release();
        }
      }
    } finally {
      // In the same task as the last check of #next: a frame offered later starts a new drain.
      this.#running = undefined;
    }
  }

  async #giveUpNext(): Promise<void> {
    const next = this.#next;
    this.#next = undefined;
    if (!next) return;
    await next.import.cancel();
    next.lease.release();
  }

  #unlisten(): void {
    this.#source?.removeEventListener(FrameEvent.type, this.#listener);
    this.#source = undefined;
  }
}
