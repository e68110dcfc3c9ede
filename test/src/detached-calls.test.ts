// A method called detached from its object (`const { advance } = timeline; advance()`, a
// callback passed without `bind`) runs with `this` undefined; `call(null)` and a number
// are the same mistake. Every public method and getter of the contract's classes refuses such
// a receiver with EINVAL naming the call, as it refuses a look-alike (test/src/look-alikes.test.ts),
// rather than failing with a TypeError from deep inside.
import { afterAll, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { DmaFence } from '../../src/dma-fence.js';
import { mergeFences } from '../../src/dma-fence-array.js';
import { DmaFenceTimeline } from '../../src/dma-fence-timeline.js';
import { DmaResv } from '../../src/dma-resv.js';
import { DmaBufError } from '../../src/error.js';
import { FdTable } from '../../src/fd-table.js';
import { memoryDmaBuf, standInDevice } from './memory-exporter.js';

// Real objects whose prototypes hold the methods; released at the end.
const buf = memoryDmaBuf(64, { name: 'detached' });
const attachment = buf.attach(standInDevice('importer'));
const sgt = await attachment.map('to-device');
const turn = new DmaResv().enter('read');

afterAll(async () => {
  turn.done();
  await attachment.unmap(sgt, 'to-device');
  buf.detach(attachment);
  buf.put();
  expect(bufinfoEntries()).toEqual([]);
});

const PROTOTYPES: readonly [string, object][] = [
  ['FdTable', FdTable.prototype],
  ['DmaBuf', Object.getPrototypeOf(buf) as object],
  ['an attachment', Object.getPrototypeOf(attachment) as object],
  ['a mapped table', Object.getPrototypeOf(sgt) as object],
  ['DmaFence', DmaFence.prototype],
  ['a merged fence', Object.getPrototypeOf(mergeFences(new DmaFence(), new DmaFence())) as object],
  ['a reservation turn', Object.getPrototypeOf(turn) as object],
  ['DmaFenceTimeline', DmaFenceTimeline.prototype],
  ['DmaResv', DmaResv.prototype],
];

/** Members that are not the API: a merged fence's `follow` is called by `mergeFences` alone. */
const INTERNAL = new Set(['constructor', 'follow']);

/** Every public method and getter a prototype defines itself: [class, name, call on a receiver]. */
const MEMBERS = PROTOTYPES.flatMap(([owner, prototype]) =>
  Object.entries(Object.getOwnPropertyDescriptors(prototype))
    .filter(([name]) => !INTERNAL.has(name))
    .map(([name, descriptor]) => {
      // The getter, or the method: run on whatever receiver the case gives, as a detached call would be.
      // eslint-disable-next-line @typescript-eslint/unbound-method -- unbound on purpose: that is the case under test
      const member = (descriptor.get ?? descriptor.value) as (...args: unknown[]) => unknown;
      return [owner, name, (receiver: unknown) => Reflect.apply(member, receiver, [])] as const;
    }),
);

const RECEIVERS: readonly [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 7],
];

const CASES = MEMBERS.flatMap(([owner, name, call]) => RECEIVERS.map(([what, receiver]) => [owner, name, what, () => call(receiver)] as const));

test.each(CASES)('%s.%s called on %s throws EINVAL naming the call', async (_owner, name, _what, run) => {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DmaBufError);
  expect((thrown as DmaBufError).message).toMatch(new RegExp(`^EINVAL: ${name}: `));
});
