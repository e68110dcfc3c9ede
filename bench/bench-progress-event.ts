import type { BenchProgress } from './run-bench.js';

/** Fired by `<dmabuf-bench>` as a run advances: after every warm-up run and every sample. */
export class BenchProgressEvent extends Event {
  static readonly type = 'dmabuf-bench-progress';
  readonly progress: BenchProgress;

  constructor(progress: BenchProgress) {
    super(BenchProgressEvent.type, { bubbles: true, composed: true });
    this.progress = progress;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'dmabuf-bench-progress': BenchProgressEvent;
  }
}
