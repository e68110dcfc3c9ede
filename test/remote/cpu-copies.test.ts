// The payload bytes each end of a connection copies with the CPU (FdSocket.cpuBytesCopied), per
// operation on a remote buffer of N bytes, over both transports: a map that moves the bytes to
// the importer's device, an unmap that moves them back, a CPU read and a CPU write. The exporter
// is either one that hands out the whole buffer at once (vmap, as a heap's buffers do) or one that
// hands out pages only (the memory exporter). The device side here is memory
// (memory-device-access.ts), whose own copies are the test's, not the library's: what is counted
// is the realm layer's (remote/), the same on WebGPU. The hand-written baseline of
// map-cross-realm copies N once per direction (into a SharedArrayBuffer).
import { describe, expect, test } from 'vitest';
import { exportDmaBuf, type DmaBuf } from '../../src/dma-buf.js';
import { DmaBufError } from '../../src/error.js';
import { standInDevice, memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import type { DmaBufOps } from '../../src/ops.js';
import { PAGE_SIZE } from '../../src/page.js';
import type { FdSocket, FdSocketTransport } from '../../remote/fd-socket.js';
import { RING_SLOTS, SLOT_BYTES } from '../../remote/shared-ring.js';
import { mirrorBytes } from './memory-device-access.js';
import { realmsFixture } from './realms.js';

const realms = realmsFixture();

/** Whether `x` and `y` hold the same bytes (vitest's deep equality is too slow for MiBs). */
const same = (x: Uint8Array, y: Uint8Array): boolean => Buffer.from(x.buffer, x.byteOffset, x.length).equals(Buffer.from(y.buffer, y.byteOffset, y.length));

// Larger than a ring slot, so that a payload streams through several.
const N = SLOT_BYTES + 2 * PAGE_SIZE;

type Exporter = 'vmap' | 'pages';

/** A buffer of `size` bytes whose exporter hands out the whole buffer (`vmap`) as well as pages; returns it and its bytes. */
function vmapBuffer(size: number): { buf: DmaBuf; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  const page = (n: number) => bytes.subarray(n * PAGE_SIZE, Math.min(size, (n + 1) * PAGE_SIZE));
  const ops: DmaBufOps = {
    mapDmaBuf: () => Promise.resolve({ segments: [] }),
    unmapDmaBuf: () => undefined,
    release: () => undefined,
    kmap: (_priv, _buf, n) => page(n),
    kmapAtomic: (_priv, _buf, n) => page(n),
    vmap: () => bytes,
  };
  return { buf: exportDmaBuf({ priv: {}, ops, size, exporter: 'vmap' }), bytes };
}

/** Realm `b` holds a proxy of a buffer of realm `a`'s of `size` bytes; each socket's count is read as copies go. */
async function remote(transport: FdSocketTransport, exporter: Exporter, size = N) {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b, { transport });
  let buf: DmaBuf;
  let bytes: Uint8Array;
  if (exporter === 'vmap') {
    ({ buf, bytes } = vmapBuffer(size));
  } else {
    const memory = memoryDmaBuf(size);
    buf = memory;
    bytes = memoryStorage(memory).bytes;
  }
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) & 0xff;
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  const proxy = b.table.get(await ba.receive(b.table));
  expect(ab.transport).toBe(transport);
  return { proxy, bytes, ab, ba };
}

/** What `run` made each end copy: the exporter's end (`ab`) and the importer's (`ba`). */
async function copiesOf(ab: FdSocket, ba: FdSocket, run: () => Promise<void>): Promise<{ exporter: number; importer: number }> {
  const before = { exporter: ab.cpuBytesCopied, importer: ba.cpuBytesCopied };
  await run();
  return { exporter: ab.cpuBytesCopied - before.exporter, importer: ba.cpuBytesCopied - before.importer };
}

/**
 * The copies of each operation today, in units of N, per transport and exporter: the
 * exporter's end and the importer's.
 */
const EXPECTED: Record<FdSocketTransport, Record<Exporter, Record<'map' | 'unmap' | 'read' | 'write', [number, number]>>> = {
  'shared-memory': {
    // map, read: into the ring (exporter); read: into the proxy's pages (importer).
    // unmap: into the ring (importer); put together, then into the pages (exporter).
    // write: into the ring from the proxy's pages themselves, which the last range to end
    // detaches (importer); as unmap (exporter).
    vmap: { map: [1, 0], unmap: [2, 1], read: [1, 1], write: [2, 1] },
    // Without vmap the exporter copies its pages (kmap) straight into the ring.
    pages: { map: [1, 0], unmap: [2, 1], read: [1, 1], write: [2, 1] },
  },
  message: {
    // A view of the exporter's memory, or of the proxy's pages, is copied into the message; an
    // array of the exporter's own is transferred.
    vmap: { map: [1, 0], unmap: [1, 1], read: [1, 1], write: [1, 1] },
    pages: { map: [1, 0], unmap: [1, 1], read: [1, 1], write: [1, 1] },
  },
};

describe.each(['shared-memory', 'message'] as const)('over %s', (transport) => {
  describe.each(['vmap', 'pages'] as const)('from an exporter with %s', (exporter) => {
    const expected = EXPECTED[transport][exporter];
    const inN = (copies: { exporter: number; importer: number }) => [copies.exporter / N, copies.importer / N];

    test(`a map that moves N bytes to the device copies ${expected.map.join(' + ')} N bytes (exporter + importer)`, async () => {
      const { proxy, bytes, ab, ba } = await remote(transport, exporter);
      const attachment = proxy.attach(standInDevice('b-device'));
      const copies = await copiesOf(ab, ba, async () => {
        const table = await attachment.map('to-device');
        const [segment] = table.segments;
        if (!segment) throw new Error('no segment');
        expect(same(mirrorBytes(segment.buffer), bytes)).toBe(true);
        await attachment.unmap(table, 'to-device');
      });
      expect(inN(copies)).toEqual(expected.map);
      proxy.detach(attachment);
      proxy.put();
    });

    test(`an unmap that moves N bytes back copies ${expected.unmap.join(' + ')} N bytes`, async () => {
      const { proxy, bytes, ab, ba } = await remote(transport, exporter);
      const attachment = proxy.attach(standInDevice('b-device'));
      const table = await attachment.map('from-device');
      const [segment] = table.segments;
      if (!segment) throw new Error('no segment');
      mirrorBytes(segment.buffer).fill(0x5a);
      const copies = await copiesOf(ab, ba, () => attachment.unmap(table, 'from-device'));
      expect(bytes.every((byte) => byte === 0x5a)).toBe(true);
      expect(inN(copies)).toEqual(expected.unmap);
      proxy.detach(attachment);
      proxy.put();
    });

    test(`a CPU read of N bytes copies ${expected.read.join(' + ')} N bytes`, async () => {
      const { proxy, bytes, ab, ba } = await remote(transport, exporter);
      const copies = await copiesOf(ab, ba, async () => {
        await proxy.beginCpuAccess(0, N, 'from-device');
        const view = proxy.vmap();
        expect(same(view, bytes)).toBe(true);
        proxy.vunmap(view);
        proxy.endCpuAccess(0, N, 'from-device');
      });
      expect(inN(copies)).toEqual(expected.read);
      proxy.put();
    });

    test(`a CPU write of N bytes copies ${expected.write.join(' + ')} N bytes`, async () => {
      const { proxy, bytes, ab, ba } = await remote(transport, exporter);
      const copies = await copiesOf(ab, ba, async () => {
        await proxy.beginCpuAccess(0, N, 'to-device');
        const view = proxy.vmap();
        view.fill(0xa5);
        proxy.vunmap(view);
        proxy.endCpuAccess(0, N, 'to-device');
        // The write's end is read back: its reply has come once a later read has.
        await proxy.beginCpuAccess(0, 1, 'from-device');
        proxy.endCpuAccess(0, 1, 'from-device');
      });
      expect(bytes.every((byte) => byte === 0xa5)).toBe(true);
      // The read of the first page that waited for the write adds its own: the exporter copies
      // the page into the ring or the message, the importer into the proxy's pages.
      expect([(copies.exporter - PAGE_SIZE) / N, (copies.importer - PAGE_SIZE) / N]).toEqual(expected.write);
      proxy.put();
    });
  });
});

describe.each(['shared-memory', 'message'] as const)('a CPU write over %s', (transport) => {
  test('whose range ends while another range is active takes its bytes at the end: a copy', async () => {
    const { proxy, bytes, ab, ba } = await remote(transport, 'vmap');
    await proxy.beginCpuAccess(0, N, 'to-device');
    await proxy.beginCpuAccess(0, PAGE_SIZE, 'to-device');
    const view = proxy.vmap();
    view.fill(1);
    proxy.vunmap(view);
    const copies = await copiesOf(ab, ba, async () => {
      proxy.endCpuAccess(0, N, 'to-device');
      // Written after the end, within the range still active: not the ended range's bytes.
      const page = proxy.kmap(0);
      page.fill(2);
      proxy.kunmap(0, page);
      await proxy.beginCpuAccess(N - 1, 1, 'from-device');
      proxy.endCpuAccess(N - 1, 1, 'from-device');
    });
    expect(bytes[0]).toBe(1);
    expect(bytes[N - 1]).toBe(1);
    // The range taken (N), into the ring or the message (N); the page the read took.
    expect(copies.importer).toBe(2 * N + PAGE_SIZE);
    proxy.endCpuAccess(0, PAGE_SIZE, 'to-device');
    await proxy.beginCpuAccess(0, 1, 'from-device');
    proxy.endCpuAccess(0, 1, 'from-device');
    expect(bytes[0]).toBe(2);
    proxy.put();
  });

  test('sends the pages it ended with, though a later access begins before all are sent', async () => {
    // Larger than the ring: its last chunks wait for slots the exporter frees.
    const size = RING_SLOTS * SLOT_BYTES + PAGE_SIZE;
    const { proxy, bytes } = await remote(transport, 'vmap', size);
    const fill = async (value: number, dir: 'to-device' | 'none') => {
      await proxy.beginCpuAccess(0, size, dir);
      const view = proxy.vmap();
      view.fill(value);
      proxy.vunmap(view);
      proxy.endCpuAccess(0, size, dir);
    };
    await fill(2, 'to-device');
    // Bytes the CPU writes into pages that go nowhere ('none'): not the write's.
    await fill(3, 'none');
    await proxy.beginCpuAccess(0, 1, 'from-device');
    proxy.endCpuAccess(0, 1, 'from-device');
    expect(bytes.every((byte) => byte === 2)).toBe(true);
    proxy.put();
  });
});

/**
 * Realm `b` holds a proxy of a buffer of realm `a`'s over `bytes`, on sockets of `transport`,
 * whose exporter hands out pages only; `onKmap(n, buf)` runs as page `n` is mapped (it may throw).
 */
async function pagesOnly(transport: FdSocketTransport, bytes: Uint8Array, onKmap: (page: number, buf: DmaBuf) => void): Promise<DmaBuf> {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b, { transport });
  const self: { buf?: DmaBuf } = {};
  const ops: DmaBufOps = {
    mapDmaBuf: () => Promise.resolve({ segments: [] }),
    unmapDmaBuf: () => undefined,
    release: () => undefined,
    kmap: (_priv, _buf, n) => {
      if (self.buf) onKmap(n, self.buf);
      return bytes.subarray(n * PAGE_SIZE, (n + 1) * PAGE_SIZE);
    },
    kmapAtomic: () => new Uint8Array(0),
  };
  const buf = exportDmaBuf({ priv: {}, ops, size: bytes.length, exporter: 'pages only' });
  self.buf = buf;
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  return b.table.get(await ba.receive(b.table));
}

describe.each(['shared-memory', 'message'] as const)('a read over %s from an exporter whose kmap fails past the first slot', (transport) => {
  test('fails with the kmap\'s error, and the next read is answered', async () => {
    const bytes = new Uint8Array(N);
    const broken = SLOT_BYTES / PAGE_SIZE;
    const proxy = await pagesOnly(transport, bytes, (n) => {
      if (n >= broken) throw new DmaBufError('EIO', 'kmap', `page ${String(n)} is broken`);
    });
    await expect(proxy.beginCpuAccess(0, N, 'from-device')).rejects.toThrow(`EIO: kmap: page ${String(broken)} is broken`);
    bytes.fill(9);
    await proxy.beginCpuAccess(0, 1, 'from-device');
    const page = proxy.kmap(0);
    expect(page[0]).toBe(9);
    proxy.kunmap(0, page);
    proxy.endCpuAccess(0, 1, 'from-device');
    proxy.put();
  });
});

test("a read of part of a buffer keeps the exporter's writers called while its bytes stream waiting until they are sent", async () => {
  const seen: string[] = [];
  const proxy = await pagesOnly('shared-memory', new Uint8Array(N + PAGE_SIZE), (n, buf) => {
    // A writer of the exporter's realm called in the middle of the stream.
    if (n !== SLOT_BYTES / PAGE_SIZE) return;
    const turn = buf.resv.enter('write');
    seen.push(turn.ready ? 'waits' : 'goes first');
    turn.done();
  });
  await proxy.beginCpuAccess(0, N, 'from-device');
  proxy.endCpuAccess(0, N, 'from-device');
  expect(seen).toEqual(['waits']);
  proxy.put();
});
