// A page's buffer passed on from one worker to another: the second worker's operations are
// relayed by the first (which serves them through its own remote buffer), with exact
// references in every realm; the relay's death is the end of the second worker's buffer
// (ENODEV there) and of the reference the page held for the relay.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries, FdTable, PAGE_SIZE, type BufInfoEntry } from 'webgpu-dmabuf';
import { heapFixture, patternedBuffer, shaderPattern } from '../gpu/gpu-helpers.js';
import { startAgent, stopAgent, terminateAgents } from './agent.js';

const f = heapFixture();
const table = new FdTable();

afterEach(async () => {
  terminateAgents();
  table.closeAll();
  await expect.poll(() => bufinfoEntries().length).toBe(0);
});

test('a page\'s buffer sent on from one worker to another: bytes exact through the relay, one reference per realm; the relay\'s death is ENODEV downstream', async () => {
  const size = 2 * PAGE_SIZE + 1;
  const buf = await patternedBuffer(f, size, 21);
  const fd = table.install(buf);
  buf.put();
  const relay = await startAgent();
  const last = await startAgent();
  const { port1, port2 } = new MessageChannel();
  await relay.call('link', { name: 'next', port: port1 }, [port1]);
  await last.call('link', { name: 'previous', port: port2 }, [port2]);

  const inRelay = relay.call<number>('receive');
  await relay.socket.send(table, fd);
  const relayFd = await inRelay;
  const inLast = last.call<number>('receive-on', { name: 'previous' });
  await relay.call('send-on', { name: 'next', fd: relayFd });
  const lastFd = await inLast;

  expect(await last.call('cpu-read', { fd: lastFd, start: PAGE_SIZE - 1, len: PAGE_SIZE + 2 })).toEqual(shaderPattern(size, 21).subarray(PAGE_SIZE - 1));
  const mapped = await last.call<{ bytes: Uint8Array }>('map-read', { fd: lastFd });
  expect(mapped.bytes).toEqual(shaderPattern(size, 21));
  // The page holds one reference for the relay; the relay's remote buffer one for its fd and one for the last worker.
  expect(buf.refCount).toBe(2);
  const relayListing = await relay.call<BufInfoEntry[]>('bufinfo');
  expect(relayListing.map((entry) => entry.refCount)).toEqual([2]);

  relay.worker.terminate();
  await expect.poll(() => buf.refCount).toBe(1);
  await expect(last.call('cpu-read', { fd: lastFd, start: 0, len: 1 })).rejects.toThrow(/^ENODEV: /);
  await stopAgent(last);
  table.close(fd);
  expect(buf.released).toBe(true);
});
