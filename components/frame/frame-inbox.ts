import type { FdTable } from 'webgpu-dmabuf';
import { FrameEvent } from './frame-event.js';
import type { FrameLease } from './frame-info.js';

/**
 * An importer's mailbox of depth one: it takes every frame its source offers, keeps only
 * the newest while the importer is busy (releasing the one it replaces), and hands frames
 * to `process` one at a time. Every lease it takes is released after `process` settles,
 * so the exporter's ring never waits on a slow importer for more than one frame (unless the
 * importer keeps a lease, as a view keeps the frame on screen).
 */
export class FrameInbox {
  readonly #table: FdTable;
  readonly #process: (lease: FrameLease) => Promise<boolean>;
  readonly #onDrop: () => void;
  readonly #onError: (error: unknown) => void;
  #source: EventTarget | undefined;
  #pending: FrameLease | undefined;
  #running: Promise<void> | undefined;
  readonly #listener = (event: Event) => {
    if (event instanceof FrameEvent) this.#offer(event);
  };

  /**
   * @param process does the importer's work on one frame, and resolves `true` when the
   *   importer keeps the lease (and releases it itself later), `false` to have it released now.
   * @param onDrop called for every frame replaced before it was processed.
   * @param onError called when `process` rejects; the inbox then stops taking frames.
   */
  constructor(table: FdTable, process: (lease: FrameLease) => Promise<boolean>, onDrop: () => void, onError: (error: unknown) => void) {
    this.#table = table;
    this.#process = process;
    this.#onDrop = onDrop;
    this.#onError = onError;
  }

  /** Starts taking frames from `source`. */
  listen(source: EventTarget): void {
    this.#source = source;
    source.addEventListener(FrameEvent.type, this.#listener);
  }

  /** Stops taking frames, releases the one waiting, and resolves when the one in progress is done. */
  async stop(): Promise<void> {
    this.#unlisten();
    await this.#running;
  }

  #unlisten(): void {
    this.#source?.removeEventListener(FrameEvent.type, this.#listener);
    this.#source = undefined;
    this.#pending?.release();
    this.#pending = undefined;
  }

  #offer(event: FrameEvent): void {
    const lease = event.accept(this.#table);
    if (this.#pending) {
      this.#pending.release();
      this.#onDrop();
    }
    this.#pending = lease;
    this.#running ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      await this.#drainPending();
    } finally {
      // In the same task as the last check of #pending: a frame offered later starts a new drain.
      this.#running = undefined;
    }
  }

  async #drainPending(): Promise<void> {
    while (this.#pending) {
      const lease = this.#pending;
      this.#pending = undefined;
      let kept = false;
      try {
        kept = await this.#process(lease);
      } catch (error) {
        this.#unlisten();
        this.#onError(error);
      } finally {
        if (!kept) lease.release();
      }
    }
  }
}
