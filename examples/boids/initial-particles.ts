import { FLOCK_SEED, PARTICLE_COUNT, PARTICLE_BYTES } from './params.js';

/**
 * A 32-bit PRNG (the SplitMix32 finaliser over a Weyl sequence): the same seed gives the same
 * sequence in every browser, which `Math.random` does not.
 * @returns a function giving numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e37_79b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0_aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a_2d97);
    return ((z ^ (z >>> 15)) >>> 0) / 2 ** 32;
  };
}

/**
 * The flock at frame 0: positions spread over the [-1, 1) square, velocities of random
 * heading and a speed below the limit. Laid out as WGSL's `array<Particle>`.
 * @returns a new array the caller owns, `PARTICLE_COUNT * PARTICLE_BYTES` bytes.
 */
export function initialParticles(seed = FLOCK_SEED): Float32Array<ArrayBuffer> {
  const random = seededRandom(seed);
  const data = new Float32Array((PARTICLE_COUNT * PARTICLE_BYTES) / 4);
  for (let i = 0; i < PARTICLE_COUNT; i++) {
    const heading = random() * 2 * Math.PI;
    const speed = 0.03 + random() * 0.07;
    data.set([random() * 2 - 1, random() * 2 - 1, Math.cos(heading) * speed, Math.sin(heading) * speed], i * 4);
  }
  return data;
}
