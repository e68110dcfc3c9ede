// Bytes that stream across realms in pieces never tear: a worker's map of a page's buffer
// larger than the shared ring sees the buffer as of one moment, whatever the page writes
// while the pieces are on their way.
import { expect, test } from 'vitest';
import type { DmaBuf } from 'webgpu-dmabuf';
import { heapFixture } from '../gpu/gpu-helpers.js';
import { SLOT_BYTES } from '../../remote/shared-ring.js';
import { agentFixture, startAgent } from './agent.js';

const f = heapFixture();
const agents = agentFixture();
const { table } = agents;

/** Writes per round at most: the page's writes must not hold the worker's read back for ever either. */
const MAX_WRITES = 200;

/** Fills the whole of `buf` with `value` through CPU access in the page. */
async function fill(buf: DmaBuf, value: number): Promise<void> {
  await buf.beginCpuAccess(0, buf.size, 'to-device');
  const view = buf.vmap();
  view.fill(value);
  buf.vunmap(view);
  buf.endCpuAccess(0, buf.size, 'to-device');
}

/** The distinct byte values of `bytes`. */
function values(bytes: Uint8Array): number[] {
  const seen = new Set<number>();
  for (const byte of bytes) seen.add(byte);
  return [...seen].sort((a, b) => a - b);
}

test('a worker\'s map of a page buffer larger than the ring sees one moment of it while the page keeps writing it', async () => {
  const size = 6 * SLOT_BYTES + 12;
  const buf = f.heap.allocate(size, { name: 'streamed' });
  await fill(buf, 0);
  const fd = table.install(buf);
  buf.put();
  const agent = agents.use(await startAgent());
  const theirs = agent.call<number>('receive');
  await agent.socket.send(table, fd);
  const remote = await theirs;
  const page = table.get(fd);
  try {
    for (let round = 1; round <= 4; round++) {
      const read = { answered: false };
      const mapped = agent.call<{ bytes: Uint8Array }>('map-read', { fd: remote }).finally(() => { read.answered = true; });
      // The page writes again and again until the worker has its bytes: before, during and after the read streams out.
      let writes = 0;
      while (!read.answered && writes < MAX_WRITES) await fill(page, round * 10 + (writes++ % 10));
      const { bytes } = await mapped;
      expect(writes).toBeGreaterThan(1);
      expect(bytes.length).toBe(size);
      expect(values(bytes)).toHaveLength(1);
    }
  } finally {
    page.put();
  }
});
