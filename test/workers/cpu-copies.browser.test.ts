// The bytes each realm copies with the CPU (FdSocket.cpuBytesCopied) when a worker maps, unmaps
// and reads or writes with the CPU a page's buffer of N bytes, on real WebGPU over the
// 'shared-memory' transport: the page exports (a heap's buffer, served from its vmap), the worker
// imports (its mirror filled straight from the ring's slots). The hand-written baseline of
// map-cross-realm copies N once per direction (into a SharedArrayBuffer), then writeBuffer.
import { expect, test } from 'vitest';
import { PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture } from '../gpu/gpu-helpers.js';
import { SLOT_BYTES } from '../../remote/shared-ring.js';
import { agentFixture, startAgent, type Agent } from './agent.js';

const f = heapFixture();
const agents = agentFixture();
const { table } = agents;

// Larger than a ring slot: the bytes stream through several.
const N = SLOT_BYTES + 2 * PAGE_SIZE;

/** The first index where `x` and `y` differ, or -1 (vitest's deep equality is too slow for MiBs). */
function firstDifference(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** A page buffer of `size` bytes filled with a pattern, received by `agent` (default: a new worker): the page's fd and the worker's. */
async function shared(size: number, given?: Agent): Promise<{ agent: Agent; fd: number; remote: number; pattern: Uint8Array }> {
  const buf = f.heap.allocate(size, { name: 'copied' });
  const pattern = Uint8Array.from({ length: size }, (_, i) => (i * 13 + 1) & 0xff);
  await buf.write(pattern);
  const fd = table.install(buf);
  buf.put();
  const agent = given ?? agents.use(await startAgent());
  const theirs = agent.call<number>('receive');
  await agent.socket.send(table, fd);
  const remote = await theirs;
  expect(agent.socket.transport).toBe('shared-memory');
  return { agent, fd, remote, pattern };
}

/** What `run` made the page (the exporter) and the worker (the importer) copy. */
async function copiesOf(agent: Agent, run: () => Promise<unknown>): Promise<{ page: number; worker: number }> {
  const page = agent.socket.cpuBytesCopied;
  const worker = await agent.call<number>('copies');
  await run();
  return { page: agent.socket.cpuBytesCopied - page, worker: (await agent.call<number>('copies')) - worker };
}

test('a worker\'s map that moves N bytes to its device copies N in the page (into the ring) and none in the worker; an unmap that moves them back copies N in the worker and 2N in the page; a buffer that ends off a word copies its last bytes to pad them', async () => {
  const { agent, fd, remote, pattern } = await shared(N);
  // map-read maps twice, each moving the bytes.
  const read = await copiesOf(agent, async () => {
    const { bytes } = await agent.call<{ bytes: Uint8Array }>('map-read', { fd: remote });
    expect(firstDifference(bytes, pattern)).toBe(-1);
  });
  expect(read).toEqual({ page: 2 * N, worker: 0 });
  const written = new Uint8Array(N).fill(0x3c);
  // Into the ring (worker); put together, then into the buffer's pages (page).
  const unmapped = await copiesOf(agent, () => agent.call('map-write', { fd: remote, dir: 'from-device', bytes: written }));
  expect(unmapped).toEqual({ page: 2 * N, worker: N });
  const page = table.get(fd);
  try {
    expect(firstDifference(await page.read(Uint8Array), written)).toBe(-1);
  } finally {
    page.put();
  }
  // A mirror whose buffer ends off a word: only its last bytes are copied, to pad them.
  const odd = await shared(N + 3, agent);
  const padded = await copiesOf(agent, async () => {
    const { bytes } = await agent.call<{ bytes: Uint8Array }>('map-read', { fd: odd.remote });
    expect(firstDifference(bytes, odd.pattern)).toBe(-1);
  });
  expect(padded).toEqual({ page: 2 * (N + 3), worker: 2 * 3 });
});

test('a worker\'s CPU read of N bytes copies N in each realm; a CPU write copies N in the worker and 2N in the page', async () => {
  const { agent, fd, remote, pattern } = await shared(N);
  // Into the ring (page); into the proxy's pages (worker).
  const read = await copiesOf(agent, async () => {
    expect(firstDifference(await agent.call<Uint8Array>('cpu-read', { fd: remote, start: 0, len: N }), pattern)).toBe(-1);
  });
  expect(read).toEqual({ page: N, worker: N });
  const bytes = new Uint8Array(N).fill(0x77);
  const written = await copiesOf(agent, async () => {
    await agent.call('cpu-write', { fd: remote, start: 0, bytes });
    // Answered once the write is: a page's read after it, copied from the buffer's pages
    // into the ring in the page, into the proxy's pages in the worker.
    await agent.call('cpu-read', { fd: remote, start: 0, len: 1 });
  });
  expect(written).toEqual({ page: 2 * N + PAGE_SIZE, worker: N + PAGE_SIZE });
  const page = table.get(fd);
  try {
    expect(firstDifference(await page.read(Uint8Array), bytes)).toBe(-1);
  } finally {
    page.put();
  }
});
