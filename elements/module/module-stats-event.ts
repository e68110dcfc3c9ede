import type { ModuleStats } from './module-stats.js';

/**
 * Fired by every pipeline module after each frame with its counts. It bubbles and is
 * composed, so an inspector anywhere above (or in the same shadow root) hears every module.
 */
export class ModuleStatsEvent extends Event {
  /** The event's name. */
  static readonly type = 'dmabuf-module-stats';
  /** The module's figures after its latest frame. */
  readonly stats: ModuleStats;

  constructor(stats: ModuleStats) {
    super(ModuleStatsEvent.type, { bubbles: true, composed: true });
    this.stats = stats;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'dmabuf-module-stats': ModuleStatsEvent;
  }
}
