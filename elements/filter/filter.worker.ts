/**
 * The filter's worker entry: the module worker `<dmabuf-filter worker>` starts (beside its
 * element, so that bundlers bundle it with the element). It registers the filter's
 * {@link FilterModule} with the worker's generic host under the role `'filter'`; its settings
 * are `{ effect }` ({@link FilterWorkerSettings}). Realm: a module worker.
 *
 * @module
 */
import { isFrameEffect, type FrameEffect } from '../kernels/frame-effect.js';
import { registerWorkerModule } from '../worker/module-worker.js';
import { isRecord } from '../worker/wire-fields.js';
import { FilterModule } from './filter-module.js';

/** The filter's settings as they cross to its worker. */
export interface FilterWorkerSettings {
  /** The effect applied to the next frame. */
  readonly effect: FrameEffect;
}

/** The effect in `settings`, or `undefined` when they do not parse. */
function effectOf(settings: unknown): FrameEffect | undefined {
  return isRecord(settings) && isFrameEffect(settings.effect) ? settings.effect : undefined;
}

registerWorkerModule({
  role: 'filter',
  start({ device, name, source, host, settings }) {
    const filter = new FilterModule(device, { name, source, effect: effectOf(settings) ?? 'none', host });
    return {
      output: filter.target,
      configure(next) {
        const effect = effectOf(next);
        if (effect) filter.effect = effect;
      },
      close: () => filter.close(),
    };
  },
});
