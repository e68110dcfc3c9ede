/**
 * The view's worker entry: the module worker `<dmabuf-view worker>` starts (beside its
 * element, so that bundlers bundle it with the element). It registers the view's
 * {@link ViewRenderer} with the worker's generic host under the role `'view'`, drawing into
 * the `OffscreenCanvas` the page handed over; each frame drawn is a `'shown'` notice
 * ({@link ViewShownNotice}), and the request `'capture'` answers a {@link ViewCapture}.
 * Realm: a module worker.
 *
 * @module
 */
import { DmabufElementError } from '../element-error.js';
import { toSharedClock } from '../worker/frame-link.js';
import { registerWorkerModule } from '../worker/module-worker.js';
import { ViewRenderer } from './view-renderer.js';

registerWorkerModule({
  role: 'view',
  start({ device, name, source, host, canvas, notify }) {
    const label = `<dmabuf-view name="${name}"> (worker)`;
    if (!canvas) throw new DmabufElementError('ENOCONTEXT', label, 'the page handed the view\'s worker no OffscreenCanvas');
    const renderer = new ViewRenderer(device, {
      canvas, source, host, label,
      // Capture times cross on the clock every realm shares.
      onShown: (frame, latencyMs) => { notify('shown', { frame: toSharedClock(frame), latencyMs }); },
    });
    return {
      output: undefined,
      async request(method) {
        if (method !== 'capture') throw new DmabufElementError('EINVAL', `${label}.${method}`, 'the view answers only "capture"');
        const { frame, pixels } = await renderer.capture();
        return { value: { frame: toSharedClock(frame), pixels }, transfer: [pixels.buffer] };
      },
      close: () => renderer.close(),
    };
  },
});
