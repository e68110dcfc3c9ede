// How long a remote buffer's CPU pages live in the importing realm (remote/proxy-pages.ts):
// while any CPU-access range is active, every view of them reads the pages; once the last
// range ends, or the buffer is released, the views read as empty, as the stock exporter's do
// once no range covers them. A reading begin that failed leaves nothing behind that keeps
// them.
import { expect, test } from 'vitest';
import { DmaBufError } from '../../src/error.js';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf, memoryStorage, type MemoryExporterOptions } from '../src/memory-exporter.js';
import { handOver, quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

const SIZE = 2 * PAGE_SIZE;

/** Realm `b` holds a remote buffer of realm `a`'s, whose bytes are all 1: `proxy`, its only reference there. */
async function remote(options: MemoryExporterOptions = {}) {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  const buf = memoryDmaBuf(SIZE, options);
  memoryStorage(buf).bytes.fill(1);
  const proxy = await handOver(buf, a, ab, b, ba);
  return { proxy };
}

test("ending one of two ranges keeps the pages: the other's views still read its bytes", async () => {
  const { proxy } = await remote();
  await proxy.beginCpuAccess(0, 16, 'from-device');
  await proxy.beginCpuAccess(PAGE_SIZE, 16, 'to-device');
  const view = proxy.kmap(1);
  view.fill(7, 0, 16);
  proxy.endCpuAccess(0, 16, 'from-device');
  expect(view.length, 'the view still reads').toBe(PAGE_SIZE);
  expect([...view.subarray(0, 16)]).toEqual(new Array<number>(16).fill(7));
  proxy.kunmap(1, view);
  proxy.endCpuAccess(PAGE_SIZE, 16, 'to-device');
  expect(view.length, 'empty once the last range ended').toBe(0);
  await quiesce();
  proxy.put();
});

test('after a reading begin failed, the views of a range read as empty once it ends', async () => {
  const { proxy } = await remote({ fail: { beginCpuAccess: new DmaBufError('ENOMEM', 'beginCpuAccess', 'no staging left') } });
  await expect(proxy.beginCpuAccess(0, 16, 'from-device')).rejects.toThrow('ENOMEM: beginCpuAccess: no staging left');
  await proxy.beginCpuAccess(0, 16, 'to-device');
  const view = proxy.kmap(0);
  expect(view.length).toBe(PAGE_SIZE);
  proxy.kunmap(0, view);
  proxy.endCpuAccess(0, 16, 'to-device');
  expect(view.length, 'empty once the range ended').toBe(0);
  await quiesce();
  proxy.put();
});

test('the views of a remote buffer read as empty once it is released, though a range was still active', async () => {
  const { proxy } = await remote();
  await proxy.beginCpuAccess(0, 16, 'from-device');
  const view = proxy.kmap(0);
  expect([...view.subarray(0, 16)]).toEqual(new Array<number>(16).fill(1));
  proxy.put();
  expect(view.length, 'empty once released').toBe(0);
  await quiesce();
});
