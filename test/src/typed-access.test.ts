// buf.read(Type, start?, length?) and buf.write(data, start?): whole reads and writes through
// the exporter's read and write ops, each taking its place in call order when called.
import { afterEach, describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { exportDmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf, memoryStorage } from './memory-exporter.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
});

const SIZE = 2 * PAGE_SIZE + 10;

describe('read and write', () => {
  test('a write at an odd offset across pages lands exactly there, through one call of the write op', async () => {
    const buf = memoryDmaBuf(SIZE);
    const data = Uint8Array.from({ length: PAGE_SIZE + 3 }, (_, i) => (i % 250) + 1);
    await buf.write(data, PAGE_SIZE - 1);
    const expected = new Uint8Array(SIZE);
    expected.set(data, PAGE_SIZE - 1);
    expect(memoryStorage(buf).bytes).toEqual(expected);
    expect(memoryStorage(buf).calls).toEqual([`write ${PAGE_SIZE - 1} ${PAGE_SIZE + 3}`]);
    buf.put();
  });

  test('read gives a new array of the type asked for, by default every whole element from start to the end', async () => {
    const buf = memoryDmaBuf(SIZE);
    const values = Float32Array.from({ length: Math.floor(SIZE / 4) }, (_, i) => i * 0.5);
    await buf.write(values);
    const all = await buf.read(Float32Array);
    expect(all).toBeInstanceOf(Float32Array);
    expect(all).toEqual(values);
    expect(await buf.read(Float32Array, 4 * 1000, 3)).toEqual(values.subarray(1000, 1003));
    expect(await buf.read(Uint8Array, SIZE - 2)).toEqual(new Uint8Array([0, 0]));
    expect(await buf.read(BigUint64Array, 8, 1)).toEqual(new BigUint64Array(new Float32Array([1, 1.5]).buffer));
    expect(memoryStorage(buf).calls.filter((c) => c.startsWith('read'))).toEqual(['read 0 8200', 'read 4000 12', `read ${SIZE - 2} 2`, 'read 8 8']);
    buf.put();
  });

  test('write takes the bytes data holds when it is called: changing the array afterwards changes nothing', async () => {
    const buf = memoryDmaBuf(16);
    const data = new DataView(new ArrayBuffer(16));
    data.setUint32(0, 7);
    const written = buf.write(data);
    data.setUint32(0, 9);
    await written;
    expect(await buf.read(Uint8Array, 0, 4)).toEqual(new Uint8Array([0, 0, 0, 7]));
    buf.put();
  });

  test('write hands the exporter a copy: an exporter that stores the bytes later still stores what data held at the call', async () => {
    const storage = new Uint8Array(8);
    const ops: DmaBufOps<object> = {
      mapDmaBuf: () => Promise.reject(new Error('no device here')),
      unmapDmaBuf: () => undefined,
      release: () => undefined,
      kmap: () => storage,
      kmapAtomic: () => storage,
      write: async (_priv, _buf, start, bytes) => {
        // Stored a turn later: after the caller's next synchronous step.
        await Promise.resolve();
        storage.set(bytes, start);
      },
    };
    const buf = exportDmaBuf({ priv: {}, ops, size: 8 });
    const data = new Uint8Array([1, 2, 3, 4]);
    const written = buf.write(data.subarray(1, 3), 2);
    data.fill(9);
    await written;
    expect(storage).toEqual(new Uint8Array([0, 0, 2, 3, 0, 0, 0, 0]));
    buf.put();
  });

  test("what the exporter's op throws reaches the caller: a DmaBufError unchanged, anything else as EIO", async () => {
    const buf = memoryDmaBuf(16, { fail: { read: new Error('lost'), write: new Error('full') } });
    await expect(buf.read(Uint8Array)).rejects.toThrow(/^EIO: read: the exporter's read op failed: lost$/);
    await expect(buf.write(new Uint8Array(4))).rejects.toThrow(/^EIO: write: the exporter's write op failed: full$/);
    buf.put();
  });
});

describe('bad input', () => {
  test.each([
    ['a type that is not a typed array constructor', [Array], /^EINVAL: read: type must be a typed array constructor such as Float32Array, got a function$/],
    ['no type', [undefined], /^EINVAL: read: type must be a typed array constructor/],
    ['a start that is not a multiple of the element size', [Float32Array, 2], /^EINVAL: read: start 2 is not a multiple of Float32Array's 4-byte elements$/],
    ['a negative start', [Uint8Array, -1], /^EINVAL: read: start must be a non-negative integer, got -1$/],
    ['a zero length', [Uint8Array, 0, 0], /^EINVAL: read: length must be a positive integer, got 0$/],
    ['a length past the end', [Uint16Array, 0, 100], /^EINVAL: read: range \[0, 200\) goes beyond the buffer's 64 bytes$/],
    ['a start at the end', [Uint8Array, 64], /^EINVAL: read: length must be a positive integer, got 0$/],
  ])('read with %s throws EINVAL and reads nothing', async (_what, args, message) => {
    const buf = memoryDmaBuf(64);
    await expect((buf.read as (...a: unknown[]) => Promise<unknown>)(...args)).rejects.toThrow(message);
    expect(memoryStorage(buf).calls).toEqual([]);
    buf.put();
  });

  test.each([
    ['data that is not a view', [[1, 2, 3]], /^EINVAL: write: data must be a typed array or a DataView, got an array$/],
    ['an ArrayBuffer', [new ArrayBuffer(4)], /^EINVAL: write: data must be a typed array or a DataView, got an object$/],
    ['empty data', [new Uint8Array(0)], /^EINVAL: write: len must be a positive integer, got 0$/],
    ['data that does not fit from start', [new Uint8Array(8), 60], /^EINVAL: write: range \[60, 68\) goes beyond the buffer's 64 bytes$/],
    ['a fractional start', [new Uint8Array(8), 1.5], /^EINVAL: write: start must be a non-negative integer, got 1.5$/],
  ])('write with %s throws EINVAL and writes nothing', async (_what, args, message) => {
    const buf = memoryDmaBuf(64);
    await expect((buf.write as (...a: unknown[]) => Promise<unknown>)(...args)).rejects.toThrow(message);
    expect(memoryStorage(buf).calls).toEqual([]);
    expect(memoryStorage(buf).bytes).toEqual(new Uint8Array(64));
    buf.put();
  });

  test('an exporter without the read or write op refuses them with EINVAL naming it', async () => {
    const buf = memoryDmaBuf(64, { omit: ['read', 'write'] });
    await expect(buf.read(Uint8Array)).rejects.toThrow(/^EINVAL: read: the exporter 'memory' has no read op; use beginCpuAccess and kmap$/);
    await expect(buf.write(new Uint8Array(4))).rejects.toThrow(/^EINVAL: write: the exporter 'memory' has no write op; use beginCpuAccess and kmap$/);
    buf.put();
  });

  test('read and write on a look-alike of a buffer, or on a released one, throw EINVAL', async () => {
    const buf = memoryDmaBuf(64);
    const lookAlike = Object.create(buf) as typeof buf;
    await expect(lookAlike.read(Uint8Array)).rejects.toThrow(/^EINVAL: read: .*look-alike of a DmaBuf/);
    await expect(new Proxy(buf, {}).write(new Uint8Array(4))).rejects.toThrow(/^EINVAL: write: .*look-alike of a DmaBuf/);
    expect(memoryStorage(buf).calls).toEqual([]);
    buf.put();
    await expect(buf.read(Uint8Array)).rejects.toThrow(/^EINVAL: read: /);
    await expect(buf.write(new Uint8Array(4))).rejects.toThrow(/^EINVAL: write: /);
  });
});
