import type { GpuHeapStats } from 'webgpu-dmabuf';

/**
 * What a module's logic reports to whatever hosts it: a `DmabufModule` element in the
 * page, or, in a module worker, the worker's messages to the element that hosts it
 * (elements/worker/module-worker.ts). The logic classes (the filter's
 * `FilterModule`, the view's `ViewRenderer`) know only this, never an element, so they run in
 * any realm with WebGPU. Types only: nothing here needs a DOM.
 */
export interface ModuleHost {
  /** One frame done, `frameMs` long; `heap` is the module's heap counts (exporters), `detail` one line about it. */
  frameDone(frameMs: number, heap: GpuHeapStats | undefined, detail: string): void;
  /** One frame let go: no free ring slot, or a newer frame came while it was busy. */
  frameDropped(): void;
  /** The module cannot go on: the host stops it and shows `error`. */
  fail(error: unknown): void;
}
