// buf.read(Type, start?, length?) and buf.write(data, start?) on a remote buffer (the proxy's
// read and write ops, remote/proxy.ts): each reaches the exporter's bytes in the exporter's
// realm, exactly its range, and takes its place in call order when called, so a read called
// right after a write, before the write has settled, sees the written bytes.
import { expect, test } from 'vitest';
import { PAGE_SIZE } from '../../src/page.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { handOver, realmsFixture } from './realms.js';

const realms = realmsFixture();

const SIZE = 2 * PAGE_SIZE;
const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 11 + seed) % 251);

/** Realm `b` holds `proxy`, a remote buffer of realm `a`'s over `exporter` (its bytes, `pattern(SIZE, 1)`). */
async function remote() {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const { ab, ba } = realms.link(a, b);
  const buf = memoryDmaBuf(SIZE);
  const exporter = memoryStorage(buf).bytes;
  exporter.set(pattern(SIZE, 1));
  const proxy = await handOver(buf, a, ab, b, ba);
  return { proxy, exporter };
}

test("a typed read of a remote buffer gives the exporter's bytes of exactly its range, across a page boundary", async () => {
  const { proxy } = await remote();
  const start = PAGE_SIZE - 6;
  expect(await proxy.read(Uint8Array, start, 12)).toEqual(pattern(SIZE, 1).subarray(start, start + 12));
  const words = await proxy.read(Uint16Array, PAGE_SIZE, 3);
  expect(new Uint8Array(words.buffer)).toEqual(pattern(SIZE, 1).subarray(PAGE_SIZE, PAGE_SIZE + 6));
  proxy.put();
});

test('a typed read of a remote buffer called right after a write, before the write settled, sees the written bytes, and the exporter holds them', async () => {
  const { proxy, exporter } = await remote();
  const data = pattern(20, 9);
  const written = proxy.write(data, PAGE_SIZE - 10);
  const read = proxy.read(Uint8Array, PAGE_SIZE - 12, 24);
  await written;
  const expected = pattern(SIZE, 1);
  expected.set(data, PAGE_SIZE - 10);
  expect(await read).toEqual(expected.subarray(PAGE_SIZE - 12, PAGE_SIZE + 12));
  expect(exporter).toEqual(expected);
  proxy.put();
});
