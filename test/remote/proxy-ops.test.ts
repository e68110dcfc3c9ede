// The ops of a remote buffer in the importing realm (remote/proxy.ts): its reads and writes of
// the exporter's bytes take their places in its reservation as a read and a write; a read
// waiting for a write of the exporter's realm when that realm dies fails with ENODEV and
// leaves nothing pending there; detaching tells the device access; an unmap after the death fails with
// ENODEV naming unmap.
import { expect, test } from 'vitest';
import type { DmaBufAttachment } from '../../src/attachment.js';
import { DmaFence } from '../../src/dma-fence.js';
import type { RemoteDeviceAccess } from '../../remote/device-access.js';
import { memoryDmaBuf, standInDevice } from '../src/memory-exporter.js';
import { memoryDeviceAccess } from './memory-device-access.js';
import { handOver, quiesce, realmsFixture, track } from './realms.js';

const realms = realmsFixture();

/**
 * Realm `b` holds `proxy`, a remote buffer of 16 bytes of realm `a`'s (`exported`, a's table's
 * reference), its only reference there; `detached` lists what b's device access was told to detach.
 */
async function remote() {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const memory = memoryDeviceAccess();
  const detached: DmaBufAttachment[] = [];
  const access: RemoteDeviceAccess = {
    forBuffer: (bytes) => {
      const device = memory.forBuffer(bytes);
      return { ...device, detach: (attachment) => { detached.push(attachment); device.detach(attachment); } };
    },
  };
  const { ab, ba } = realms.link(a, b, { deviceAccess: access });
  const buf = memoryDmaBuf(16);
  const proxy = await handOver(buf, a, ab, b, ba);
  return { a, proxy, detached, exported: buf };
}

test("a remote buffer's read and write of the exporter's bytes take their places in its reservation as a read and a write", async () => {
  const { proxy } = await remote();
  const reading = proxy.beginCpuAccess(0, 16, 'from-device');
  expect(proxy.resv.getFences('write'), 'no write').toHaveLength(0);
  expect(proxy.resv.getFences('read'), 'one read').toHaveLength(1);
  await reading;
  proxy.endCpuAccess(0, 16, 'from-device');
  await proxy.beginCpuAccess(0, 16, 'to-device');
  proxy.endCpuAccess(0, 16, 'to-device');
  expect(proxy.resv.getFences('write').filter((fence) => !fence.signaled), 'the write-back, a write').toHaveLength(1);
  await quiesce();
  expect(proxy.resv.testSignaled('read')).toBe(true);
  proxy.put();
});

test("a read waiting for the exporter's pending write when the exporter's realm dies fails with ENODEV, and leaves nothing pending in the reservation", async () => {
  const { a, proxy, exported } = await remote();
  // The write of an application of the exporter's realm, not yet done: the remote buffer carries its mirror.
  exported.resv.addFence(new DmaFence(), 'write');
  await quiesce();
  const reading = track(proxy.beginCpuAccess(0, 16, 'from-device'));
  await quiesce();
  expect(reading.state, 'waits for the write').toBe('pending');
  realms.kill(a);
  await quiesce();
  expect(reading).toMatchObject({ state: 'rejected', error: { code: 'ENODEV' } });
  const waited = track(proxy.resv.wait('read'));
  await quiesce();
  expect(waited).toMatchObject({ state: 'resolved', value: true });
  proxy.put();
});

test("detaching an attachment of a remote buffer tells its device access", async () => {
  const { proxy, detached } = await remote();
  const attachment = proxy.attach(standInDevice('b-device'));
  proxy.detach(attachment);
  expect(detached).toEqual([attachment]);
  proxy.put();
});

test("after the exporter's realm died, an unmap fails with ENODEV naming unmap", async () => {
  const { a, proxy } = await remote();
  const attachment = proxy.attach(standInDevice('b-device'));
  const sgt = await attachment.map('bidirectional');
  realms.kill(a);
  await expect(attachment.unmap(sgt, 'bidirectional')).rejects.toThrow(/^ENODEV: unmap: the realm that exports this buffer is gone/);
  proxy.detach(attachment);
  proxy.put();
});
