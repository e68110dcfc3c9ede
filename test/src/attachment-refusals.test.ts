// What an attachment's map and unmap refuse, and in which order they check: each refusal is a
// DmaBufError whose code, call and reason say exactly what was wrong, and a refused call
// changes nothing (no exporter op, no count, no mapping).
import { afterEach, describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { exportDmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import type { SgTable } from '../../src/sg-table.js';
import { memoryDmaBuf, memoryStorage, standInDevice } from './memory-exporter.js';
import { fields, refusal } from './refusal.js';

afterEach(() => {
  expect(bufinfoEntries()).toEqual([]);
});


/** An exporter whose mapDmaBuf answers `list` and whose unmapDmaBuf answers `moved` (or throws `unmapFails`). */
function answeringDmaBuf(size: number, answers: { list?: unknown; moved?: unknown; unmapFails?: Error }) {
  const ops: DmaBufOps<object> = {
    mapDmaBuf: (_priv, attachment) =>
      Promise.resolve((answers.list ?? { segments: [{ buffer: { label: 'segment' } as GPUBuffer, offset: 0, start: 0, length: attachment.dmabuf.size }] }) as never),
    unmapDmaBuf: () => {
      if (answers.unmapFails !== undefined) throw answers.unmapFails;
      return answers.moved as number;
    },
    release: () => undefined,
    kmap: () => new Uint8Array(0),
    kmapAtomic: () => new Uint8Array(0),
  };
  return exportDmaBuf({ priv: {}, ops, size });
}

describe('a detached attachment', () => {
  test('refuses map and unmap with EINVAL naming the call, before it looks at their arguments', async () => {
    const buf = memoryDmaBuf(16);
    const other = buf.attach(standInDevice('B'));
    const sgt = await other.map('to-device');
    const attachment = buf.attach(standInDevice('A'));
    buf.detach(attachment);
    expect(fields(await refusal(() => attachment.map('to-device')))).toEqual({ code: 'EINVAL', call: 'map', reason: 'the attachment is detached' });
    expect(fields(await refusal(() => attachment.map('up' as never)))).toEqual({ code: 'EINVAL', call: 'map', reason: 'the attachment is detached' });
    expect(fields(await refusal(() => attachment.unmap(sgt, 'to-device')))).toEqual({ code: 'EINVAL', call: 'unmap', reason: 'the attachment is detached' });
    expect(fields(await refusal(() => attachment.unmap('x' as never, 'up' as never)))).toEqual({ code: 'EINVAL', call: 'unmap', reason: 'the attachment is detached' });
    expect(memoryStorage(buf).calls.filter((c) => c.startsWith('mapDmaBuf'))).toEqual(['mapDmaBuf to-device']);
    await other.unmap(sgt, 'to-device');
    buf.detach(other);
    buf.put();
  });
});

describe('map', () => {
  test('an unknown direction is EINVAL naming map and the direction', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    expect(fields(await refusal(() => attachment.map('up' as never)))).toEqual({
      code: 'EINVAL',
      call: 'map',
      reason: `unknown direction "up" (expected 'bidirectional', 'to-device', 'from-device' or 'none')`,
    });
    buf.detach(attachment);
    buf.put();
  });

  test("segments that do not cover the buffer are EIO naming map and the exporter's fault, and count nothing", async () => {
    const buf = answeringDmaBuf(16, { list: { segments: 'none' } });
    const attachment = buf.attach(standInDevice('A'));
    expect(fields(await refusal(() => attachment.map('to-device')))).toEqual({ code: 'EIO', call: 'map', reason: "the exporter's mapDmaBuf returned no segments array" });
    expect(attachment.stats()).toEqual({ maps: 0, unmaps: 0, bytesToDevice: 0, bytesFromDevice: 0 });
    buf.detach(attachment);
    buf.put();
  });

  test('a buffer released while the exporter maps makes the map EINVAL naming map, with no mapping recorded', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    const pending = attachment.map('to-device');
    buf.put();
    expect(fields(await refusal(() => pending))).toEqual({ code: 'EINVAL', call: 'map', reason: `the buffer (id ${buf.id}) is already released` });
    expect(memoryStorage(buf).calls).toContain('mapDmaBuf to-device');
    expect(attachment.stats().maps).toBe(0);
  });
});

describe('unmap', () => {
  test('something that is not a table is EINVAL naming unmap and the table, before the direction is looked at', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    expect(fields(await refusal(() => attachment.unmap({} as SgTable, 'up' as never)))).toEqual({ code: 'EINVAL', call: 'unmap', reason: 'the table must be an SgTable, got an object' });
    buf.detach(attachment);
    buf.put();
  });

  test('an unknown direction is EINVAL naming unmap, and the table stays mapped', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('from-device');
    expect(fields(await refusal(() => attachment.unmap(sgt, 'up' as never)))).toEqual({
      code: 'EINVAL',
      call: 'unmap',
      reason: `unknown direction "up" (expected 'bidirectional', 'to-device', 'from-device' or 'none')`,
    });
    expect(bufinfoEntries()[0]?.attachments[0]?.mappings).toEqual(['from-device']);
    await attachment.unmap(sgt, 'from-device');
    buf.detach(attachment);
    buf.put();
  });

  test("a table of another attachment, or one already unmapped, is EINVAL saying it is not this attachment's", async () => {
    const buf = memoryDmaBuf(16);
    const a = buf.attach(standInDevice('A'));
    const b = buf.attach(standInDevice('B'));
    const sgt = await a.map('to-device');
    const notMine = { code: 'EINVAL', call: 'unmap', reason: "an object is not a table this attachment's map returned, or it is already unmapped" };
    expect(fields(await refusal(() => b.unmap(sgt, 'to-device')))).toEqual(notMine);
    expect(memoryStorage(buf).calls.filter((c) => c.startsWith('unmapDmaBuf'))).toEqual([]);
    await a.unmap(sgt, 'to-device');
    expect(fields(await refusal(() => a.unmap(sgt, 'to-device')))).toEqual(notMine);
    expect(memoryStorage(buf).calls.filter((c) => c.startsWith('unmapDmaBuf'))).toEqual(['unmapDmaBuf to-device']);
    buf.detach(a);
    buf.detach(b);
    buf.put();
  });

  test('another direction than the map\'s is EINVAL naming both, and the table stays mapped', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('to-device');
    expect(fields(await refusal(() => attachment.unmap(sgt, 'from-device')))).toEqual({ code: 'EINVAL', call: 'unmap', reason: "the table was mapped 'to-device', not 'from-device'" });
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    buf.put();
  });

  test('detach while an unmap is under way throws EBUSY; once it is done, detach succeeds', async () => {
    const buf = memoryDmaBuf(16);
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('to-device');
    const pending = attachment.unmap(sgt, 'to-device');
    expect(fields(await refusal(() => { buf.detach(attachment); }))).toEqual({
      code: 'EBUSY',
      call: 'detach',
      reason: 'the attachment still has a mapping outstanding or under way; unmap it first',
    });
    await pending;
    buf.detach(attachment);
    buf.put();
  });

  test("an exporter's unmap that throws a plain Error is EIO naming unmap and the op, and counts nothing", async () => {
    const buf = answeringDmaBuf(16, { unmapFails: new Error('device lost') });
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('from-device');
    expect(fields(await refusal(() => attachment.unmap(sgt, 'from-device')))).toEqual({ code: 'EIO', call: 'unmap', reason: "the exporter's unmapDmaBuf op failed: device lost" });
    expect(attachment.stats()).toMatchObject({ unmaps: 0, bytesFromDevice: 0 });
    buf.detach(attachment);
    buf.put();
  });

  test.each([
    ['a numeric string', '5', '"5"'],
    ['a fraction', 1.5, '1.5'],
    ['NaN', Number.NaN, 'NaN'],
    ['a negative count', -1, '-1'],
  ])("an exporter's unmap that returns %s is EIO, not a byte count, and counts nothing", async (_what, moved, shown) => {
    const buf = answeringDmaBuf(16, { moved });
    const attachment = buf.attach(standInDevice('A'));
    const sgt = await attachment.map('from-device');
    expect(fields(await refusal(() => attachment.unmap(sgt, 'from-device')))).toEqual({
      code: 'EIO',
      call: 'unmap',
      reason: `the exporter's unmapDmaBuf returned ${shown}, not a byte count`,
    });
    expect(attachment.stats()).toMatchObject({ unmaps: 0, bytesFromDevice: 0 });
    buf.detach(attachment);
    buf.put();
  });
});

describe('detach', () => {
  test('something that is not an attachment is EINVAL naming the attachment', async () => {
    const buf = memoryDmaBuf(16);
    expect(fields(await refusal(() => { buf.detach({} as never); }))).toEqual({ code: 'EINVAL', call: 'detach', reason: 'the attachment must be a DmaBufAttachment, got an object' });
    buf.put();
  });
});
