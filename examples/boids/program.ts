import type { BoidsProgram, DeviceMode } from './boids-program.js';
import { startReference } from './reference-program.js';
import { startShared } from './shared-program.js';

/**
 * Starts the flock in `mode` (frame 0, nothing drawn yet), drawing also into `canvas` when
 * given. The caller steps and closes it.
 * @throws {DmaBufError} `ENODEV` when the page has no WebGPU; what the program's start throws.
 */
export function startBoids(mode: DeviceMode, canvas?: HTMLCanvasElement): Promise<BoidsProgram> {
  return mode === 1 ? startReference(canvas) : startShared(canvas);
}

/**
 * Starts the flock in `mode` and runs `frames` frames of it, calling `onFrame` after each.
 * The caller closes what it returns; on a failure the program is closed here and the failure
 * thrown.
 */
export async function runBoids(mode: DeviceMode, frames: number, options: { canvas?: HTMLCanvasElement; onFrame?: (program: BoidsProgram) => void } = {}): Promise<BoidsProgram> {
  const program = await startBoids(mode, options.canvas);
  try {
    while (program.frame < frames) {
      await program.step();
      options.onFrame?.(program);
    }
    return program;
  } catch (error) {
    await program.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The mode a page's query asks for (`?devices=1` or `?devices=2`); two devices when it asks
 * for neither, as that is what the example is about.
 */
export function deviceModeOf(search: string): DeviceMode {
  return new URLSearchParams(search).get('devices') === '1' ? 1 : 2;
}
