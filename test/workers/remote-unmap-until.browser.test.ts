// `unmap(sgt, dir, { until })` on a buffer another realm exports (a worker's, mapped on the
// page's device through its proxy): the mirror stays as the importer's held work needs it until
// the fence signals, and a write-back moves what that work wrote, in call order.
import { expect, test } from 'vitest';
import { DmaFence, PAGE_SIZE, type DmaBuf, type SgTable } from 'webgpu-dmabuf';
import { expectNoGpuErrors } from '../gpu-errors.js';
import { heapFixture, readBytes, readTable, settledAfterRoundTrip } from '../gpu/gpu-helpers.js';
import { agentFixture, startAgent, type Agent } from './agent.js';

const f = heapFixture();
const agents = agentFixture();
const { table } = agents;

const SIZE = 2 * PAGE_SIZE;
const frame = (seed: number) => Uint8Array.from({ length: SIZE }, (_, i) => (i * 13 + seed) & 0xff);

/** A worker's buffer holding `frame(1)`, received by the page: the worker's fd and the page's proxy. */
async function workerBuffer(): Promise<{ agent: Agent; workerFd: number; fd: number; remote: DmaBuf }> {
  const agent = agents.use(await startAgent());
  const workerFd = await agent.call<number>('export', { size: SIZE });
  await agent.call('cpu-write', { fd: workerFd, start: 0, bytes: frame(1) });
  const received = agent.socket.receive(table);
  await agent.call('send', { fd: workerFd });
  const fd = await received;
  return { agent, workerFd, fd, remote: table.get(fd) };
}

/** Copies every segment of `sgt` into (`from`) or out of (`to`) a buffer of the library's own: encoded now, submitted by `submit`. */
function heldCopy(device: GPUDevice, sgt: SgTable, way: 'from' | 'to', bytes?: Uint8Array): { submit(): void; own: GPUBuffer } {
  const own = device.createBuffer({ size: SIZE, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  if (bytes) device.queue.writeBuffer(own, 0, bytes);
  const encoder = device.createCommandEncoder();
  for (const s of sgt.segments) {
    if (way === 'from') encoder.copyBufferToBuffer(s.buffer, s.offset, own, s.start, s.length);
    else encoder.copyBufferToBuffer(own, s.start, s.buffer, s.offset, s.length);
  }
  const commands = encoder.finish();
  return { own, submit: () => { device.queue.submit([commands]); } };
}

/** Puts the page's reference and closes both fds: the worker's buffer is then released. */
async function finish(agent: Agent, remote: DmaBuf, fd: number, workerFd: number): Promise<void> {
  remote.put();
  table.close(fd);
  await agent.call('close', { fd: workerFd });
  await expect.poll(() => agent.call<{ liveBuffers: number }>('heap-stats').then((s) => s.liveBuffers)).toBe(0);
}

test("a remote buffer's next 'to-device' map waits for the fence before it fills the mirror, so held work reads the frame it mapped; a release destroys nothing it holds", async () => {
  const { agent, workerFd, fd, remote } = await workerBuffer();
  const attachment = remote.attach(f.importer);
  const sgt = await attachment.map('to-device');
  const library = heldCopy(f.importer, sgt, 'from');
  const until = new DmaFence();
  await attachment.unmap(sgt, 'to-device', { until });
  await agent.call('cpu-write', { fd: workerFd, start: 0, bytes: frame(2) });
  const next = attachment.map('to-device');
  // A map of another attachment called after it is served after it: once it is done, the
  // held map has its bytes, and waits only for the fence.
  const probe = remote.attach(f.importer);
  const probeTable = await probe.map('to-device');
  expect(await readTable(f.importer, probeTable)).toEqual(frame(2));
  await probe.unmap(probeTable, 'to-device');
  remote.detach(probe);
  expect(await settledAfterRoundTrip(f.importer, next)).toBe(false);
  library.submit();
  until.signal();
  expect(await readBytes(f.importer, library.own, 0, SIZE)).toEqual(frame(1));
  const nextTable = await next;
  expect(await readTable(f.importer, nextTable)).toEqual(frame(2));

  // Held again, then released: the mirror outlives the buffer until the fence signals.
  const again = heldCopy(f.importer, nextTable, 'from');
  const last = new DmaFence();
  await attachment.unmap(nextTable, 'to-device', { until: last });
  remote.detach(attachment);
  await finish(agent, remote, fd, workerFd);
  again.submit();
  expect(await readBytes(f.importer, again.own, 0, SIZE)).toEqual(frame(2));
  expectNoGpuErrors();
  last.signal();
  library.own.destroy();
  again.own.destroy();
});

test("a remote buffer's 'from-device' unmap sends what the held write put in the mirror once the fence signals, and a read called after it sees those bytes", async () => {
  const { agent, workerFd, fd, remote } = await workerBuffer();
  const attachment = remote.attach(f.importer);
  const sgt = await attachment.map('from-device');
  const library = heldCopy(f.importer, sgt, 'to', frame(7));
  const until = new DmaFence();
  const unmapped = attachment.unmap(sgt, 'from-device', { until });
  const read = remote.beginCpuAccess(0, SIZE, 'from-device');
  expect(await settledAfterRoundTrip(f.importer, read)).toBe(false);
  library.submit();
  until.signal();
  await unmapped;
  await read;
  const whole = remote.vmap();
  expect(whole).toEqual(frame(7));
  remote.vunmap(whole);
  remote.endCpuAccess(0, SIZE, 'from-device');
  expect(await agent.call('cpu-read', { fd: workerFd, start: 0, len: SIZE })).toEqual(frame(7));
  remote.detach(attachment);
  library.own.destroy();
  await finish(agent, remote, fd, workerFd);
});

test("a remote buffer's 'from-device' unmap behind a fence that signals with an error rejects with its code and sends nothing; the worker keeps its bytes", async () => {
  const { agent, workerFd, fd, remote } = await workerBuffer();
  const attachment = remote.attach(f.importer);
  const sgt = await attachment.map('from-device');
  const until = new DmaFence();
  const unmapped = attachment.unmap(sgt, 'from-device', { until });
  until.setError('EIO');
  until.signal();
  await expect(unmapped).rejects.toMatchObject({ code: 'EIO' });
  expect(await agent.call('cpu-read', { fd: workerFd, start: 0, len: SIZE })).toEqual(frame(1));
  remote.detach(attachment);
  await finish(agent, remote, fd, workerFd);
});
