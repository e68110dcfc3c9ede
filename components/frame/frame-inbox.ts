import type { FdTable } from 'webgpu-dmabuf';
import { FrameEvent } from './frame-event.js';
import type { FrameLease } from './frame-info.js';
import { NewestMailbox } from './newest-mailbox.js';

/**
 * An importer's mailbox of depth one: it takes every frame its source offers, keeps only
 * the newest while the importer is busy (releasing the one it replaces), and hands frames
 * to `process` one at a time. Every lease it takes is released after `process` settles,
 * so the exporter's ring never waits on a slow importer for more than one frame (unless the
 * importer keeps a lease, as a view keeps the frame on screen).
 */
export class FrameInbox {
  readonly #table: FdTable;
  readonly #mailbox: NewestMailbox<FrameLease>;
  #source: EventTarget | undefined;
  readonly #listener = (event: Event) => {
    if (event instanceof FrameEvent) this.#mailbox.offer(event.accept(this.#table));
  };

  /**
   * @param process does the importer's work on one frame, and resolves `true` when the
   *   importer keeps the lease (and releases it itself later), `false` to have it released now.
   * @param onDrop called for every frame replaced before it was processed.
   * @param onError called when `process` rejects; the inbox then stops taking frames.
   */
  constructor(table: FdTable, process: (lease: FrameLease) => Promise<boolean>, onDrop: () => void, onError: (error: unknown) => void) {
    this.#table = table;
    const processThenRelease = async (lease: FrameLease) => {
      let kept = false;
      try {
        kept = await process(lease);
      } finally {
        if (!kept) lease.release();
      }
    };
    this.#mailbox = new NewestMailbox(processThenRelease, {
      discard: (lease) => { lease.release(); },
      onDrop,
      onError: (error) => {
        this.#unlisten();
        onError(error);
      },
    });
  }

  /** Starts taking frames from `source`. */
  listen(source: EventTarget): void {
    this.#source = source;
    source.addEventListener(FrameEvent.type, this.#listener);
  }

  /** Stops taking frames, releases the one waiting, and resolves when the one in progress is done. */
  async stop(): Promise<void> {
    this.#unlisten();
    await this.#mailbox.stop();
  }

  #unlisten(): void {
    this.#source?.removeEventListener(FrameEvent.type, this.#listener);
    this.#source = undefined;
  }
}
