// Load on real WebGPU: many buffers in rounds, many maps in flight across two devices, many
// modules passing buffers around. Each finishes with the right bytes and nothing left over.
import { expect, test } from 'vitest';
import { bufinfoEntries, FdTable, type GpuDmaBuf } from 'webgpu-dmabuf';
import { heapFixture, readTable } from '../gpu/gpu-helpers.js';

const f = heapFixture();

/** Fills the buffer with `tag` through a CPU window. */
async function tag(buf: GpuDmaBuf, value: number): Promise<void> {
  await buf.beginCpuAccess(0, buf.size, 'to-device');
  buf.kmap(0).fill(value);
  buf.endCpuAccess(0, buf.size, 'to-device');
}

test('10,000 buffers allocated and released in 10 rounds leave storage, staging and listings flat', async () => {
  const stagingAfterRound: number[] = [];
  for (let round = 0; round < 10; round++) {
    const buffers = Array.from({ length: 1000 }, (_, i) => f.heap.allocate(256 + ((round * 1000 + i) % 7) * 4));
    expect(f.heap.stats().liveBuffers).toBe(1000);
    const probe = buffers[round * 97];
    if (!probe) throw new Error('no probe buffer');
    await tag(probe, round + 1);
    for (const buf of buffers) buf.put();
    expect(f.heap.stats()).toMatchObject({ liveBuffers: 0, storageBytes: 0 });
    expect(bufinfoEntries()).toHaveLength(0);
    stagingAfterRound.push(f.heap.stats().stagingBytes);
  }
  expect(new Set(stagingAfterRound).size).toBe(1);
});

test('1,000 maps in flight across two devices each see the right bytes', async () => {
  const buffers = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const buf = f.heap.allocate(512);
      await tag(buf, 10 + i);
      return buf;
    }),
  );
  const attachments = buffers.flatMap((buf) => [buf.attach(f.exporter), buf.attach(f.importer)]);
  const maps = await Promise.all(
    Array.from({ length: 1000 }, async (_, i) => {
      const attachment = attachments[i % attachments.length];
      if (!attachment) throw new Error('no attachment');
      return { attachment, sgt: await attachment.map('to-device'), tag: 10 + Math.floor((i % attachments.length) / 2) };
    }),
  );
  expect(bufinfoEntries().reduce((n, e) => n + e.attachments.reduce((m, a) => m + a.mappings.length, 0), 0)).toBe(1000);
  for (const [i, { attachment, sgt, tag: expected }] of maps.entries()) {
    if (i % 50 === 0 || i >= 980) expect(await readTable(attachment.device, sgt)).toEqual(new Uint8Array(512).fill(expected));
  }
  await Promise.all(maps.map(({ attachment, sgt }) => attachment.unmap(sgt, 'to-device')));
  for (const attachment of attachments) attachment.dmabuf.detach(attachment);
  for (const buf of buffers) buf.put();
});

test('100 modules passing 10 buffers around each reach the right bytes, and closing all releases them', async () => {
  const modules = Array.from({ length: 100 }, () => new FdTable());
  const source = modules[0];
  if (!source) throw new Error('no module');
  const fds: number[] = [];
  for (let i = 0; i < 10; i++) {
    const buf = f.heap.allocate(256);
    await tag(buf, 100 + i);
    fds.push(source.install(buf));
    buf.put();
  }
  // Each module hands every buffer to the next, as a pipeline of independent modules would.
  let held = fds.map((fd) => ({ table: source, fd }));
  for (const next of modules.slice(1)) {
    held = held.map(({ table, fd }) => ({ table: next, fd: table.send(fd, next) }));
  }
  expect(bufinfoEntries().map((e) => e.refCount)).toEqual(new Array(10).fill(100));
  for (const [i, { table, fd }] of held.entries()) {
    const buf = table.get(fd);
    await buf.beginCpuAccess(0, 256, 'from-device');
    expect(buf.kmap(0)).toEqual(new Uint8Array(256).fill(100 + i));
    buf.endCpuAccess(0, 256, 'from-device');
    buf.put();
  }
  for (const module of modules) module.closeAll();
  expect(f.heap.stats().liveBuffers).toBe(0);
});
