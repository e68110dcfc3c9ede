import type { GpuHeapStats } from 'webgpu-dmabuf';

/** What a pipeline module says about itself after each frame, for the inspector. */
export interface ModuleStats {
  /** The module's name (its `name` attribute). */
  readonly module: string;
  /** The kind of module: its tag without `dmabuf-`. */
  readonly kind: string;
  /** The label of the device it runs on. */
  readonly device: string;
  /** Whether that device is shared with other modules (given to it) or its own. */
  readonly sharedDevice: boolean;
  /** Frames done since the module (re)started on its device. */
  readonly frames: number;
  /** Frames it let go: no free ring slot, or a newer frame came while it was busy. */
  readonly dropped: number;
  /** Frames done in the last second. */
  readonly fps: number;
  /** Milliseconds of the last frame: producing it (camera), processing it (filter), or capture to display (view). */
  readonly frameMs: number;
  /** Its heap's counts, for exporters; `undefined` for a pure importer. */
  readonly heap: GpuHeapStats | undefined;
  /** One line of detail: the camera's path, the filter's effect, the view's frame size. */
  readonly detail: string;
}
