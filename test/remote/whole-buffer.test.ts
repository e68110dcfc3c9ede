// Reads and writes of a whole remote buffer whose exporter can hand out the whole buffer at once
// (`vmap`): the exporting realm serves them from that one view (remote/serve.ts), and over either
// transport the bytes arrive exactly, the exporter's own memory stays its own (a view of it is
// copied, never transferred away), and it can be read again. The exporter here is a small one
// over plain memory with a vmap op, as a heap's buffers have; the memory exporter of the other
// tests has none.
import { expect, test } from 'vitest';
import { exportDmaBuf, type DmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import { PAGE_SIZE } from '../../src/page.js';
import type { FdSocketTransport } from '../../remote/fd-socket.js';
import { RING_SLOTS, SLOT_BYTES } from '../../remote/shared-ring.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

const SIZE = 2 * PAGE_SIZE + 100;

/** A buffer over `storage` whose exporter has vmap; `calls` records the ops called, and `onVmap` runs as vmap is. */
function vmapBuffer(storage: Uint8Array, calls: string[], onVmap: () => void = () => undefined): DmaBuf {
  const page = (n: number) => storage.subarray(n * PAGE_SIZE, Math.min(storage.length, (n + 1) * PAGE_SIZE));
  const ops: DmaBufOps = {
    mapDmaBuf: () => Promise.resolve({ segments: [] }),
    unmapDmaBuf: () => undefined,
    release: () => undefined,
    kmap: (_priv, _buf, n) => {
      calls.push(`kmap ${String(n)}`);
      return page(n);
    },
    kunmap: (_priv, _buf, n) => { calls.push(`kunmap ${String(n)}`); },
    kmapAtomic: (_priv, _buf, n) => page(n),
    vmap: () => {
      calls.push('vmap');
      onVmap();
      return storage;
    },
    vunmap: () => { calls.push('vunmap'); },
  };
  return exportDmaBuf({ priv: {}, ops, size: storage.length, exporter: 'vmap' });
}

/**
 * Realm `b` holds a remote buffer of realm `a`'s, over `storage`, on sockets of `transport`:
 * `proxy` (a reference of the test's) and `exported`, the buffer itself (its reference is `a`'s
 * table's).
 */
async function remote(transport: FdSocketTransport, storage: Uint8Array, onVmap?: () => void) {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b, { transport });
  const calls: string[] = [];
  const exported = vmapBuffer(storage, calls, onVmap);
  const fd = a.table.install(exported);
  exported.put();
  await ab.send(a.table, fd);
  const proxy = b.table.get(await ba.receive(b.table));
  return { proxy, calls, exported };
}

/** The proxy's whole pages as the CPU sees them, copied out. */
function seen(proxy: DmaBuf): Uint8Array {
  const view = proxy.vmap();
  const copy = view.slice();
  proxy.vunmap(view);
  return copy;
}

const pattern = (seed: number) => Uint8Array.from({ length: SIZE }, (_, i) => (i * 7 + seed) % 256);

test.each<FdSocketTransport>(['message', 'shared-memory'])("a read of the whole buffer (%s) brings every byte, from the exporter's one view, which stays its own", async (transport) => {
  const storage = pattern(1);
  const { proxy, calls } = await remote(transport, storage);
  await proxy.beginCpuAccess(0, SIZE, 'from-device');
  expect(seen(proxy)).toEqual(pattern(1));
  proxy.endCpuAccess(0, SIZE, 'from-device');
  expect(calls, 'served from vmap').toEqual(['vmap', 'vunmap']);
  expect(storage.byteLength, "the exporter's memory is not transferred away").toBe(SIZE);
  expect(storage).toEqual(pattern(1));
  storage.set(pattern(2));
  await proxy.beginCpuAccess(0, SIZE, 'from-device');
  expect(seen(proxy), 'read again').toEqual(pattern(2));
  proxy.endCpuAccess(0, SIZE, 'from-device');
  proxy.put();
  await quiesce();
});

test.each<FdSocketTransport>(['message', 'shared-memory'])('a write of the whole buffer (%s) lands every byte, through the exporter\'s one view', async (transport) => {
  const storage = new Uint8Array(SIZE);
  const { proxy, calls } = await remote(transport, storage);
  await proxy.beginCpuAccess(0, SIZE, 'to-device');
  const view = proxy.vmap();
  view.set(pattern(3));
  proxy.vunmap(view);
  proxy.endCpuAccess(0, SIZE, 'to-device');
  await quiesce();
  expect(storage).toEqual(pattern(3));
  expect(calls).toEqual(['vmap', 'vunmap']);
  proxy.put();
});

test('a read of part of the buffer goes page by page over its page cover, and brings exactly its bytes', async () => {
  const storage = pattern(4);
  const { proxy, calls } = await remote('message', storage);
  await proxy.beginCpuAccess(PAGE_SIZE - 10, 20, 'from-device');
  const first = proxy.kmap(0);
  const second = proxy.kmap(1);
  expect([...first.subarray(PAGE_SIZE - 10)]).toEqual([...pattern(4).subarray(PAGE_SIZE - 10, PAGE_SIZE)]);
  expect([...second.subarray(0, 10)]).toEqual([...pattern(4).subarray(PAGE_SIZE, PAGE_SIZE + 10)]);
  proxy.kunmap(0, first);
  proxy.kunmap(1, second);
  proxy.endCpuAccess(PAGE_SIZE - 10, 20, 'from-device');
  expect(calls, 'each page window ended').toEqual(['kmap 0', 'kunmap 0', 'kmap 1', 'kunmap 1']);
  proxy.put();
  await quiesce();
});

test.each<FdSocketTransport>(['message', 'shared-memory'])("while the exporter's realm has CPU access over the whole buffer, a read of part of it (%s) brings exactly its page cover", async (transport) => {
  const storage = pattern(5);
  const { proxy, exported, calls } = await remote(transport, storage);
  await exported.beginCpuAccess(0, SIZE, 'bidirectional');
  await proxy.beginCpuAccess(PAGE_SIZE + 3, 10, 'from-device');
  const page = proxy.kmap(1);
  expect([...page]).toEqual([...pattern(5).subarray(PAGE_SIZE, 2 * PAGE_SIZE)]);
  proxy.kunmap(1, page);
  proxy.endCpuAccess(PAGE_SIZE + 3, 10, 'from-device');
  await proxy.beginCpuAccess(0, 10, 'from-device');
  const first = proxy.kmap(0);
  expect([...first]).toEqual([...pattern(5).subarray(0, PAGE_SIZE)]);
  proxy.kunmap(0, first);
  proxy.endCpuAccess(0, 10, 'from-device');
  expect(calls.filter((call) => call === 'vmap'), 'no whole view for a part').toEqual([]);
  exported.endCpuAccess(0, SIZE, 'bidirectional');
  proxy.put();
  await quiesce();
});

test.each<FdSocketTransport>(['message', 'shared-memory'])("while the exporter's realm has CPU access over the whole buffer, a write of part of it (%s) lands exactly there", async (transport) => {
  const storage = pattern(6);
  const { proxy, exported } = await remote(transport, storage);
  await exported.beginCpuAccess(0, SIZE, 'bidirectional');
  const written = [1, 2, 3, 4, 5];
  // One write at the start of the buffer, one that ends with it.
  for (const start of [0, SIZE - written.length]) {
    await proxy.beginCpuAccess(start, written.length, 'to-device');
    const page = Math.floor(start / PAGE_SIZE);
    const view = proxy.kmap(page);
    view.set(written, start - page * PAGE_SIZE);
    proxy.kunmap(page, view);
    proxy.endCpuAccess(start, written.length, 'to-device');
  }
  await quiesce();
  const expected = pattern(6);
  expected.set(written, 0);
  expected.set(written, SIZE - written.length);
  expect(storage).toEqual(expected);
  exported.endCpuAccess(0, SIZE, 'bidirectional');
  proxy.put();
});

test("a read of the whole buffer streamed through the ring keeps the exporter's later writes waiting until its last byte is out", async () => {
  // More than the ring holds: the exporter's realm waits for the importer to free slots.
  const size = (RING_SLOTS + 1) * SLOT_BYTES;
  const storage = new Uint8Array(size).fill(1);
  let written: Promise<void> | undefined;
  const { proxy, exported } = await remote('shared-memory', storage, () => {
    // A write of the exporter's own (its device's), called while the read streams: it takes
    // its turn in the reservation, as the exporter's writes do.
    queueMicrotask(() => {
      const turn = exported.resv.enter('write');
      written = (async () => {
        await turn.ready;
        storage.fill(2);
        turn.done();
      })();
    });
  });
  await proxy.beginCpuAccess(0, size, 'from-device');
  const view = proxy.vmap();
  expect(view.every((byte) => byte === 1), 'every byte as it was when the read came').toBe(true);
  proxy.vunmap(view);
  proxy.endCpuAccess(0, size, 'from-device');
  expect(written, 'the exporter wrote while the read streamed').toBeDefined();
  await written;
  expect(storage.every((byte) => byte === 2), 'the write went ahead once the bytes were out').toBe(true);
  proxy.put();
  await quiesce();
});

test("a read of the whole buffer while the exporter's realm holds a vmap of its own leaves that vmap as it was: its vunmap ends it", async () => {
  const storage = pattern(7);
  const { proxy, exported, calls } = await remote('message', storage);
  await exported.beginCpuAccess(0, SIZE, 'bidirectional');
  const own = exported.vmap();
  await proxy.beginCpuAccess(0, SIZE, 'from-device');
  expect(seen(proxy)).toEqual(pattern(7));
  proxy.endCpuAccess(0, SIZE, 'from-device');
  expect(calls, 'one vmap, the same view for the read').toEqual(['vmap']);
  exported.vunmap(own);
  expect(calls, "the realm's vunmap ends it").toEqual(['vmap', 'vunmap']);
  exported.endCpuAccess(0, SIZE, 'bidirectional');
  proxy.put();
  await quiesce();
});
