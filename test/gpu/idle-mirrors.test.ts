// IdleMirrors in Node, on the in-memory stand-in device of fake-gpu.ts: matching by shape,
// owner preference and `dirty`, the per-shape limit, the byte cap, device loss, purge, close
// and the byte count.
import { describe, expect, test } from 'vitest';
import { watchDevice } from '../../gpu/device-loss.js';
import { IdleMirrors } from '../../gpu/idle-mirrors.js';
import type { Segment } from '../../gpu/segments.js';
import { fake, fakeDevice, flushMicrotasks } from './fake-gpu.js';

const MiB = 1024 * 1024;
const STORAGE = 0x0080 | 0x0004 | 0x0008; // STORAGE | COPY_SRC | COPY_DST
const OTHER_USAGE = 0x0080 | 0x0008;
/** The segment size takes ask for: the cut of every mirror() below (4096, or the whole of a smaller one). */
const CUT = 4096;

/** A mirror of `size` bytes on `device`, cut into segments of at most `segmentSize`. */
function mirror(device: GPUDevice, size: number, segmentSize = size): Segment[] {
  const segments: Segment[] = [];
  for (let start = 0; start < size; start += segmentSize) {
    const length = Math.min(segmentSize, size - start);
    segments.push({ buffer: device.createBuffer({ size: Math.ceil(length / 4) * 4, usage: STORAGE, label: `mirror @${start}` }), start, length });
  }
  return segments;
}

const destroyed = (segments: readonly Segment[]) => segments.map((s) => fake(s.buffer).destroyCount);

describe('IdleMirrors take and keep', () => {
  test('take of an empty set returns undefined', () => {
    const { device } = fakeDevice();
    expect(new IdleMirrors(16 * MiB).take(device, 4096, STORAGE, {}, CUT)).toBeUndefined();
  });

  test('keep then take of the same shape returns the segments, not dirty for the same owner', () => {
    const { device } = fakeDevice();
    const mirrors = new IdleMirrors(16 * MiB);
    const owner = {};
    const segments = mirror(device, 10_000, 4096);
    mirrors.keep(device, 10_000, STORAGE, owner, segments);
    const taken = mirrors.take(device, 10_000, STORAGE, owner, CUT);
    expect(taken?.segments).toBe(segments);
    expect(taken?.dirty).toBe(false);
    expect(destroyed(segments)).toEqual([0, 0, 0]);
    // Taken: the caller owns it, and the set is empty again.
    expect(mirrors.take(device, 10_000, STORAGE, owner, CUT)).toBeUndefined();
  });

  test("take for another owner returns the mirror dirty (it holds another buffer's bytes)", () => {
    const { device } = fakeDevice();
    const mirrors = new IdleMirrors(16 * MiB);
    const segments = mirror(device, 4096);
    mirrors.keep(device, 4096, STORAGE, {}, segments);
    expect(mirrors.take(device, 4096, STORAGE, {}, CUT)).toEqual({ segments, dirty: true });
  });

  test("take prefers the owner's own mirror over an earlier kept one of another owner", () => {
    const { device } = fakeDevice();
    const mirrors = new IdleMirrors(16 * MiB);
    const ownerA = {};
    const ownerB = {};
    const ofA = mirror(device, 4096);
    const ofB = mirror(device, 4096);
    mirrors.keep(device, 4096, STORAGE, ownerA, ofA);
    mirrors.keep(device, 4096, STORAGE, ownerB, ofB);
    expect(mirrors.take(device, 4096, STORAGE, ownerB, CUT)).toEqual({ segments: ofB, dirty: false });
    expect(mirrors.take(device, 4096, STORAGE, ownerB, CUT)).toEqual({ segments: ofA, dirty: true });
  });

  test('a different size, usage or device does not match', () => {
    const a = fakeDevice({ label: 'a' });
    const b = fakeDevice({ label: 'b' });
    const mirrors = new IdleMirrors(16 * MiB);
    const owner = {};
    const segments = mirror(a.device, 4096);
    mirrors.keep(a.device, 4096, STORAGE, owner, segments);
    expect(mirrors.take(a.device, 4092, STORAGE, owner, CUT)).toBeUndefined();
    expect(mirrors.take(a.device, 4096, OTHER_USAGE, owner, CUT)).toBeUndefined();
    expect(mirrors.take(b.device, 4096, STORAGE, owner, CUT)).toBeUndefined();
    expect(mirrors.bytes).toBe(4096);
    expect(mirrors.take(a.device, 4096, STORAGE, owner, CUT)?.segments).toBe(segments);
  });

  test('a mirror cut at other segment boundaries does not match (a segmentAlign promise is kept on every device)', () => {
    const { device } = fakeDevice();
    const mirrors = new IdleMirrors(16 * MiB);
    const owner = {};
    const segments = mirror(device, 8192, 4096);
    mirrors.keep(device, 8192, STORAGE, owner, segments);
    expect(mirrors.take(device, 8192, STORAGE, owner, 3072)).toBeUndefined();
    expect(mirrors.take(device, 8192, STORAGE, owner, 8192)).toBeUndefined();
    // A cut of 4096 or any size at least the buffer's, for a one-segment mirror, is the same cut.
    expect(mirrors.take(device, 8192, STORAGE, owner, 4096)?.segments).toBe(segments);
    const whole = mirror(device, 4096);
    mirrors.keep(device, 4096, STORAGE, owner, whole);
    expect(mirrors.take(device, 4096, STORAGE, owner, 1 << 30)?.segments).toBe(whole);
  });
});

describe('IdleMirrors limits', () => {
  test('a fifth mirror of the same shape is destroyed, not kept', () => {
    const { device } = fakeDevice();
    const mirrors = new IdleMirrors(16 * MiB);
    const kept = [1, 2, 3, 4, 5].map(() => mirror(device, 4096));
    for (const segments of kept) mirrors.keep(device, 4096, STORAGE, {}, segments);
    expect(kept.map((segments) => destroyed(segments)[0])).toEqual([0, 0, 0, 0, 1]);
    expect(mirrors.bytes).toBe(4 * 4096);
    // Another shape still has room.
    const other = mirror(device, 8192);
    mirrors.keep(device, 8192, STORAGE, {}, other);
    expect(destroyed(other)).toEqual([0]);
  });

  test('a mirror beyond the byte cap is destroyed, not kept', () => {
    const a = fakeDevice({ label: 'a' });
    const b = fakeDevice({ label: 'b' });
    const mirrors = new IdleMirrors(3 * 4096); // the cap is over all devices
    const first = mirror(a.device, 8192, 4096);
    const second = mirror(b.device, 4096);
    const third = mirror(a.device, 4096);
    mirrors.keep(a.device, 8192, STORAGE, {}, first);
    mirrors.keep(b.device, 4096, STORAGE, {}, second);
    expect(mirrors.bytes).toBe(3 * 4096); // exactly at the cap: kept
    mirrors.keep(a.device, 4096, STORAGE, {}, third);
    expect([destroyed(first), destroyed(second), destroyed(third)]).toEqual([[0, 0], [0], [1]]);
    expect(mirrors.bytes).toBe(3 * 4096);
  });

  test('bytes counts the buffer sizes of the segments kept, and drops with take', () => {
    const { device } = fakeDevice();
    const mirrors = new IdleMirrors(16 * MiB);
    expect(mirrors.bytes).toBe(0);
    // 5001 bytes: segments of 4096 and 905 bytes, the last buffer rounded up to 908.
    const segments = mirror(device, 5001, 4096);
    mirrors.keep(device, 5001, STORAGE, {}, segments);
    expect(mirrors.bytes).toBe(4096 + 908);
    const small = mirror(device, 256);
    mirrors.keep(device, 256, STORAGE, {}, small);
    expect(mirrors.bytes).toBe(4096 + 908 + 256);
    mirrors.take(device, 5001, STORAGE, {}, CUT);
    expect(mirrors.bytes).toBe(256);
    mirrors.take(device, 256, STORAGE, {}, CUT);
    expect(mirrors.bytes).toBe(0);
  });
});

describe('IdleMirrors device loss, purge and close', () => {
  test('keep after the device is lost destroys the mirror', async () => {
    const handle = fakeDevice();
    const mirrors = new IdleMirrors(16 * MiB);
    const segments = mirror(handle.device, 8192, 4096);
    watchDevice(handle.device);
    handle.lose();
    await flushMicrotasks();
    mirrors.keep(handle.device, 8192, STORAGE, {}, segments);
    expect(destroyed(segments)).toEqual([1, 1]);
    expect(mirrors.bytes).toBe(0);
    expect(mirrors.take(handle.device, 8192, STORAGE, {}, CUT)).toBeUndefined();
  });

  test('purge destroys the mirrors of that device only and recounts bytes', () => {
    const a = fakeDevice({ label: 'a' });
    const b = fakeDevice({ label: 'b' });
    const mirrors = new IdleMirrors(16 * MiB);
    const onA = mirror(a.device, 8192, 4096);
    const onB = mirror(b.device, 4096);
    mirrors.keep(a.device, 8192, STORAGE, {}, onA);
    mirrors.keep(b.device, 4096, STORAGE, {}, onB);
    mirrors.purge(a.device);
    expect(destroyed(onA)).toEqual([1, 1]);
    expect(destroyed(onB)).toEqual([0]);
    expect(mirrors.bytes).toBe(4096);
    expect(mirrors.take(a.device, 8192, STORAGE, {}, CUT)).toBeUndefined();
    expect(mirrors.take(b.device, 4096, STORAGE, {}, CUT)?.segments).toBe(onB);
  });

  test('close destroys every idle mirror, keeps none afterwards, and is safe twice', () => {
    const a = fakeDevice({ label: 'a' });
    const b = fakeDevice({ label: 'b' });
    const mirrors = new IdleMirrors(16 * MiB);
    const onA = mirror(a.device, 4096);
    const onB = mirror(b.device, 8192, 4096);
    mirrors.keep(a.device, 4096, STORAGE, {}, onA);
    mirrors.keep(b.device, 8192, STORAGE, {}, onB);
    mirrors.close();
    expect([destroyed(onA), destroyed(onB)]).toEqual([[1], [1, 1]]);
    expect(mirrors.bytes).toBe(0);
    const late = mirror(a.device, 4096);
    mirrors.keep(a.device, 4096, STORAGE, {}, late);
    expect(destroyed(late)).toEqual([1]);
    expect(mirrors.bytes).toBe(0);
    expect(mirrors.take(a.device, 4096, STORAGE, {}, CUT)).toBeUndefined();
    mirrors.close();
    expect([...a.buffers, ...b.buffers].every((buffer) => buffer.destroyCount === 1)).toBe(true);
  });
});
