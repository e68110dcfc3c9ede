import { describe, expect, test } from 'vitest';

import { exportDmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import { PAGE_SIZE } from '../../src/page.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

/** An exporter over memory whose write-only CPU access begins only when the test opens the gate. */
function gatedBuffer(size: number) {
  const bytes = new Uint8Array(size);
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const page = (n: number) => bytes.subarray(n * PAGE_SIZE, Math.min(size, (n + 1) * PAGE_SIZE));
  const ops: DmaBufOps<Uint8Array> = {
    mapDmaBuf: () => Promise.reject(new Error('no device here')),
    unmapDmaBuf: () => undefined,
    release: () => undefined,
    beginCpuAccess: async (_priv, _buf, _start, _len, dir) => {
      if (dir === 'to-device') await gate;
    },
    kmap: (_priv, _buf, n) => page(n),
    kmapAtomic: (_priv, _buf, n) => page(n),
  };
  return { buf: exportDmaBuf({ priv: bytes, ops, size }), bytes, open };
}

describe('byte RPCs take effect in the order they were called', () => {
  test('a read called after a write sees it, even when the exporter is slow to begin the write', async () => {
    const a = realms.realm('a');
    const b = realms.realm('b');
    const { ab, ba } = realms.link(a, b);
    const { buf, bytes, open } = gatedBuffer(10);
    const fd = a.table.install(buf);
    buf.put();
    await ab.send(a.table, fd);
    const remote = b.table.get(await ba.receive(b.table));
    await remote.beginCpuAccess(0, 10, 'to-device');
    const window = remote.kmap(0);
    window.fill(7);
    remote.kunmap(0, window);
    remote.endCpuAccess(0, 10, 'to-device');
    const read = remote.beginCpuAccess(0, 10, 'from-device');
    await quiesce();
    // Both RPCs have arrived; the write has not begun yet, and the read waits for it.
    expect(bytes[0]).toBe(0);
    open();
    await read;
    const view = remote.kmap(0);
    expect([...view]).toEqual(new Array<number>(10).fill(7));
    remote.kunmap(0, view);
    remote.endCpuAccess(0, 10, 'from-device');
    remote.put();
  });
});
