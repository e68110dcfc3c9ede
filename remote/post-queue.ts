/**
 * Posting in call order over one connection while some payloads take time to go out: a
 * payload streaming through the shared ring waits for free slots, and every message posted
 * after it must wait for it too, or the peer would see them out of order. Messages that
 * come while nothing streams go out at once, within the call that posts them, which is what
 * keeps an operation's place in the exporter's call order.
 */

/** One connection's outgoing order. */
export class PostQueue {
  readonly #queued: (() => void | Promise<void>)[] = [];
  #streaming = false;

  /** Runs `task` now, unless a payload is streaming: then after it (and what came before), in order. */
  enqueue(task: () => void | Promise<void>): void {
    if (this.#streaming) {
      this.#queued.push(task);
      return;
    }
    const running = task();
    if (running) {
      this.#streaming = true;
      void this.#drain(running);
    }
  }

  /** Drops every task still waiting: the peer is gone. */
  clear(): void {
    this.#queued.length = 0;
  }

  async #drain(running: Promise<void>): Promise<void> {
    let current: Promise<void> | undefined = running;
    while (current) {
      try {
        await current;
      } catch {
        // A payload cut off by the peer's death: the tasks after it post nothing either.
      }
      current = undefined;
      while (!current && this.#queued.length > 0) current = this.#queued.shift()?.() ?? undefined;
    }
    this.#streaming = false;
  }
}
