// The 'shared-memory' transport's ring (remote/shared-ring.ts), a writer and a reader on one
// SharedArrayBuffer in one realm: a payload goes through slot by slot in order, each chunk as
// long as a slot at most; a writer that finds every slot full waits until the reader frees one
// (Atomics.waitAsync) and stops waiting when the peer is gone; a reader refuses a slot that
// holds nothing or a length out of range, and frees a slot even when using it throws.
import { afterEach, expect, test, vi } from 'vitest';
import { canShareMemory, newRing, RING_BYTES, RING_SLOTS, RingReader, RingWriter, SLOT_BYTES } from '../../remote/shared-ring.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

/** Lets pending promise callbacks run, and the waits that Atomics.notify ended. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Bytes 0, 1, 2, … (mod 251) over `length`. */
function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) bytes[i] = i % 251;
  return bytes;
}

const never = new Promise<never>(() => undefined);

test('a ring is RING_BYTES of shared memory', () => {
  const ring = newRing();
  expect(ring).toBeInstanceOf(SharedArrayBuffer);
  expect(ring.byteLength).toBe(RING_BYTES);
});

test('a payload goes through in slot order, in chunks of one slot at most, and comes out whole', async () => {
  const ring = newRing();
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  const bytes = pattern(2 * SLOT_BYTES + 5);
  const posted: [slot: number, len: number][] = [];
  await writer.write(bytes, (slot, len) => posted.push([slot, len]), never);
  expect(posted).toEqual([[0, SLOT_BYTES], [1, SLOT_BYTES], [2, 5]]);
  const out = new Uint8Array(bytes.length);
  let at = 0;
  for (const [slot, len] of posted) {
    expect(reader.take(slot, len, (chunk) => { out.set(chunk, at); })).toBe(true);
    at += len;
  }
  expect(out.findIndex((byte, i) => byte !== bytes[i]), 'the first byte that differs').toBe(-1);
  // The next payload starts where the last left off.
  await writer.write(pattern(3), (slot, len) => posted.push([slot, len]), never);
  expect(posted.at(-1)).toEqual([3, 3]);
});

test('a writer that finds every slot full waits until the reader frees the next one', async () => {
  const ring = newRing();
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  const posted: [slot: number, len: number][] = [];
  let done = false;
  void writer.write(pattern((RING_SLOTS + 1) * SLOT_BYTES), (slot, len) => posted.push([slot, len]), never).then(() => { done = true; });
  await flush();
  expect(posted.map(([slot]) => slot), 'every slot filled, then it waits').toEqual([0, 1, 2, 3]);
  expect(done).toBe(false);
  expect(reader.take(1, SLOT_BYTES, () => undefined), 'freeing another slot does not help').toBe(true);
  await flush();
  expect(posted).toHaveLength(RING_SLOTS);
  expect(reader.take(0, SLOT_BYTES, (chunk) => { expect(chunk[0]).toBe(0); })).toBe(true);
  await flush();
  expect(posted.map(([slot]) => slot)).toEqual([0, 1, 2, 3, 0]);
  expect(done).toBe(true);
});

test('a writer waiting for a slot stops with the reason once the peer is gone', async () => {
  const writer = new RingWriter(newRing());
  let reject: (reason: unknown) => void = () => undefined;
  const gone = new Promise<never>((_, no) => { reject = no; });
  gone.catch(() => undefined);
  let outcome: unknown = 'pending';
  writer.write(pattern((RING_SLOTS + 1) * SLOT_BYTES), () => undefined, gone).then(
    () => { outcome = 'resolved'; },
    (error: unknown) => { outcome = error; },
  );
  await flush();
  expect(outcome).toBe('pending');
  const reason = new Error('the peer is gone');
  reject(reason);
  await flush();
  expect(outcome).toBe(reason);
});

test.each<[string, number, number]>([
  ['a slot that holds nothing', 1, 1],
  ['the slot past the last', RING_SLOTS, 1],
  ['a length over a slot', 0, SLOT_BYTES + 1],
])('the reader refuses %s, and does not call use', async (_what, slot, len) => {
  const ring = newRing();
  // Slot 0 holds a chunk of one byte; no other does.
  await new RingWriter(ring).write(pattern(1), () => undefined, never);
  const use = vi.fn();
  expect(new RingReader(ring).take(slot, len, use)).toBe(false);
  expect(use).not.toHaveBeenCalled();
});

test('the reader hands over exactly len bytes of the slot, and frees it even when use throws', async () => {
  const ring = newRing();
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  const posted: [number, number][] = [];
  await writer.write(pattern(10), (slot, len) => posted.push([slot, len]), never);
  let seen: number[] = [];
  expect(() => reader.take(0, 4, (chunk) => {
    seen = [...chunk];
    throw new Error('use failed');
  })).toThrow('use failed');
  expect(seen).toEqual([0, 1, 2, 3]);
  expect(reader.take(0, 4, () => undefined), 'the slot is free: nothing to take').toBe(false);
});

test('memory is shared only where the realm is cross-origin isolated (or says nothing of it, as Node)', () => {
  expect(canShareMemory()).toBe(true);
  vi.stubGlobal('crossOriginIsolated', false);
  expect(canShareMemory()).toBe(false);
  vi.stubGlobal('crossOriginIsolated', true);
  expect(canShareMemory()).toBe(true);
});

test('memory is not shared where there is no SharedArrayBuffer, cross-origin isolated or not', () => {
  vi.stubGlobal('SharedArrayBuffer', undefined);
  expect(canShareMemory()).toBe(false);
  vi.stubGlobal('crossOriginIsolated', true);
  expect(canShareMemory()).toBe(false);
});

test('memory is not shared where Atomics.waitAsync is missing (the module as loaded there)', async () => {
  const atomics = Atomics as unknown as { waitAsync?: unknown };
  const waitAsync = atomics.waitAsync;
  atomics.waitAsync = undefined;
  try {
    vi.resetModules();
    const loadedThere = await import('../../remote/shared-ring.js');
    expect(loadedThere.canShareMemory()).toBe(false);
  } finally {
    atomics.waitAsync = waitAsync;
    vi.resetModules();
  }
  expect(canShareMemory()).toBe(true);
});
