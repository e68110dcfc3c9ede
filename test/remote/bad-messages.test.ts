import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import { MARKER } from '../../remote/protocol.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

/** Two realms; `a` has exported a buffer to `b`, which holds it as an fd; `portB` is b's raw end, to forge from. */
async function sharedBuffer() {
  const a = realms.realm('a');
  const b = realms.realm('b');
  const link = realms.link(a, b);
  const buf = memoryDmaBuf(5000);
  memoryStorage(buf).bytes.fill(1);
  const fd = a.table.install(buf);
  buf.put();
  await link.ab.send(a.table, fd);
  const theirs = await link.ba.receive(b.table);
  await quiesce();
  return { a, b, buf, fd, theirs, ...link };
}

/** What `port` hears next that is a reply to `call`. */
function replyTo(port: MessagePort, call: number): Promise<unknown> {
  return new Promise((resolve) => {
    const listen = (event: MessageEvent) => {
      const data = event.data as { kind?: unknown; call?: unknown };
      if (data.kind === 'reply' && data.call === call) {
        port.removeEventListener('message', listen);
        resolve(data);
      }
    };
    port.addEventListener('message', listen);
  });
}

const near = (fields: Record<string, unknown>) => ({ dmabuf: MARKER, ...fields });

describe('messages that are not the library\'s, or are malformed', () => {
  test('random data and near-miss messages posted to a socket change nothing', async () => {
    const { a, buf, portB } = await sharedBuffer();
    const state = () => ({ refs: buf.refCount, fds: a.table.openFds(), bytes: [...memoryStorage(buf).bytes.subarray(0, 8)], listing: bufinfoEntries() });
    const before = state();
    const nearMisses = [
      near({ kind: 'drop', grant: 1, count: 0 }),
      near({ kind: 'drop', grant: 1, count: 2 }),
      near({ kind: 'drop', grant: 1.5, count: 1 }),
      near({ kind: 'drop', grant: '1', count: 1 }),
      near({ kind: 'drop', grant: 1, count: Number.MAX_SAFE_INTEGER + 2 }),
      near({ kind: 'drop', grant: 99, count: 1 }),
      near({ kind: 'write', call: 1, grant: 1, start: 0, bytes: new Uint8Array(4) }),
      near({ kind: 'write', call: 1, grant: 1, start: -1, bytes: new ArrayBuffer(4) }),
      near({ kind: 'write', call: 1, grant: 1, start: 0, bytes: new ArrayBuffer(0) }),
      near({ kind: 'fd', seq: 1, info: { grant: 1, key: 'k', size: 0, name: null, exporter: 'x' } }),
      near({ kind: 'fd', seq: 1, info: { grant: 1, key: 'k', size: 4, name: 'n'.repeat(33), exporter: 'x' } }),
      near({ kind: 'fd', seq: 0, info: { grant: 1, key: 'k', size: 4, name: null, exporter: 'x' } }),
      near({ kind: 'inherit', seq: 1, fds: [{ fd: 0, info: null }] }),
      near({ kind: 'hello', realm: 'someone else', reply: false, inherit: false }),
      near({ kind: 'hello', realm: 7, reply: false, inherit: false }),
      near({ kind: 'ack', seq: 12345, ok: true }),
      near({ kind: 'reply', call: 999, bytes: null, error: null }),
      near({ kind: 'unknown' }),
      { dmabuf: 'webgpu-dmabuf/fd-socket@0', kind: 'drop', grant: 1, count: 1 },
      { kind: 'drop', grant: 1, count: 1 },
      null,
      'drop',
    ];
    for (const message of nearMisses) portB.postMessage(message);
    await fc.assert(
      // A count of 1 is no junk: the peer may give back the one receipt it holds.
      fc.asyncProperty(fc.anything().filter((junk) => junk !== 1), async (junk) => {
        portB.postMessage(junk);
        portB.postMessage(near({ kind: 'drop', grant: 1, count: junk }));
        portB.postMessage(near({ kind: 'read', call: 1, grant: junk, start: 0, len: 4 }));
        await quiesce(2);
      }),
      { numRuns: 100 },
    );
    await quiesce();
    expect(state()).toEqual(before);
  });

  test('a grant number forged in another realm means nothing: read and write are EBADF, the bytes unchanged', async () => {
    const { buf, portB } = await sharedBuffer();
    const read = replyTo(portB, 1001);
    portB.postMessage(near({ kind: 'read', call: 1001, grant: 2, start: 0, len: 4 }));
    expect(await read).toMatchObject({ error: { code: 'EBADF', call: 'read', reason: 'no buffer was sent to this realm under 2' } });
    const write = replyTo(portB, 1002);
    portB.postMessage(near({ kind: 'write', call: 1002, grant: 77, start: 0, bytes: new Uint8Array([9, 9, 9, 9]).buffer, shared: 0 }));
    expect(await write).toMatchObject({ error: { code: 'EBADF', call: 'write', reason: 'no buffer was sent to this realm under 77' } });
    const outside = replyTo(portB, 1003);
    portB.postMessage(near({ kind: 'read', call: 1003, grant: 1, start: 4999, len: 2 }));
    expect(await outside).toMatchObject({ error: { code: 'EINVAL', call: 'read', reason: "range [4999, 5001) goes beyond the buffer's 5000 bytes" } });
    expect(new Set(memoryStorage(buf).bytes)).toEqual(new Set([1]));
  });

  test('an fd number that is not open in the sending realm\'s table is EBADF, and the exporter keeps nothing for it', async () => {
    const { b, buf, ba, theirs } = await sharedBuffer();
    await expect(ba.send(b.table, theirs + 5)).rejects.toThrow(/^EBADF: get: fd \d+ is not open in this table/);
    expect(buf.refCount).toBe(2);
  });
});
