import type { GpuHeap } from 'webgpu-dmabuf';

/** How many devices run the flock: 1, the reference without the library; 2, simulation and rendering in modules of their own, sharing the particles through fds. */
export type DeviceMode = 1 | 2;

/**
 * The flock, running frame by frame in either mode. Each frame is one fixed-dt simulation
 * step and one draw of its result, so after the same number of frames both modes hold the
 * same bytes. The program owns its devices, buffers, fds and heap until {@link close}.
 */
export interface BoidsProgram {
  readonly mode: DeviceMode;
  /** The program's devices (one or two), destroyed by {@link close}. */
  readonly devices: readonly GPUDevice[];
  /** The simulation module's heap with two devices (for its counts), none with one. */
  readonly heap: GpuHeap | undefined;
  /** Frames stepped and drawn so far. */
  readonly frame: number;
  /** Bytes the library has copied between devices so far; 0 with one device. */
  readonly bytesCopied: number;
  /**
   * Steps the flock once and draws the result; settles when the frame's GPU work is done, so
   * a frame loop never queues ahead of the GPU.
   * @throws {Error} or `DmaBufError` when the GPU or the sharing fails; the program should be closed then.
   */
  step(): Promise<void>;
  /**
   * Both ping-pong particle buffers as they are now, buffer 0 first (the latest state is in
   * buffer `frame % 2`).
   * @returns new arrays the caller owns.
   */
  readParticles(): Promise<Uint8Array[]>;
  /**
   * The last frame's pixels (`TARGET_SIZE` square, RGBA, top row first).
   * @returns a new array the caller owns.
   */
  readPixels(): Promise<Uint8Array>;
  /**
   * Lets go of everything: buffers, fds, heap, devices; again, it does nothing. Rejects,
   * after freeing what it can, when something would not go.
   */
  close(): Promise<void>;
}
