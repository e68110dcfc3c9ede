// StagingPool in Node, on the in-memory stand-in device of fake-gpu.ts: buckets, reuse,
// owner preference, the idle cap, device loss, purge, close and the host memory of
// write-only CPU windows.
import { describe, expect, test } from 'vitest';
import { watchDevice } from '../../gpu/device-loss.js';
import { StagingPool } from '../../gpu/staging-pool.js';
import { fake, fakeDevice, flushMicrotasks } from './fake-gpu.js';

const MiB = 1024 * 1024;

/** Loses a device the way the heap follows it: watched, then `lost` resolved. */
async function loseDevice(handle: ReturnType<typeof fakeDevice>): Promise<void> {
  watchDevice(handle.device);
  handle.lose();
  await flushMicrotasks();
}

describe('StagingPool buckets', () => {
  test('a request is served with a power of two of at least one page (4096 bytes)', () => {
    const { device } = fakeDevice();
    expect([1, 0, 4095, 4096, 4097, 8192, 8193, 100_000].map((size) => StagingPool.bucket(device, size))).toEqual([
      4096, 4096, 4096, 4096, 8192, 8192, 16384, 131072,
    ]);
  });

  test('where the power of two would exceed maxBufferSize, the size is rounded up to a multiple of 4 instead', () => {
    const { device } = fakeDevice({ maxBufferSize: 1_000_000 });
    expect(StagingPool.bucket(device, 400_000)).toBe(524_288); // 2^19 still fits
    expect(StagingPool.bucket(device, 600_001)).toBe(600_004); // 2^20 does not
    expect(StagingPool.bucket(device, 600_000)).toBe(600_000);
    expect(StagingPool.bucket(device, 1_000_000)).toBe(1_000_000);
  });

  test('a power of two equal to maxBufferSize is still used', () => {
    const { device } = fakeDevice({ maxBufferSize: 1 * MiB });
    expect(StagingPool.bucket(device, 600_001)).toBe(1 * MiB);
    expect(StagingPool.bucket(device, 1 * MiB)).toBe(1 * MiB);
  });

  test('acquire creates a buffer of the bucket size with the usage of its kind', () => {
    const handle = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const read = fake(pool.acquire(handle.device, 'read', 5000));
    const write = fake(pool.acquire(handle.device, 'write', 5000));
    expect(read.size).toBe(8192);
    expect(read.usage).toBe(0x0001 | 0x0008); // MAP_READ | COPY_DST
    expect(write.usage).toBe(0x0002 | 0x0004); // MAP_WRITE | COPY_SRC
    expect(pool.created).toBe(2);
    expect(pool.liveBytes).toBe(2 * 8192);
  });
});

describe('StagingPool reuse', () => {
  test('the same request after release reuses the buffer and creates none', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const first = pool.acquire(device, 'read', 5000);
    pool.release(first);
    // 6000 bytes fall into the same 8192-byte bucket.
    const second = pool.acquire(device, 'read', 6000);
    expect(second).toBe(first);
    expect(pool.created).toBe(1);
    expect(fake(first).destroyed).toBe(false);
    expect(pool.liveBytes).toBe(8192);
  });

  test('a request of another kind, bucket or device does not reuse an idle buffer', () => {
    const a = fakeDevice({ label: 'a' });
    const b = fakeDevice({ label: 'b' });
    const pool = new StagingPool(16 * MiB);
    const idle = pool.acquire(a.device, 'read', 5000);
    pool.release(idle);
    const otherKind = pool.acquire(a.device, 'write', 5000);
    const otherDevice = pool.acquire(b.device, 'read', 5000);
    const otherBucket = pool.acquire(a.device, 'read', 9000);
    expect([otherKind, otherDevice, otherBucket]).not.toContain(idle);
    expect(pool.created).toBe(4);
    expect(b.buffers).toHaveLength(1);
    // The idle one is still there for a matching request.
    expect(pool.acquire(a.device, 'read', 8000)).toBe(idle);
    expect(pool.created).toBe(4);
  });

  test("acquireFor prefers the owner's last buffer, not dirty; another owner's buffer is dirty", () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const ownerA = {};
    const ownerB = {};
    const a = pool.acquireFor(ownerA, device, 'write', 4096);
    const b = pool.acquireFor(ownerB, device, 'write', 4096);
    expect(a.dirty).toBe(false); // new buffers are zero-filled by WebGPU
    expect(b.dirty).toBe(false);
    // Released A first, then B: a plain first-fit would hand A's buffer to owner B.
    pool.release(a.buffer);
    pool.release(b.buffer);
    const againB = pool.acquireFor(ownerB, device, 'write', 4096);
    expect(againB).toEqual({ buffer: b.buffer, dirty: false });
    // Only A's buffer is idle now: owner B gets it, dirty.
    const crossed = pool.acquireFor(ownerB, device, 'write', 4096);
    expect(crossed).toEqual({ buffer: a.buffer, dirty: true });
    expect(pool.created).toBe(2);
  });

  test('a buffer taken by another owner is dirty for its former owner afterwards', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const ownerA = {};
    const ownerB = {};
    const first = pool.acquireFor(ownerA, device, 'read', 4096);
    pool.release(first.buffer);
    const byB = pool.acquireFor(ownerB, device, 'read', 4096);
    expect(byB).toEqual({ buffer: first.buffer, dirty: true });
    pool.release(byB.buffer);
    expect(pool.acquireFor(ownerA, device, 'read', 4096)).toEqual({ buffer: first.buffer, dirty: true });
  });
});

describe('StagingPool release', () => {
  test('release beyond the idle cap destroys the buffer', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(8192); // room for two 4096-byte buffers
    const buffers = [1, 2, 3].map(() => pool.acquire(device, 'read', 4096));
    for (const buffer of buffers) pool.release(buffer);
    expect(buffers.map((b) => fake(b).destroyed)).toEqual([false, false, true]);
    expect(pool.liveBytes).toBe(8192);
    // The two kept ones serve the next requests; the third is made anew.
    const again = [1, 2, 3].map(() => pool.acquire(device, 'read', 4096));
    expect(again).toContain(buffers[0]);
    expect(again).toContain(buffers[1]);
    expect(pool.created).toBe(4);
  });

  test('a pool with a cap of 0 keeps nothing', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(0);
    const buffer = pool.acquire(device, 'write', 4096);
    pool.release(buffer);
    expect(fake(buffer).destroyed).toBe(true);
    expect(pool.liveBytes).toBe(0);
  });

  test('release of a buffer whose device is lost destroys it', async () => {
    const handle = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const buffer = pool.acquire(handle.device, 'read', 4096);
    expect(pool.liveBytes).toBe(4096);
    await loseDevice(handle);
    pool.release(buffer);
    expect(fake(buffer).destroyCount).toBe(1);
    expect(pool.liveBytes).toBe(0);
    // Nothing of the lost device is handed out again.
    const next = pool.acquire(handle.device, 'read', 4096);
    expect(next).not.toBe(buffer);
  });

  test('release unmaps a mapped buffer before keeping it', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const buffer = fake(pool.acquire(device, 'read', 4096));
    buffer.mapState = 'mapped';
    pool.release(buffer as unknown as GPUBuffer);
    expect(buffer.unmapCount).toBe(1);
    expect(buffer.mapState).toBe('unmapped');
    expect(buffer.destroyed).toBe(false);
  });

  test('release does not unmap a buffer that is not mapped', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const buffer = pool.acquire(device, 'read', 4096);
    pool.release(buffer);
    expect(fake(buffer).unmapCount).toBe(0);
  });

  test('release of a buffer the pool did not make does nothing', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const stranger = device.createBuffer({ size: 4096, usage: 0x0001 | 0x0008 });
    fake(stranger).mapState = 'mapped';
    pool.release(stranger);
    expect(fake(stranger).unmapCount).toBe(0);
    expect(fake(stranger).destroyed).toBe(false);
    expect(pool.acquire(device, 'read', 4096)).not.toBe(stranger);
  });

  test('discard destroys a buffer in use, which is then never handed out again', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    const buffer = pool.acquire(device, 'read', 4096);
    pool.discard(buffer);
    expect(fake(buffer).destroyCount).toBe(1);
    expect(pool.liveBytes).toBe(0);
    // A release after the discard is ignored: it is not kept, nor destroyed twice.
    pool.release(buffer);
    expect(fake(buffer).destroyCount).toBe(1);
    expect(pool.acquire(device, 'read', 4096)).not.toBe(buffer);
    expect(pool.created).toBe(2);
  });
});

describe('StagingPool purge and close', () => {
  test('purge destroys the idle buffers of that device only', () => {
    const a = fakeDevice({ label: 'a' });
    const b = fakeDevice({ label: 'b' });
    const pool = new StagingPool(16 * MiB);
    const idleA = pool.acquire(a.device, 'read', 4096);
    const idleB = pool.acquire(b.device, 'read', 4096);
    const busyA = pool.acquire(a.device, 'write', 4096);
    pool.release(idleA);
    pool.release(idleB);
    pool.purge(a.device);
    expect(fake(idleA).destroyed).toBe(true);
    expect(fake(idleB).destroyed).toBe(false);
    expect(fake(busyA).destroyed).toBe(false); // in use: the caller gives it back later
    expect(pool.liveBytes).toBe(2 * 4096);
    expect(pool.acquire(b.device, 'read', 4096)).toBe(idleB);
    expect(pool.acquire(a.device, 'read', 4096)).not.toBe(idleA);
  });

  test('purge frees room under the cap for later releases', () => {
    const a = fakeDevice({ label: 'a' });
    const b = fakeDevice({ label: 'b' });
    const pool = new StagingPool(4096);
    const onA = pool.acquire(a.device, 'read', 4096);
    const onB = pool.acquire(b.device, 'read', 4096);
    pool.release(onA);
    pool.purge(a.device);
    pool.release(onB);
    expect(fake(onB).destroyed).toBe(false);
  });

  test('close destroys every idle buffer, a buffer released afterwards is destroyed, and nothing stays alive', () => {
    const a = fakeDevice({ label: 'a' });
    const b = fakeDevice({ label: 'b' });
    const pool = new StagingPool(16 * MiB);
    const idle = [pool.acquire(a.device, 'read', 4096), pool.acquire(b.device, 'write', 10_000)];
    const busy = pool.acquire(a.device, 'write', 4096);
    for (const buffer of idle) pool.release(buffer);
    pool.close();
    expect(idle.map((buffer) => fake(buffer).destroyCount)).toEqual([1, 1]);
    expect(fake(busy).destroyed).toBe(false);
    pool.release(busy);
    expect(fake(busy).destroyCount).toBe(1);
    expect(pool.liveBytes).toBe(0);
    pool.close(); // safe twice
    expect([...a.buffers, ...b.buffers].every((buffer) => buffer.destroyCount === 1)).toBe(true);
  });

  test('after close a buffer acquired and released is destroyed, not kept', () => {
    const { device } = fakeDevice();
    const pool = new StagingPool(16 * MiB);
    pool.close();
    const buffer = pool.acquire(device, 'read', 4096);
    pool.release(buffer);
    expect(fake(buffer).destroyed).toBe(true);
    expect(pool.acquire(device, 'read', 4096)).not.toBe(buffer);
    expect(pool.created).toBe(2);
  });
});

describe('StagingPool host memory', () => {
  test('releaseHost detaches the ArrayBuffer it is given', () => {
    const pool = new StagingPool(16 * MiB);
    const memory = pool.acquireHost(4096);
    const view = new Uint8Array(memory);
    view.fill(7);
    pool.releaseHost(memory);
    expect(memory.byteLength).toBe(0);
    expect(view.length).toBe(0); // a view kept past the end of its access sees nothing
  });

  test('acquireHost returns zeroed memory, also when it reuses memory given back', () => {
    const pool = new StagingPool(16 * MiB);
    const fresh = pool.acquireHost(4096);
    expect(new Uint8Array(fresh).every((byte) => byte === 0)).toBe(true);
    new Uint8Array(fresh).fill(0xab);
    pool.releaseHost(fresh);
    const reused = pool.acquireHost(4096);
    expect(reused.byteLength).toBe(4096);
    expect(new Uint8Array(reused).every((byte) => byte === 0)).toBe(true);
    expect(pool.liveBytes).toBe(0); // host memory is not GPU staging
  });

  test("acquireHost keeps an owner's own earlier bytes only when asked to, and zeroes another owner's", () => {
    const pool = new StagingPool(16 * MiB);
    const mine = {};
    const theirs = {};
    const first = pool.acquireHost(4096, mine, true);
    new Uint8Array(first).fill(0x11);
    pool.releaseHost(first, mine);
    const again = pool.acquireHost(4096, mine, true);
    expect(new Uint8Array(again).every((byte) => byte === 0x11)).toBe(true);
    pool.releaseHost(again, mine);
    const other = pool.acquireHost(4096, theirs, true);
    expect(new Uint8Array(other).every((byte) => byte === 0)).toBe(true);
    new Uint8Array(other).fill(0x22);
    pool.releaseHost(other, theirs);
    const notKept = pool.acquireHost(4096, theirs, false);
    expect(new Uint8Array(notKept).every((byte) => byte === 0)).toBe(true);
  });
});
