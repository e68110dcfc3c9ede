/** Counts events in the last second: frames per second from frame timestamps. */
export class RateMeter {
  readonly #times: number[] = [];

  /** Records one event at `now` (ms) and returns the count within the last second. */
  tick(now = performance.now()): number {
    this.#times.push(now);
    while (this.#times.length > 0 && (this.#times[0] ?? now) <= now - 1000) this.#times.shift();
    return this.#times.length;
  }
}
