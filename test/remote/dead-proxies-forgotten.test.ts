// Once the exporter's realm is gone, the proxies of its buffers are no longer found by their
// keys (remote/receipts.ts): the same buffer received later by another path (a third realm's
// proxy of it) is a proxy of its own, not the dead one. Both fail with ENODEV.
import { expect, test } from 'vitest';
import { memoryDmaBuf } from '../src/memory-exporter.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

test("after the exporter's realm dies, the same buffer received by another path is a new proxy, not the dead one", async () => {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const c = realms.realm('c');
  const ab = realms.link(a, b);
  const ac = realms.link(a, c);
  const cb = realms.link(c, b);
  const buf = memoryDmaBuf(16);
  const fd = a.table.install(buf);
  buf.put();
  await ab.ab.send(a.table, fd);
  const inB = await ab.ba.receive(b.table);
  await ac.ab.send(a.table, fd);
  const inC = await ac.ba.receive(c.table);
  realms.kill(a);
  await quiesce();
  const dead = b.table.get(inB);
  const received = cb.ba.receive(b.table);
  await cb.ab.send(c.table, inC);
  const again = b.table.get(await received);
  expect(again).not.toBe(dead);
  await expect(again.beginCpuAccess(0, 16, 'from-device')).rejects.toThrow(/^ENODEV: /);
  await expect(dead.beginCpuAccess(0, 16, 'from-device')).rejects.toThrow(/^ENODEV: /);
  again.put();
  dead.put();
});
