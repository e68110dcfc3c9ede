/** What a {@link NewestMailbox} calls besides `process`. */
export interface NewestMailboxHooks<T> {
  /** An item that will not be processed: replaced by a newer one, or waiting at stop or failure. */
  readonly discard?: (item: T) => void;
  /** Counts an item replaced by a newer one before it was processed. */
  readonly onDrop: () => void;
  /** `process` rejected: the waiting item is discarded and the error handed on. */
  readonly onError: (error: unknown) => void;
}

/**
 * A module's mailbox of depth one: while one item is processed, only the newest waits
 * (replacing the one before), and items are processed one at a time. Frame importers keep
 * up with their source this way, dropping frames rather than queueing them.
 */
export class NewestMailbox<T> {
  readonly #process: (item: T) => Promise<void>;
  readonly #hooks: NewestMailboxHooks<T>;
  #pending: { item: T } | undefined;
  #running: Promise<void> | undefined;

  constructor(process: (item: T) => Promise<void>, hooks: NewestMailboxHooks<T>) {
    this.#process = process;
    this.#hooks = hooks;
  }

  /** Takes `item`, replacing (and discarding) the one waiting. */
  offer(item: T): void {
    if (this.#pending) {
      this.#hooks.discard?.(this.#pending.item);
      this.#hooks.onDrop();
    }
    this.#pending = { item };
    this.#running ??= this.#drain();
  }

  /** Discards the item waiting; resolves when the one in progress is done. */
  async stop(): Promise<void> {
    this.#discardPending();
    await this.#running;
  }

  #discardPending(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) this.#hooks.discard?.(pending.item);
  }

  async #drain(): Promise<void> {
    try {
      for (let next = this.#pending; next; next = this.#pending) {
        this.#pending = undefined;
        try {
          await this.#process(next.item);
        } catch (error) {
          this.#discardPending();
          this.#hooks.onError(error);
        }
      }
    } finally {
      // In the same task as the last check of #pending: an item offered later starts a new drain.
      this.#running = undefined;
    }
  }
}
