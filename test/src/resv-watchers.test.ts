// Who hears of the fences added to a reservation (watchResv in src/dma-resv.ts): a connection
// to another realm watches the reservations of the buffers it shares, and several connections
// may share one buffer. Each watcher hears each fence once, until it stops; the watchers are
// the reservation's own.
import { expect, test } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { DmaResv, watchResv, type DmaResvUsage } from '../../src/dma-resv.js';

interface Heard {
  readonly watcher: string;
  readonly seqno: number;
  readonly usage: DmaResvUsage;
  readonly operation: boolean;
}

function listen(resv: DmaResv, watcher: string, heard: Heard[]): () => void {
  return watchResv(resv, (fence, usage, operation) => {
    heard.push({ watcher, seqno: fence.seqno, usage, operation });
  });
}

test('every watcher of a reservation hears each fence added, however many watch it', () => {
  const resv = new DmaResv();
  const heard: Heard[] = [];
  const stops = [listen(resv, 'a', heard), listen(resv, 'b', heard)];
  resv.addFence(new DmaFence(), 'read');
  const turn = resv.enter('write');
  expect(heard).toEqual([
    { watcher: 'a', seqno: 1, usage: 'read', operation: false},
    { watcher: 'b', seqno: 1, usage: 'read', operation: false},
    { watcher: 'a', seqno: 1, usage: 'write', operation: true},
    { watcher: 'b', seqno: 1, usage: 'write', operation: true},
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

test("a reservation's watchers are its own: watching one tells nothing of another", () => {
  const watched = new DmaResv();
  const other = new DmaResv();
  const heard: Heard[] = [];
  const stop = listen(watched, 'a', heard);
  other.addFence(new DmaFence(), 'read');
  expect(heard).toEqual([]);
  watched.addFence(new DmaFence(), 'read');
  expect(heard.map((h) => h.watcher)).toEqual(['a']);
  stop();
});
