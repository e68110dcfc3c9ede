// vmap on the contract, with an exporter that has the op: nested vmaps share one view and one
// exporter call, the exporter's vunmap runs once, when the last is ended or when CPU access stops
// covering the whole buffer, and what the exporter returns is checked.
import { afterEach, describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { exportDmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import { fields, thrown } from './refusal.js';

/** The fields of the DmaBufError `run` throws. */
const refused = (run: () => unknown) => fields(thrown(run));

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
});

const SIZE = 64;

/** A buffer whose exporter has vmap (answering `answer`, or its bytes) and, unless left out, vunmap; it logs both. */
function vmapDmaBuf(options: { answer?: () => unknown; vunmap?: boolean; vunmapFails?: Error; onEnd?: (dir: string) => void } = {}) {
  const bytes = new Uint8Array(SIZE);
  const calls: string[] = [];
  const ops: DmaBufOps<object> = {
    mapDmaBuf: () => Promise.reject(new Error('no device here')),
    unmapDmaBuf: () => undefined,
    release: () => undefined,
    kmap: () => bytes.subarray(0, SIZE),
    kmapAtomic: () => bytes.subarray(0, SIZE),
    ...(options.onEnd ? { endCpuAccess: (_priv: object, _buf: unknown, _start: number, _len: number, dir: string) => { options.onEnd?.(dir); } } : {}),
    vmap: () => {
      calls.push('vmap');
      return (options.answer ? options.answer() : bytes.subarray()) as Uint8Array;
    },
    ...(options.vunmap === false
      ? {}
      : {
          vunmap: (_priv: object, _buf: unknown, view: Uint8Array) => {
            calls.push(`vunmap ${view.length}`);
            if (options.vunmapFails) throw options.vunmapFails;
          },
        }),
  };
  return { buf: exportDmaBuf({ priv: {}, ops, size: SIZE }), calls };
}


describe('nested vmaps', () => {
  test('return the same view from one exporter call; the exporter\'s vunmap runs once, at the last vunmap', async () => {
    const { buf, calls } = vmapDmaBuf();
    await buf.beginCpuAccess(0, SIZE, 'bidirectional');
    const view = buf.vmap();
    expect(buf.vmap()).toBe(view);
    expect(buf.vmap()).toBe(view);
    expect(calls).toEqual(['vmap']);
    buf.vunmap(view);
    buf.vunmap(view);
    expect(calls).toEqual(['vmap']);
    buf.vunmap(view);
    expect(calls).toEqual(['vmap', `vunmap ${SIZE}`]);
    expect(refused(() => { buf.vunmap(view); })).toEqual({ code: 'EINVAL', call: 'vunmap', reason: 'an object is not an outstanding vmap of this buffer' });
    buf.endCpuAccess(0, SIZE, 'bidirectional');
    buf.put();
  });

  test('a vmap after the last vunmap asks the exporter again', async () => {
    const { buf, calls } = vmapDmaBuf();
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    buf.vunmap(buf.vmap());
    buf.vunmap(buf.vmap());
    expect(calls).toEqual(['vmap', `vunmap ${SIZE}`, 'vmap', `vunmap ${SIZE}`]);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('vunmap of another view while one is outstanding is EINVAL and ends nothing', async () => {
    const { buf, calls } = vmapDmaBuf();
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const view = buf.vmap();
    expect(refused(() => { buf.vunmap(new Uint8Array(SIZE)); })).toEqual({ code: 'EINVAL', call: 'vunmap', reason: 'an object is not an outstanding vmap of this buffer' });
    expect(calls).toEqual(['vmap']);
    buf.vunmap(view);
    expect(calls).toEqual(['vmap', `vunmap ${SIZE}`]);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('without an exporter vunmap op, the last vunmap still ends the vmap', async () => {
    const { buf, calls } = vmapDmaBuf({ vunmap: false });
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const view = buf.vmap();
    buf.vunmap(view);
    expect(refused(() => { buf.vunmap(view); })).toMatchObject({ code: 'EINVAL', call: 'vunmap' });
    expect(calls).toEqual(['vmap']);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test("an exporter's vunmap that throws a plain Error is EIO naming the call and the op", async () => {
    const { buf } = vmapDmaBuf({ vunmapFails: new Error('stuck') });
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    const view = buf.vmap();
    expect(refused(() => { buf.vunmap(view); })).toEqual({ code: 'EIO', call: 'vunmap', reason: "the exporter's vunmap op failed: stuck" });
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });
});

describe('vmap ends with the coverage of the whole buffer', () => {
  test('ending a range while another still covers the whole buffer keeps the vmap', async () => {
    const { buf, calls } = vmapDmaBuf();
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    await buf.beginCpuAccess(0, SIZE, 'to-device');
    const view = buf.vmap();
    buf.endCpuAccess(0, SIZE, 'to-device');
    expect(calls).toEqual(['vmap']);
    expect(buf.vmap()).toBe(view);
    buf.vunmap(view);
    buf.vunmap(view);
    expect(calls).toEqual(['vmap', `vunmap ${SIZE}`]);
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });

  test('ending the range that covered the buffer ends the vmap: the exporter\'s vunmap runs, and the view is no longer outstanding', async () => {
    const { buf, calls } = vmapDmaBuf();
    await buf.beginCpuAccess(0, SIZE / 2, 'from-device');
    await buf.beginCpuAccess(SIZE / 2, SIZE / 2, 'from-device');
    const view = buf.vmap();
    buf.endCpuAccess(SIZE / 2, SIZE / 2, 'from-device');
    expect(calls).toEqual(['vmap', `vunmap ${SIZE}`]);
    expect(refused(() => { buf.vunmap(view); })).toMatchObject({ code: 'EINVAL', call: 'vunmap' });
    buf.endCpuAccess(0, SIZE / 2, 'from-device');
    expect(calls).toEqual(['vmap', `vunmap ${SIZE}`]);
    buf.put();
  });

  test("an exporter's vunmap that throws as CPU access ends is EIO naming endCpuAccess and the op, after the exporter's endCpuAccess has run", async () => {
    const ended: string[] = [];
    const { buf } = vmapDmaBuf({ vunmapFails: new Error('stuck'), onEnd: (dir) => ended.push(dir) });
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    buf.vmap();
    expect(refused(() => { buf.endCpuAccess(0, SIZE, 'from-device'); })).toEqual({ code: 'EIO', call: 'endCpuAccess', reason: "the exporter's vunmap op failed: stuck" });
    expect(ended).toEqual(['from-device']);
    // The range is over: ending it again is refused.
    expect(refused(() => { buf.endCpuAccess(0, SIZE, 'from-device'); })).toMatchObject({ code: 'EINVAL', call: 'endCpuAccess' });
    buf.put();
  });

  test("when both the exporter's vunmap and its endCpuAccess throw as CPU access ends, the flush's error is the one thrown", async () => {
    const { buf } = vmapDmaBuf({ vunmapFails: new Error('stuck'), onEnd: () => { throw new Error('flush failed'); } });
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    buf.vmap();
    expect(refused(() => { buf.endCpuAccess(0, SIZE, 'from-device'); })).toEqual({ code: 'EIO', call: 'endCpuAccess', reason: "the exporter's endCpuAccess op failed: flush failed" });
    buf.put();
  });
});

describe("what the exporter's vmap returns", () => {
  test.each([
    ['a view one byte short', () => new Uint8Array(SIZE - 1), 'an object'],
    ['a view one byte long', () => new Uint8Array(SIZE + 1), 'an object'],
    ['an ArrayBuffer', () => new ArrayBuffer(SIZE), 'an object'],
    ['a Uint16Array of the right length', () => new Uint16Array(SIZE), 'an object'],
    ['nothing', () => undefined, 'undefined'],
  ])('%s is EIO naming vmap, and no vmap is outstanding', async (_what, answer, shown) => {
    const { buf, calls } = vmapDmaBuf({ answer });
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    expect(refused(() => buf.vmap())).toEqual({ code: 'EIO', call: 'vmap', reason: `the exporter's vmap op returned ${shown}, not a Uint8Array of ${SIZE} bytes` });
    expect(refused(() => buf.vmap())).toMatchObject({ code: 'EIO', call: 'vmap' });
    expect(calls).toEqual(['vmap', 'vmap']);
    buf.endCpuAccess(0, SIZE, 'from-device');
    expect(calls).toEqual(['vmap', 'vmap']);
    buf.put();
  });

  test("an exporter's vmap that throws a plain Error is EIO naming vmap and the op", async () => {
    const { buf } = vmapDmaBuf({ answer: () => { throw new Error('no mapping'); } });
    await buf.beginCpuAccess(0, SIZE, 'from-device');
    expect(refused(() => buf.vmap())).toEqual({ code: 'EIO', call: 'vmap', reason: "the exporter's vmap op failed: no mapping" });
    buf.endCpuAccess(0, SIZE, 'from-device');
    buf.put();
  });
});
