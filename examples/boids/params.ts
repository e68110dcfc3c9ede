// The fixed numbers of the flock. Both modes read them from here, so that one device and
// two devices run exactly the same arithmetic: no wall clock, no Math.random.

/** Boids in the flock. 1024 particles of 16 bytes are 16 KiB: one segment in any heap. */
export const PARTICLE_COUNT = 1024;

/** Bytes of one particle: position then velocity, two `vec2f` (WGSL `Particle`). */
export const PARTICLE_BYTES = 16;

/** Bytes of one particle buffer. */
export const PARTICLES_SIZE = PARTICLE_COUNT * PARTICLE_BYTES;

/** Seed of the initial flock's PRNG. */
export const FLOCK_SEED = 0x5eed_b01d;

/**
 * The steering rules, in the order of WGSL's `Rules` struct. `dt` is fixed per frame rather
 * than measured, so a frame is the same step however long the browser took to draw it.
 */
export const RULES = {
  dt: 1 / 30,
  cohesionRadius: 0.12,
  separationRadius: 0.05,
  alignmentRadius: 0.07,
  cohesionWeight: 0.006,
  separationWeight: 0.12,
  alignmentWeight: 0.05,
  maxSpeed: 0.15,
} as const;

/** The rules as the uniform buffer holds them: eight `f32`, 32 bytes. */
export function rulesData(): Float32Array<ArrayBuffer> {
  return Float32Array.of(
    RULES.dt,
    RULES.cohesionRadius,
    RULES.separationRadius,
    RULES.alignmentRadius,
    RULES.cohesionWeight,
    RULES.separationWeight,
    RULES.alignmentWeight,
    RULES.maxSpeed,
  );
}

/** Side of the square render target in pixels; fixed so that pixels can be compared across runs. */
export const TARGET_SIZE = 256;

/**
 * Format of the render target and of the canvas: the canvas shows a copy of the very pixels
 * a test reads back. `rgba8unorm` is one of the formats every canvas context accepts.
 */
export const TARGET_FORMAT: GPUTextureFormat = 'rgba8unorm';

/** The background the renderer clears to. */
export const CLEAR_COLOR: GPUColorDict = { r: 0.06, g: 0.07, b: 0.1, a: 1 };
