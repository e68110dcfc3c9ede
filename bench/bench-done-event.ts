import type { BenchReport } from './report.js';

/** Fired by `<dmabuf-bench>` when a run has finished, with its report. */
export class BenchDoneEvent extends Event {
  static readonly type = 'dmabuf-bench-done';
  readonly report: BenchReport;

  constructor(report: BenchReport) {
    super(BenchDoneEvent.type, { bubbles: true, composed: true });
    this.report = report;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'dmabuf-bench-done': BenchDoneEvent;
  }
}
