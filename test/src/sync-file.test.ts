// Sync files on the contract (Node, in-memory exporter): what exportSyncFile and
// importSyncFile put in and take out of a buffer's reservation, and every bad argument.
import { describe, expect, test } from 'vitest';
import { DmaFence, DmaFenceTimeline, type DmaResvUsage, type SyncFileFlags } from '../../index.js';
import { memoryDmaBuf } from './memory-exporter.js';

describe('exportSyncFile and importSyncFile', () => {
  test("importSyncFile adds a merged fence's parts, as 'write' for 'write' and 'rw', as 'read' for 'read'", () => {
    const buf = memoryDmaBuf(8);
    const a = new DmaFence();
    const b = new DmaFence();
    const c = new DmaFence();
    buf.importSyncFile(a, 'read');
    buf.importSyncFile(b, 'rw');
    buf.importSyncFile(c, 'write');
    expect(buf.resv.getFences('write')).toEqual([b, c]);
    expect(buf.resv.getFences('read')).toEqual([a, b, c]);
    buf.put();
  });

  test("exportSyncFile('read') waits for the writers only; 'write' and 'rw' for everyone; a snapshot", () => {
    const buf = memoryDmaBuf(8);
    const timeline = new DmaFenceTimeline('t');
    const reader = timeline.fence(1);
    const writer = new DmaFence();
    buf.importSyncFile(reader, 'read');
    buf.importSyncFile(writer, 'write');
    expect(buf.exportSyncFile('read').unwrap()).toEqual([writer]);
    const all = buf.exportSyncFile('rw');
    expect(new Set(all.unwrap())).toEqual(new Set([reader, writer]));
    buf.importSyncFile(new DmaFence(), 'write');
    expect(new Set(all.unwrap())).toEqual(new Set([reader, writer]));
    writer.signal();
    timeline.advance();
    expect(all.signaled).toBe(true);
    buf.put();
  });

  test('with nothing pending, exportSyncFile gives a signalled stub', () => {
    const buf = memoryDmaBuf(8);
    const fence = buf.exportSyncFile('write');
    expect([fence.signaled, fence.context, fence.seqno]).toEqual([true, 0, 0]);
    buf.put();
  });
});

describe('bad input changes nothing', () => {
  test.each([['readwrite'], [''], [undefined], [3]])('exportSyncFile(%j) throws EINVAL', (flags) => {
    const buf = memoryDmaBuf(8);
    expect(() => buf.exportSyncFile(flags as SyncFileFlags)).toThrow(/^EINVAL: exportSyncFile/);
    buf.put();
  });

  test.each([['readwrite'], [null]])('importSyncFile with flags %j throws EINVAL and adds nothing', (flags) => {
    const buf = memoryDmaBuf(8);
    expect(() => { buf.importSyncFile(new DmaFence(), flags as SyncFileFlags); }).toThrow(/^EINVAL: importSyncFile/);
    expect(buf.resv.getFences('bookkeep')).toEqual([]);
    buf.put();
  });

  test.each([[{}], [null], [Promise.resolve()]])('importSyncFile of a non-fence (%j) throws EINVAL', (fence) => {
    const buf = memoryDmaBuf(8);
    expect(() => { buf.importSyncFile(fence as unknown as DmaFence, 'write'); }).toThrow(/^EINVAL: importSyncFile/);
    buf.put();
  });

  test('on a released buffer, both throw EINVAL', () => {
    const buf = memoryDmaBuf(8);
    buf.put();
    expect(() => buf.exportSyncFile('read')).toThrow(/^EINVAL: exportSyncFile/);
    expect(() => { buf.importSyncFile(new DmaFence(), 'read'); }).toThrow(/^EINVAL: importSyncFile/);
  });

  test.each([['exclusive'], [''], [undefined]])('resv.addFence / getFences with usage %j throw EINVAL', (usage) => {
    const buf = memoryDmaBuf(8);
    expect(() => { buf.resv.addFence(new DmaFence(), usage as DmaResvUsage); }).toThrow(/^EINVAL: addFence/);
    expect(() => buf.resv.getFences(usage as DmaResvUsage)).toThrow(/^EINVAL: getFences/);
    expect(buf.resv.getFences('bookkeep')).toEqual([]);
    buf.put();
  });

  test('resv.wait with a negative timeout rejects with EINVAL', async () => {
    const buf = memoryDmaBuf(8);
    await expect(buf.resv.wait('read', -1)).rejects.toMatchObject({ code: 'EINVAL' });
    buf.put();
  });

  test("the runtime's own fences cannot be signalled or given an error by anyone else", () => {
    const buf = memoryDmaBuf(8);
    const turn = buf.resv.enter('write');
    const [fence] = buf.resv.getFences('write');
    expect(() => fence?.signal()).toThrow(/^EINVAL: signal/);
    expect(() => fence?.setError('EIO')).toThrow("EINVAL: setError: this fence is the runtime's own");
    turn.done();
    expect(fence?.signaled).toBe(true);
    buf.put();
  });
});
