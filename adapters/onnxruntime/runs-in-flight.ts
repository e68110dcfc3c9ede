/**
 * The inference runs ONNX Runtime Web has started and not finished. `session.run(feeds)` reads
 * its feeds when called (a `'gpu-buffer'` tensor's `GPUBuffer` included) but records and
 * submits the GPU work later, before its promise settles: a tensor disposed right after the
 * call is still used. ONNX Runtime has no event for it; the adapter wraps
 * `InferenceSession.prototype.run` once, at its first import, and changes nothing of what it does.
 */
import { InferenceSession } from 'onnxruntime-web/webgpu';

type Run = { run: (...args: unknown[]) => Promise<unknown> };

const running = new Set<Promise<unknown>>();
let watching = false;

/** Starts following every session's runs, once. */
export function watchRuns(): void {
  if (watching) return;
  watching = true;
  // The value is a class; its type, a factory interface, does not say so.
  const prototype = (InferenceSession as unknown as { prototype: Run }).prototype;
  const run = prototype.run;
  prototype.run = function (this: InferenceSession, ...args: unknown[]): Promise<unknown> {
    const result = Reflect.apply(run, this, args);
    running.add(result);
    const settle = () => {
      running.delete(result);
    };
    result.then(settle, settle);
    return result;
  };
}

/**
 * Resolves once every run started before this call has settled (at once when none is under
 * way). Its GPU work has been submitted by then: ONNX Runtime's WebGPU EP submits a run's
 * commands before the run's promise settles.
 */
export function runsSettled(): Promise<void> {
  return Promise.allSettled([...running]).then(() => undefined);
}
