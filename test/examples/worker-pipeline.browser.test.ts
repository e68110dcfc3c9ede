// The worker-pipeline example: a buffer filled in the page, inverted by a consumer worker on
// its own device through the fd it inherited, read back in the page. Real module workers,
// real WebGPU (SwiftShader without a GPU).
import { expect, test } from 'vitest';
import { bufinfoEntries, PAGE_SIZE } from 'webgpu-dmabuf';
import { DEFAULT_SIZE, runWorkerPipeline } from '../../examples/worker-pipeline/program.js';
import { expectNoLeaks } from '../gpu/gpu-helpers.js';

/** This document's id among the clients of the origin's Web Locks: the holder of a lock it takes. */
async function ownClientId(): Promise<string | undefined> {
  const probe = `worker-pipeline-test:${crypto.randomUUID()}`;
  return navigator.locks.request(probe, async () => (await navigator.locks.query()).held?.find((lock) => lock.name === probe)?.clientId);
}

/**
 * The realm locks (remote/liveness.ts) of this document's peers that are alive: each
 * realm holds its lock for its life, and this document waits on its peers' locks to learn of
 * their deaths. Other test files' realms, in frames of their own, are not among them.
 */
async function livePeerRealms(): Promise<string[]> {
  const me = await ownClientId();
  const { held = [], pending = [] } = await navigator.locks.query();
  const watched = new Set(pending.filter((lock) => lock.clientId === me).map((lock) => lock.name));
  return held.map((lock) => lock.name ?? '').filter((name) => name.startsWith('webgpu-dmabuf:realm:') && watched.has(name));
}

/** The index of the first byte where `output` is not `input` inverted, or -1. */
function firstNotInverted(input: Uint8Array, output: Uint8Array): number {
  if (input.length !== output.length) return Math.min(input.length, output.length);
  return output.findIndex((byte, i) => byte !== (~(input[i] ?? 0) & 0xff));
}

test.each([DEFAULT_SIZE, 3 * PAGE_SIZE + 4])('a %i-byte buffer inverted by the consumer worker comes back to the page byte for byte, and nothing is left held or running', async (size) => {
  let workerRealms: string[] = [];
  const run = await runWorkerPipeline({
    size,
    // Once the worker has answered it is alive and connected: its realm's lock is the one peer.
    onStep: async (line) => { if (line.startsWith('worker:')) workerRealms = await livePeerRealms(); },
  });

  expect(run.input.length).toBe(size);
  expect(firstNotInverted(run.input, run.output)).toBe(-1);
  // The page is isolated (Vitest serves COOP/COEP), so both ends offered shared memory.
  expect(run.crossOriginIsolated).toBe(true);
  expect(run.transport).toBe('shared-memory');
  expect(run.segments).toBeGreaterThanOrEqual(1);
  expect(run.consumerDevice).toBe('consumer device');

  expect(bufinfoEntries()).toEqual([]);
  expectNoLeaks(run.heap);
  expect((await run.device.lost).reason).toBe('destroyed');
  // The worker's realm is gone: the lock it held for its life is released.
  expect(workerRealms).toHaveLength(1);
  const held = async () => ((await navigator.locks.query()).held ?? []).map((lock) => lock.name);
  await expect.poll(held, { timeout: 10_000, interval: 50 }).not.toContain(workerRealms[0]);
});

test('the page runs the pipeline once on load and shows the transport, the isolation and the inverted bytes, with no error', async () => {
  const frame = document.createElement('iframe');
  const loaded = new Promise<void>((resolve) => { frame.addEventListener('load', () => { resolve(); }, { once: true }); });
  frame.src = '/examples/worker-pipeline/index.html';
  document.body.append(frame);
  try {
    await loaded;
    const doc = frame.contentDocument;
    if (!doc) throw new Error('the example page has no document');
    const text = (id: string) => doc.getElementById(id)?.textContent ?? '';
    // The error is polled with the result, so that a page that fails says why.
    await expect.poll(() => ({ error: text('error'), result: text('result').split(':')[0] }), { timeout: 30_000, interval: 50 }).toEqual({ error: '', result: 'every byte inverted' });
    expect(doc.getElementById('error')?.hidden).toBe(true);
    expect(text('transport')).toBe('shared-memory');
    expect(text('isolated')).toBe('yes');
    expect(text('log')).toContain('page: released everything; the heap holds 0 live buffers');
  } finally {
    frame.remove();
  }
});
