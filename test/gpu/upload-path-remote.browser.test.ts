// The upload path of a remote buffer's mirror on real WebGPU: the page maps a worker's buffer
// on its own device, and the bytes that come from the worker's realm reach the mirror by the
// path the page device's (injected) measurement chose for their size, exact either way.
import { expect, test } from 'vitest';
import { PAGE_SIZE } from 'webgpu-dmabuf';
import { setUploadMeasurement, uploadPaths, type UploadPath } from '../../gpu/upload-path.js';
import { agentFixture, startAgent } from '../workers/agent.js';
import { heapFixture, readTable } from './gpu-helpers.js';

const f = heapFixture();
const agents = agentFixture();

test.each(['staging', 'write-buffer'] as const)('a map of a worker\'s buffer fills the page\'s mirror by %s when every class says so, bytes exact', async (path: UploadPath) => {
  const [slow, fast] = [[1, 1, 1, 1], [2, 2, 2, 2]];
  setUploadMeasurement(f.importer, path === 'staging' ? { writeBuffer: slow, staging: fast } : { writeBuffer: fast, staging: slow });
  const agent = agents.use(await startAgent());
  const size = 3 * PAGE_SIZE + 5;
  const workerFd = await agent.call<number>('export', { size });
  const pattern = Uint8Array.from({ length: size }, (_, i) => (i * 29 + 7) & 0xff);
  await agent.call('cpu-write', { fd: workerFd, start: 0, bytes: pattern });
  const received = agent.socket.receive(agents.table);
  await agent.call('send', { fd: workerFd });
  const fd = await received;
  const remote = agents.table.get(fd);
  const attachment = remote.attach(f.importer);
  const before = uploadPaths(f.importer);
  const sgt = await attachment.map('to-device');
  const after = uploadPaths(f.importer);
  expect(await readTable(f.importer, sgt)).toEqual(pattern);
  const staged = after.stagingBuffersCreated - before.stagingBuffersCreated;
  const written = after.writeBufferCalls - before.writeBufferCalls;
  if (path === 'staging') {
    expect({ staged: staged > 0, written }).toEqual({ staged: true, written: 0 });
  } else {
    expect({ staged, written: written > 0 }).toEqual({ staged: 0, written: true });
  }
  await attachment.unmap(sgt, 'to-device');
  remote.detach(attachment);
  remote.put();
  agents.table.close(fd);
  await agent.call('close', { fd: workerFd });
});
