// Fences across one connection (remote/fence-link.ts), the link of each realm wired straight to
// the other's: a fence added to a watched reservation is named to the peer once, whose mirror
// joins its reservation in the same class and signals as the original does, with its error; a
// mirror sent back is named as the original, so fences never loop; a proxy does not send its
// own operations' fences, and no one sends back what the link itself added; the fences a buffer
// carries when sent are its pending ones, each once, in its strongest class; and once the peer
// is gone, its mirrors signal ENODEV and nothing more is named or added.
import { expect, test } from 'vitest';
import { DmaFence } from '../../src/dma-fence.js';
import { DmaResv } from '../../src/dma-resv.js';
import type { DmaBufErrorCode } from '../../src/error.js';
import { FenceLink, type WireFence } from '../../remote/fence-link.js';

interface Posted {
  readonly fences: { grant: number; mine: boolean; fence: WireFence }[];
  readonly signals: { id: number; error: DmaBufErrorCode | null }[];
}

/** Two realms' links; what each posts is recorded and, with `deliver`, handed to the other as a connection would. */
function linked() {
  const posted = { a: { fences: [], signals: [] } as Posted, b: { fences: [], signals: [] } as Posted };
  // Filled in below: each link posts into the other.
  const links = {} as { a: FenceLink; b: FenceLink };
  // The reservation each side holds for the one buffer shared as grant 1.
  const resv = { a: new DmaResv(), b: new DmaResv() };
  const make = (me: 'a' | 'b', peer: 'a' | 'b') =>
    new FenceLink({
      fence: (grant, mine, fence) => {
        posted[me].fences.push({ grant, mine, fence });
        links[peer].add(resv[peer], fence);
      },
      signal: (id, error) => {
        posted[me].signals.push({ id, error });
        links[peer].signalled(id, error);
      },
    });
  links.a = make('a', 'b');
  links.b = make('b', 'a');
  return { links, posted, resv };
}

test('a fence added to a watched reservation is named once; the mirror joins the peer in the same class and signals with its error', () => {
  const { links, posted, resv } = linked();
  links.a.watch(resv.a, 1, false);
  const fence = new DmaFence();
  resv.a.addFence(fence, 'write');
  expect(posted.a.fences).toEqual([{ grant: 1, mine: true, fence: { id: 1, usage: 'write', back: false } }]);
  const [mirror] = resv.b.getFences('write');
  expect(mirror).toBeInstanceOf(DmaFence);
  expect(mirror).not.toBe(fence);
  expect(resv.b.pendingFences()).toMatchObject([{ usage: 'write' }]);
  expect([links.a.pending, links.b.pending]).toEqual([1, 1]);
  fence.setError('EIO');
  fence.signal();
  expect(posted.a.signals).toEqual([{ id: 1, error: 'EIO' }]);
  expect(mirror?.signaled).toBe(true);
  expect(mirror?.error?.code).toBe('EIO');
  expect([links.a.pending, links.b.pending], 'both forget it').toEqual([0, 0]);
});

test('a fence signalled without an error signals its mirror without one; a fence named twice has one mirror', () => {
  const { links, posted, resv } = linked();
  const fence = new DmaFence();
  resv.a.addFence(fence, 'read');
  expect(links.a.pendingIn(resv.a)).toEqual([{ id: 1, usage: 'read', back: false }]);
  expect(links.a.pendingIn(resv.a), 'the same number again').toEqual([{ id: 1, usage: 'read', back: false }]);
  links.b.add(resv.b, { id: 1, usage: 'read', back: false });
  links.b.add(resv.b, { id: 1, usage: 'read', back: false });
  expect(resv.b.getFences('read')).toHaveLength(1);
  fence.signal();
  expect(posted.a.signals).toEqual([{ id: 1, error: null }]);
  expect(resv.b.testSignaled('read')).toBe(true);
  expect(resv.b.getFences('read')[0]?.error).toBeUndefined();
});

test('a mirror sent back to the realm it came from is named as the original there: the fence does not loop', () => {
  const { links, posted, resv } = linked();
  links.a.watch(resv.a, 1, false);
  links.b.watch(resv.b, 1, true);
  const fence = new DmaFence();
  resv.a.addFence(fence, 'write');
  const [mirror] = resv.b.getFences('write');
  // What the mirror's realm sends on of it (a buffer sent back, its pending fences) names the original.
  expect(links.b.pendingIn(resv.b)).toEqual([{ id: 1, usage: 'write', back: true }]);
  // An application in b adds the mirror to another reservation shared with a: it goes back as a's own.
  const other = new DmaResv();
  links.b.watch(other, 2, true);
  other.addFence(mirror as DmaFence, 'read');
  expect(posted.b.fences).toEqual([{ grant: 2, mine: false, fence: { id: 1, usage: 'read', back: true } }]);
  // Delivered to a, it joins a's reservation as the original itself, not as a mirror of a mirror.
  expect(new Set(resv.a.getFences('read'))).toEqual(new Set([fence]));
  expect(resv.a.pendingFences().map((f) => f.usage)).toEqual(['write', 'read']);
  expect(posted.a.fences, 'adding it back names nothing new').toHaveLength(1);
  fence.signal();
});

test("a proxy does not send its own operations' fences, only those applications add; an exporter sends both", () => {
  const { links, posted, resv } = linked();
  links.b.watch(resv.b, 1, true);
  const turn = resv.b.enter('read');
  expect(posted.b.fences, "the proxy's operation runs in the exporter's realm, fenced there").toEqual([]);
  const app = new DmaFence();
  resv.b.addFence(app, 'write');
  expect(posted.b.fences).toEqual([{ grant: 1, mine: false, fence: { id: 1, usage: 'write', back: false } }]);
  links.a.watch(resv.a, 1, false);
  const exporterTurn = resv.a.enter('write');
  expect(posted.a.fences.map((f) => f.fence.usage), "the exporter's operation is sent").toEqual(['write']);
  turn.done();
  exporterTurn.done();
  app.signal();
});

test('what the link adds itself is not sent back, nor what is added quietly; a watch that stops sends nothing more', () => {
  const { links, posted, resv } = linked();
  const stop = links.b.watch(resv.b, 1, true);
  links.b.add(resv.b, { id: 5, usage: 'write', back: false });
  expect(links.b.quietly(() => { resv.b.addFence(new DmaFence(), 'read'); return 'value'; })).toBe('value');
  expect(posted.b.fences).toEqual([]);
  stop();
  resv.b.addFence(new DmaFence(), 'read');
  expect(posted.b.fences).toEqual([]);
  links.b.signalled(5, null);
});

test("the fences a buffer carries when sent are its pending ones, each once, in the strongest class it holds them in", () => {
  const { links, resv } = linked();
  const kernel = new DmaFence();
  const read = new DmaFence();
  const done = new DmaFence();
  resv.a.addFence(kernel, 'kernel');
  resv.a.addFence(read, 'read');
  resv.a.addFence(done, 'bookkeep');
  done.signal();
  expect(links.a.pendingIn(resv.a)).toEqual([
    { id: 1, usage: 'kernel', back: false },
    { id: 2, usage: 'read', back: false },
  ]);
  kernel.signal();
  read.signal();
  expect(links.a.pendingIn(resv.a)).toEqual([]);
});

test('a signal for a fence the link does not mirror is ignored; one for a mirror signals it once', () => {
  const { links, resv } = linked();
  links.b.signalled(9, 'EIO');
  links.b.add(resv.b, { id: 3, usage: 'write', back: false });
  const [mirror] = resv.b.getFences('write');
  links.b.signalled(3, null);
  links.b.signalled(3, 'EIO');
  expect(mirror?.signaled).toBe(true);
  expect(mirror?.error).toBeUndefined();
  expect(links.b.pending).toBe(0);
});

test("once the peer is gone, its fences' mirrors signal with ENODEV and nothing more is named or added", () => {
  const { links, posted, resv } = linked();
  links.b.add(resv.b, { id: 1, usage: 'write', back: false });
  links.b.add(resv.b, { id: 2, usage: 'read', back: false });
  const mirrors = resv.b.getFences('read');
  const mine = new DmaFence();
  links.b.watch(resv.b, 1, true);
  resv.b.addFence(mine, 'write');
  expect(posted.b.fences).toHaveLength(1);
  links.b.die();
  expect(mirrors.map((m) => [m.signaled, m.error?.code])).toEqual([[true, 'ENODEV'], [true, 'ENODEV']]);
  expect(links.b.pending).toBe(0);
  resv.b.addFence(new DmaFence(), 'write');
  expect(links.b.pendingIn(resv.b), 'nothing named').toEqual([]);
  expect(posted.b.fences, 'nothing sent').toHaveLength(1);
  const fresh = new DmaResv();
  links.b.add(fresh, { id: 7, usage: 'write', back: false });
  expect(fresh.getFences('bookkeep'), 'nothing added').toEqual([]);
  mine.signal();
  expect(posted.b.signals, 'a fence of its own that signals after is not told').toEqual([]);
});

test('quietly keeps what is added within it from this link only, nested or not, and not after it; another link watching the buffer sends it', () => {
  const { links, posted, resv } = linked();
  const other: WireFence[] = [];
  const third = new FenceLink({ fence: (_grant, _mine, fence) => { other.push(fence); }, signal: () => undefined });
  links.a.watch(resv.a, 1, false);
  third.watch(resv.a, 7, false);
  const fences = [new DmaFence(), new DmaFence(), new DmaFence(), new DmaFence()];
  const returned = links.a.quietly(() => {
    resv.a.addFence(fences[0] ?? new DmaFence(), 'read');
    links.a.quietly(() => { resv.a.addFence(fences[1] ?? new DmaFence(), 'read'); });
    resv.a.addFence(fences[2] ?? new DmaFence(), 'read');
    return 'value';
  });
  resv.a.addFence(fences[3] ?? new DmaFence(), 'read');
  expect(returned).toBe('value');
  expect(posted.a.fences.map((f) => f.fence.id), 'only the one added after').toEqual([1]);
  expect(other.map((f) => f.id), 'the other link sends all four').toEqual([1, 2, 3, 4]);
  for (const fence of fences) fence.signal();
});

test('quietly sends again once what it ran threw', () => {
  const { links, posted, resv } = linked();
  links.a.watch(resv.a, 1, false);
  expect(() => links.a.quietly(() => { throw new Error('refused'); })).toThrow('refused');
  const fence = new DmaFence();
  resv.a.addFence(fence, 'read');
  expect(posted.a.fences).toHaveLength(1);
  fence.signal();
});
