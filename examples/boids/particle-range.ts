import { PARTICLES_SIZE } from './params.js';
import type { ParticleRange } from './simulation.js';

/** The part of an `SgTable` this reads: its segments' ranges (an `SgTable` is one). */
export interface MappedSegments {
  readonly segments: readonly { readonly buffer: GPUBuffer; readonly offset: number; readonly length: number }[];
}

/**
 * The particle array of a mapped dma-buf as one range, for a bind group or a vertex buffer
 * slot, both of which take one contiguous range.
 *
 * The simulation module allocates its buffers `contiguous`, which makes one segment on every
 * device a promise; a table of any other shape (a buffer from another exporter) would need
 * shaders that follow segments, so this refuses it instead of drawing half a flock.
 * @throws {Error} when the table has other than exactly one segment, or one too short.
 */
export function particleRange(sgt: MappedSegments, what: string): ParticleRange {
  const [segment, ...rest] = sgt.segments;
  if (!segment || rest.length > 0) {
    throw new Error(`${what}: the particle buffer mapped as ${String(sgt.segments.length)} segments; the boids shaders need exactly one`);
  }
  if (segment.length < PARTICLES_SIZE) {
    throw new Error(`${what}: the particle buffer's segment holds ${String(segment.length)} bytes, not ${String(PARTICLES_SIZE)}`);
  }
  return { buffer: segment.buffer, offset: segment.offset };
}
