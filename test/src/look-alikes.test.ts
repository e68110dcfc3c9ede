// Look-alikes on the contract (Node, in-memory exporter). Frameworks hand out a Proxy of the
// objects they store (Vue's reactive(), MobX), and some code makes Object.create of a class's
// prototype: both pass instanceof but have none of the real object's private state. Every
// public call given one, as an argument or as the object it is called on, must refuse it with
// EINVAL before it does anything: no reference taken, no table, reservation or listing
// changed, and every real call afterwards works as before.
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { DmaBufAttachment } from '../../src/attachment.js';
import { bufinfo, bufinfoEntries } from '../../src/bufinfo.js';
import type { DmaBuf } from '../../src/dma-buf.js';
import { DmaFence } from '../../src/dma-fence.js';
import { mergeFences } from '../../src/dma-fence-array.js';
import { DmaFenceTimeline } from '../../src/dma-fence-timeline.js';
import { DmaResv, type ResvTurn } from '../../src/dma-resv.js';
import { DmaBufError } from '../../src/error.js';
import { FdTable } from '../../src/fd-table.js';
import { PAGE_SIZE } from '../../src/page.js';
import type { SgTable } from '../../src/sg-table.js';
import { memoryDmaBuf, memoryStorage, standInDevice, type MemoryStorage } from './memory-exporter.js';

interface World {
  table: FdTable;
  other: FdTable;
  buf: DmaBuf<MemoryStorage>;
  fd: number;
  attachment: DmaBufAttachment<MemoryStorage>;
  sgt: SgTable;
  /** Pending, in the buffer's reservation as a write. */
  fence: DmaFence;
  /** Pending, in no reservation: the real argument a call would take. */
  spare: DmaFence;
  /** A merge of two pending fences of their own. */
  merged: DmaFence;
  mergedParts: DmaFence[];
  timeline: DmaFenceTimeline;
  /** A reservation of its own with one exporter operation entered. */
  resv: DmaResv;
  turn: ResvTurn;
}

const SIZE = 2 * PAGE_SIZE + 5;
let w: World;

beforeEach(async () => {
  const table = new FdTable();
  const other = new FdTable();
  const buf = memoryDmaBuf(SIZE, { name: 'victim' });
  const fd = table.install(buf, { cloexec: false });
  const attachment = buf.attach(standInDevice('importer'));
  const sgt = await attachment.map('to-device');
  const fence = new DmaFence();
  buf.resv.addFence(fence, 'write');
  const mergedParts = [new DmaFence(), new DmaFence()];
  const resv = new DmaResv();
  const turn = resv.enter('read');
  w = {
    table, other, buf, fd, attachment, sgt, fence, spare: new DmaFence(), merged: mergeFences(...mergedParts), mergedParts,
    timeline: new DmaFenceTimeline('look-alikes'), resv, turn,
  };
});

afterEach(async () => {
  await w.attachment.unmap(w.sgt, 'to-device');
  w.buf.detach(w.attachment);
  for (const fence of [w.fence, w.spare, ...w.mergedParts]) if (!fence.signaled) fence.signal();
  w.turn.done();
  w.table.closeAll();
  w.other.closeAll();
  w.buf.put();
  expect(w.buf.released).toBe(true);
  expect(bufinfoEntries()).toEqual([]);
});

/** Everything a refused call must leave as it was. */
function snapshot() {
  const fences = (list: readonly DmaFence[]) => list.map(({ context, seqno, signaled, error }) => ({ context, seqno, signaled, error }));
  return {
    refs: w.buf.refCount,
    fds: [w.table.openFds(), w.other.openFds()],
    cloexec: w.table.isCloexec(w.fd),
    fences: fences(w.buf.resv.getFences('bookkeep')),
    ownFences: fences(w.resv.getFences('bookkeep')),
    states: fences([w.fence, w.spare, w.merged, ...w.mergedParts]),
    cancelled: [w.buf.resv.cancelled, w.resv.cancelled],
    timeline: w.timeline.value,
    info: bufinfoEntries(),
    calls: [...memoryStorage(w.buf).calls],
    stats: w.attachment.stats(),
    entries: w.sgt.entries(0),
  };
}

/** Real calls on the real objects, after a refusal: each still does what it should. */
async function expectRealCallsWork(): Promise<void> {
  const got = w.table.get(w.fd);
  expect(got).toBe(w.buf);
  got.put();
  const sent = w.table.send(w.fd, w.other);
  expect(w.other.get(sent)).toBe(w.buf);
  w.buf.put();
  w.other.close(sent);
  const child = w.table.spawn();
  expect(child.openFds()).toEqual([w.fd]);
  child.closeAll();
  await w.buf.beginCpuAccess(0, SIZE, 'bidirectional');
  const pages = [w.buf.kmapAtomic(0), w.buf.kmapAtomic(1)];
  pages.forEach((view, page) => { w.buf.kunmapAtomic(page, view); });
  const view = w.buf.kmap(2);
  expect(view.length).toBe(5);
  w.buf.kunmap(2, view);
  w.buf.endCpuAccess(0, SIZE, 'bidirectional');
  const sgt = await w.attachment.map('from-device');
  await w.attachment.unmap(sgt, 'from-device');
  w.buf.importSyncFile(w.spare, 'read');
  expect(w.buf.resv.getFences('read')).toEqual([w.fence, w.spare]);
  expect(w.buf.exportSyncFile('rw').unwrap()).toEqual([w.fence, w.spare]);
  expect(mergeFences(w.fence, w.merged).unwrap()).toEqual([w.fence, ...w.mergedParts]);
  expect(bufinfo()).toContain('write fence: context');
  const reached = w.timeline.fence(1);
  w.timeline.advance();
  expect(reached.signaled).toBe(true);
}

type LookAlike = <T extends object>(real: T) => T;

const LOOK_ALIKES: readonly [kind: string, make: LookAlike][] = [
  ['a Proxy', (real) => new Proxy(real, {})],
  ['an Object.create', (real) => Object.create(Object.getPrototypeOf(real) as object) as typeof real],
];

interface Door {
  /** What is given a look-alike. */
  readonly door: string;
  /** The call the error must name. */
  readonly call: string;
  readonly run: (w: World, like: LookAlike) => unknown;
}

const noop = () => undefined;

const DOORS: readonly Door[] = [
  // Arguments.
  { door: 'FdTable.install, of the buffer', call: 'install', run: (w, like) => w.table.install(like(w.buf)) },
  { door: 'FdTable.send, to the target table', call: 'send', run: (w, like) => w.table.send(w.fd, like(w.other)) },
  { door: 'DmaBuf.detach, of the attachment', call: 'detach', run: (w, like) => { w.buf.detach(like(w.attachment)); } },
  { door: 'attachment.unmap, of the table', call: 'unmap', run: (w, like) => w.attachment.unmap(like(w.sgt), 'to-device') },
  { door: 'DmaBuf.importSyncFile, of the fence', call: 'importSyncFile', run: (w, like) => { w.buf.importSyncFile(like(w.spare), 'write'); } },
  { door: 'DmaResv.addFence, of the fence', call: 'addFence', run: (w, like) => { w.buf.resv.addFence(like(w.spare), 'write'); } },
  { door: 'mergeFences, of a fence', call: 'mergeFences', run: (w, like) => mergeFences(w.spare, like(w.fence)) },
  { door: 'DmaFence.isLater, of the other fence', call: 'isLater', run: (w, like) => w.fence.isLater(like(w.spare)) },
  // FdTable as the object called on.
  { door: 'FdTable.install', call: 'install', run: (w, like) => like(w.table).install(w.buf) },
  { door: 'FdTable.get', call: 'get', run: (w, like) => like(w.table).get(w.fd) },
  { door: 'FdTable.close', call: 'close', run: (w, like) => { like(w.table).close(w.fd); } },
  { door: 'FdTable.send', call: 'send', run: (w, like) => like(w.table).send(w.fd, w.other) },
  { door: 'FdTable.spawn', call: 'spawn', run: (w, like) => like(w.table).spawn() },
  { door: 'FdTable.closeAll', call: 'closeAll', run: (w, like) => { like(w.table).closeAll(); } },
  { door: 'FdTable.openFds', call: 'openFds', run: (w, like) => like(w.table).openFds() },
  { door: 'FdTable.isCloexec', call: 'isCloexec', run: (w, like) => like(w.table).isCloexec(w.fd) },
  // DmaBuf as the object called on.
  { door: 'DmaBuf.name (get)', call: 'name', run: (w, like) => like(w.buf).name },
  { door: 'DmaBuf.name (set)', call: 'name', run: (w, like) => { like(w.buf).name = 'renamed'; } },
  { door: 'DmaBuf.refCount', call: 'refCount', run: (w, like) => like(w.buf).refCount },
  { door: 'DmaBuf.released', call: 'released', run: (w, like) => like(w.buf).released },
  { door: 'DmaBuf.get', call: 'get', run: (w, like) => like(w.buf).get() },
  { door: 'DmaBuf.put', call: 'put', run: (w, like) => { like(w.buf).put(); } },
  { door: 'DmaBuf.attach', call: 'attach', run: (w, like) => like(w.buf).attach(standInDevice('other')) },
  { door: 'DmaBuf.detach', call: 'detach', run: (w, like) => { like(w.buf).detach(w.attachment); } },
  { door: 'DmaBuf.beginCpuAccess', call: 'beginCpuAccess', run: (w, like) => like(w.buf).beginCpuAccess(0, 4, 'from-device') },
  { door: 'DmaBuf.endCpuAccess', call: 'endCpuAccess', run: (w, like) => { like(w.buf).endCpuAccess(0, 4, 'from-device'); } },
  { door: 'DmaBuf.kmap', call: 'kmap', run: (w, like) => like(w.buf).kmap(0) },
  { door: 'DmaBuf.kunmap', call: 'kunmap', run: (w, like) => { like(w.buf).kunmap(0, new Uint8Array(PAGE_SIZE)); } },
  { door: 'DmaBuf.kmapAtomic', call: 'kmapAtomic', run: (w, like) => like(w.buf).kmapAtomic(0) },
  { door: 'DmaBuf.kunmapAtomic', call: 'kunmapAtomic', run: (w, like) => { like(w.buf).kunmapAtomic(0, new Uint8Array(PAGE_SIZE)); } },
  { door: 'DmaBuf.exportSyncFile', call: 'exportSyncFile', run: (w, like) => like(w.buf).exportSyncFile('read') },
  { door: 'DmaBuf.importSyncFile', call: 'importSyncFile', run: (w, like) => { like(w.buf).importSyncFile(w.spare, 'write'); } },
  { door: 'DmaBuf.vmap', call: 'vmap', run: (w, like) => like(w.buf).vmap() },
  { door: 'DmaBuf.vunmap', call: 'vunmap', run: (w, like) => { like(w.buf).vunmap(new Uint8Array(SIZE)); } },
  { door: 'DmaBuf.bufInfo', call: 'bufInfo', run: (w, like) => like(w.buf).bufInfo() },
  // The attachment and the table a map returned, as the objects called on.
  { door: 'attachment.map', call: 'map', run: (w, like) => like(w.attachment).map('to-device') },
  { door: 'attachment.unmap', call: 'unmap', run: (w, like) => like(w.attachment).unmap(w.sgt, 'to-device') },
  { door: 'attachment.stats', call: 'stats', run: (w, like) => like(w.attachment).stats() },
  { door: 'SgTable.entries', call: 'entries', run: (w, like) => like(w.sgt).entries(0) },
  // Fences, a merge, an operation's turn and a timeline, as the objects called on.
  { door: 'DmaFence.signaled', call: 'signaled', run: (w, like) => like(w.fence).signaled },
  { door: 'DmaFence.error', call: 'error', run: (w, like) => like(w.fence).error },
  { door: 'DmaFence.signal', call: 'signal', run: (w, like) => { like(w.fence).signal(); } },
  { door: 'DmaFence.setError', call: 'setError', run: (w, like) => { like(w.fence).setError('EIO'); } },
  { door: 'DmaFence.addCallback', call: 'addCallback', run: (w, like) => like(w.fence).addCallback(noop) },
  { door: 'DmaFence.removeCallback', call: 'removeCallback', run: (w, like) => like(w.fence).removeCallback(noop) },
  { door: 'DmaFence.wait', call: 'wait', run: (w, like) => like(w.fence).wait(0) },
  { door: 'DmaFence.unwrap', call: 'unwrap', run: (w, like) => like(w.fence).unwrap() },
  { door: 'DmaFence.isLater', call: 'isLater', run: (w, like) => like(w.fence).isLater(w.spare) },
  { door: 'a merged fence\'s unwrap', call: 'unwrap', run: (w, like) => like(w.merged).unwrap() },
  { door: 'a merged fence\'s signal', call: 'signal', run: (w, like) => { like(w.merged).signal(); } },
  { door: 'a reservation turn\'s done', call: 'done', run: (w, like) => { like(w.turn).done(); } },
  { door: 'DmaFenceTimeline.value', call: 'value', run: (w, like) => like(w.timeline).value },
  { door: 'DmaFenceTimeline.fence', call: 'fence', run: (w, like) => like(w.timeline).fence(1) },
  { door: 'DmaFenceTimeline.advance', call: 'advance', run: (w, like) => { like(w.timeline).advance(); } },
  // A buffer's reservation as the object called on (what a deep reactive() of a buffer gives).
  { door: 'DmaResv.cancelled', call: 'cancelled', run: (w, like) => like(w.buf.resv).cancelled },
  { door: 'DmaResv.idle', call: 'idle', run: (w, like) => like(w.buf.resv).idle },
  { door: 'DmaResv.addFence', call: 'addFence', run: (w, like) => { like(w.buf.resv).addFence(w.spare, 'write'); } },
  { door: 'DmaResv.getFences', call: 'getFences', run: (w, like) => like(w.buf.resv).getFences('read') },
  { door: 'DmaResv.testSignaled', call: 'testSignaled', run: (w, like) => like(w.buf.resv).testSignaled('read') },
  { door: 'DmaResv.wait', call: 'wait', run: (w, like) => like(w.buf.resv).wait('read', 0) },
  { door: 'DmaResv.pendingFences', call: 'pendingFences', run: (w, like) => like(w.buf.resv).pendingFences() },
  { door: 'DmaResv.enter', call: 'enter', run: (w, like) => like(w.buf.resv).enter('read') },
  { door: 'DmaResv.waitFor', call: 'waitFor', run: (w, like) => like(w.buf.resv).waitFor('read') },
  { door: 'DmaResv.check', call: 'check', run: (w, like) => { like(w.buf.resv).check('map'); } },
  { door: 'DmaResv.cancel', call: 'cancel', run: (w, like) => { like(w.buf.resv).cancel(new DmaBufError('EINVAL', 'cancel', 'cancelled by a look-alike')); } },
];

const CASES = DOORS.flatMap(({ door, call, run }) => LOOK_ALIKES.map(([kind, make]) => [door, kind, call, (world: World) => run(world, make)] as const));

/** What `run` threw or rejected with. */
async function refusal(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

test.each(CASES)('%s, given %s, throws EINVAL naming the call and changes nothing', async (_door, _kind, call, run) => {
  const before = snapshot();
  const error = await refusal(() => run(w));
  expect(error).toBeInstanceOf(DmaBufError);
  expect(error).toMatchObject({ code: 'EINVAL' });
  const { message } = error as DmaBufError;
  expect(message).toMatch(new RegExp(`^EINVAL: ${call}: .* itself, got a look-alike of an? \\w+ \\(a Proxy or Object\\.create of one\\); (pass|call it on) the object itself \\(in Vue: toRaw\\(\\w+\\), or markRaw it when you store it\\)$`));
  expect(snapshot()).toEqual(before);
  await expectRealCallsWork();
});

test('the target table of send, as a Proxy, is named in the message with what to pass instead', () => {
  expect(() => w.table.send(w.fd, new Proxy(w.other, {}))).toThrow(
    'EINVAL: send: the target must be an FdTable itself, got a look-alike of an FdTable (a Proxy or Object.create of one); pass the object itself (in Vue: toRaw(table), or markRaw it when you store it)',
  );
});

test('a revoked Proxy of a table is refused as something that is not a table, and changes nothing', () => {
  const { proxy, revoke } = Proxy.revocable(w.other, {});
  revoke();
  const before = snapshot();
  expect(() => w.table.send(w.fd, proxy)).toThrow('EINVAL: send: the target must be an FdTable, got an object');
  expect(snapshot()).toEqual(before);
});
