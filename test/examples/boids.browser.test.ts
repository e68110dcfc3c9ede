// The boids example: a flock simulated on one device and drawn on another, the particle
// buffers shared through fds, must hold and draw exactly what the same shaders give on one
// device without the library. Runs on the real WebGPU adapter (SwiftShader without a GPU).
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries, requestGpuDevice } from 'webgpu-dmabuf';
import type { BoidsProgram } from '../../examples/boids/boids-program.js';
import { initialParticles } from '../../examples/boids/initial-particles.js';
import { PARTICLES_SIZE, TARGET_SIZE } from '../../examples/boids/params.js';
import { particleRange, type MappedSegments } from '../../examples/boids/particle-range.js';
import { runBoids } from '../../examples/boids/program.js';
import { expectNoLeaks } from '../gpu/gpu-helpers.js';

/** Enough frames for the flock to move visibly (a boid at full speed crosses 15% of the square) and start to gather, while SwiftShader keeps the test short. */
const FRAMES = 60;

/** Programs still open when a test fails part-way: closed after it, so a failure leaks nothing into the next test. */
const open = new Set<BoidsProgram>();
/** Devices made by a test itself. */
const devices: GPUDevice[] = [];

afterEach(async () => {
  for (const program of open) await program.close().catch(() => undefined);
  open.clear();
  for (const device of devices.splice(0)) device.destroy();
});

/** The index of the first byte where `a` and `b` differ, or -1 when they are equal: a readable failure for 16 KiB and 256 KiB arrays. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((byte, i) => byte !== b[i]);
}

/** Pixels of the darts: their blue channel is 0.95, the background's 0.1. */
function dartPixels(pixels: Uint8Array): number {
  let count = 0;
  for (let i = 2; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 128) count += 1;
  return count;
}

/** Runs `mode` for {@link FRAMES} frames and reads back what it holds and drew. */
async function run(mode: 1 | 2): Promise<{ program: BoidsProgram; particles: Uint8Array[]; pixels: Uint8Array; copiedPerFrame: number[] }> {
  const copied: number[] = [];
  const program = await runBoids(mode, FRAMES, { onFrame: (running) => copied.push(running.bytesCopied) });
  open.add(program);
  expect(program.frame).toBe(FRAMES);
  const copiedPerFrame = copied.slice(1).map((bytes, i) => bytes - (copied[i] ?? 0));
  return { program, particles: await program.readParticles(), pixels: await program.readPixels(), copiedPerFrame };
}

/** Closes `program` and checks that it left nothing: no dma-buf, no heap memory, every device destroyed. */
async function closeAndExpectNoLeaks(program: BoidsProgram): Promise<void> {
  open.delete(program);
  await program.close();
  expect(bufinfoEntries()).toEqual([]);
  if (program.heap) expectNoLeaks(program.heap);
  const lost = await Promise.all(program.devices.map((device) => device.lost));
  expect(lost.map((info) => info.reason)).toEqual(program.devices.map(() => 'destroyed'));
}

test('after 60 frames, the flock simulated on one device and drawn on another through fds holds and draws byte for byte what one device does without the library', async () => {
  const reference = await run(1);
  await closeAndExpectNoLeaks(reference.program);

  const shared = await run(2);
  const { heap } = shared.program;
  // Each frame the renderer maps one 16 KiB buffer 'to-device': that buffer crosses, nothing
  // else. The mirrors are made at the first map of each buffer and reused by every later frame.
  expect(shared.copiedPerFrame).toEqual(Array.from({ length: FRAMES - 1 }, () => PARTICLES_SIZE));
  expect(heap?.stats()).toMatchObject({ mirrorBuffersCreated: 2, liveBuffers: 2 });
  expect(reference.copiedPerFrame).toEqual(Array.from({ length: FRAMES - 1 }, () => 0));
  await closeAndExpectNoLeaks(shared.program);

  expect(shared.particles).toHaveLength(2);
  for (const [i, bytes] of shared.particles.entries()) {
    const expected = reference.particles[i];
    if (!expected) throw new Error(`the reference read back no buffer ${String(i)}`);
    expect(bytes.length, `particle buffer ${String(i)}`).toBe(PARTICLES_SIZE);
    expect(firstDifference(bytes, expected), `first differing byte of particle buffer ${String(i)}`).toBe(-1);
  }
  expect(shared.pixels.length).toBe(TARGET_SIZE * TARGET_SIZE * 4);
  expect(firstDifference(shared.pixels, reference.pixels), 'first differing byte of the pixels').toBe(-1);

  // Not trivially equal: the flock moved, in both buffers, into finite positions, and was drawn.
  const initial = new Uint8Array(initialParticles().buffer);
  for (const bytes of shared.particles) expect(firstDifference(bytes, initial)).not.toBe(-1);
  const latest = new Float32Array(shared.particles[FRAMES % 2]?.slice().buffer ?? new ArrayBuffer(0));
  expect(latest.length).toBe(PARTICLES_SIZE / 4);
  expect(latest.every((x) => Number.isFinite(x) && Math.abs(x) <= 1)).toBe(true);
  const drawn = dartPixels(shared.pixels);
  expect(drawn).toBeGreaterThan(2000);
  expect(drawn).toBeLessThan(TARGET_SIZE * TARGET_SIZE / 2);
});

test('a particle buffer mapped as more than one segment is refused with a message naming the count, not drawn in part', async () => {
  const device = await requestGpuDevice({ label: 'segments' });
  devices.push(device);
  const buffer = device.createBuffer({ size: PARTICLES_SIZE, usage: GPUBufferUsage.STORAGE });
  const half = PARTICLES_SIZE / 2;
  const split: MappedSegments = { segments: [{ buffer, offset: 0, length: half }, { buffer, offset: half, length: half }] };
  expect(() => particleRange(split, 'renderer')).toThrow('renderer: the particle buffer mapped as 2 segments; the boids shaders need exactly one');
  const whole: MappedSegments = { segments: [{ buffer, offset: 0, length: PARTICLES_SIZE }] };
  expect(particleRange(whole, 'renderer')).toEqual({ buffer, offset: 0 });
  buffer.destroy();
});

/** Loads the example's page in a frame of this document and gives its document once loaded. */
async function loadPage(src: string): Promise<{ frame: HTMLIFrameElement; doc: Document }> {
  const frame = document.createElement('iframe');
  frame.style.width = '800px';
  frame.style.height = '900px';
  const loaded = new Promise<void>((resolve) => { frame.addEventListener('load', () => { resolve(); }, { once: true }); });
  frame.src = src;
  document.body.append(frame);
  await loaded;
  const doc = frame.contentDocument;
  if (!doc) throw new Error(`the frame of ${src} has no document`);
  return { frame, doc };
}

test.each([1, 2] as const)('the page with ?devices=%i runs the flock in that mode, counts its frames and shows no error', async (mode) => {
  const { frame, doc } = await loadPage(`/examples/boids/index.html?devices=${String(mode)}`);
  try {
    const text = (id: string) => doc.getElementById(id)?.textContent ?? '';
    // The error text is polled with the count, so that a page that fails says why.
    await expect.poll(() => ({ error: text('error'), fiveFrames: Number(text('frame')) >= 5 }), { timeout: 30_000, interval: 50 }).toEqual({ error: '', fiveFrames: true });
    expect(doc.getElementById('error')?.hidden).toBe(true);
    expect(text('mode')).toMatch(mode === 1 ? /^one device/ : /^two devices/);
    expect((doc.getElementById('devices') as HTMLSelectElement | null)?.value).toBe(String(mode));
    // One particle buffer (16 KiB) crosses per frame with two devices; nothing with one.
    expect(text('copied')).toMatch(mode === 1 ? /^nothing/ : /^16384 bytes in the last frame /);
    // The canvas is the render target's size and takes its copy each frame: a copy it could not
    // take would be a validation error, which the page shows (checked above). Its pixels cannot
    // be read from here: once presented, a WebGPU canvas reads back blank.
    const canvas = doc.getElementById('flock');
    expect([canvas?.getAttribute('width'), canvas?.getAttribute('height')]).toEqual([String(TARGET_SIZE), String(TARGET_SIZE)]);
  } finally {
    frame.remove();
  }
});
