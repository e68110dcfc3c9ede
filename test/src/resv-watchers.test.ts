// Who hears of the fences added to a reservation (watchResv, addedFor in src/dma-resv.ts): a
// connection to another realm watches the reservations of the buffers it shares, and several
// connections may share one buffer. Each watcher hears each fence once, until it stops;
// `addedFor` names the origin of the fences added within it, and only within it.
import { expect, test } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { addedFor, DmaResv, watchResv, type DmaResvUsage } from '../../src/dma-resv.js';

interface Heard {
  readonly watcher: string;
  readonly seqno: number;
  readonly usage: DmaResvUsage;
  readonly operation: boolean;
  readonly origin: unknown;
}

function listen(resv: DmaResv, watcher: string, heard: Heard[]): () => void {
  return watchResv(resv, (fence, usage, operation, origin) => {
    heard.push({ watcher, seqno: fence.seqno, usage, operation, origin });
  });
}

test('every watcher of a reservation hears each fence added, however many watch it', () => {
  const resv = new DmaResv();
  const heard: Heard[] = [];
  const stops = [listen(resv, 'a', heard), listen(resv, 'b', heard)];
  resv.addFence(new DmaFence(), 'read');
  const turn = resv.enter('write');
  expect(heard).toEqual([
    { watcher: 'a', seqno: 1, usage: 'read', operation: false, origin: undefined },
    { watcher: 'b', seqno: 1, usage: 'read', operation: false, origin: undefined },
    { watcher: 'a', seqno: 1, usage: 'write', operation: true, origin: undefined },
    { watcher: 'b', seqno: 1, usage: 'write', operation: true, origin: undefined },
  ]);
  turn.done();
  for (const stop of stops) stop();
});

test('a watcher that stops hears nothing more; the others still do', () => {
  const resv = new DmaResv();
  const heard: Heard[] = [];
  const stopA = listen(resv, 'a', heard);
  const stopB = listen(resv, 'b', heard);
  stopA();
  resv.addFence(new DmaFence(), 'write');
  expect(heard.map((h) => h.watcher)).toEqual(['b']);
  stopB();
  resv.addFence(new DmaFence(), 'write');
  expect(heard.map((h) => h.watcher)).toEqual(['b']);
});

test('addedFor names the origin of the fences added within it, restores the outer one when nested, and none after', () => {
  const resv = new DmaResv();
  const heard: Heard[] = [];
  const stop = listen(resv, 'a', heard);
  const returned = addedFor('outer', () => {
    resv.addFence(new DmaFence(), 'read');
    addedFor('inner', () => { resv.addFence(new DmaFence(), 'read'); });
    resv.addFence(new DmaFence(), 'read');
    return 'value';
  });
  resv.addFence(new DmaFence(), 'read');
  expect(returned).toBe('value');
  expect(heard.map((h) => h.origin)).toEqual(['outer', 'inner', 'outer', undefined]);
  stop();
});

test('addedFor restores the origin when what it runs throws', () => {
  const resv = new DmaResv();
  const heard: Heard[] = [];
  const stop = listen(resv, 'a', heard);
  expect(() => addedFor('failing', () => { throw new Error('refused'); })).toThrow('refused');
  resv.addFence(new DmaFence(), 'read');
  expect(heard.map((h) => h.origin)).toEqual([undefined]);
  stop();
});
