// The wire format's one parser (remote/protocol.ts): a well-formed message of each kind parses
// to exactly its fields, and one field off by one step (a number just below its floor or just
// above its cap, a wrong type, a string one byte too long, bytes and an error together) parses
// to undefined, so that nothing a peer forges reaches a connection. Both sides of each bound
// are checked: the last value accepted and the first refused.
import { describe, expect, test } from 'vitest';
import { MARKER, parse } from '../../remote/protocol.js';
import { RING_BYTES, RING_SLOTS, SLOT_BYTES } from '../../remote/shared-ring.js';
import { DMA_BUF_NAME_MAX } from '../../src/dma-buf.js';

// The parser's own caps, not exported: a realm name or buffer key, an inherit's fds, a grant's fences.
const MAX_NAME = 128;
const MAX_INHERITED = 1024;
const MAX_FENCES = 1024;

type Fields = Record<string, unknown>;

const fence = { id: 1, usage: 'write', back: false };
const info = { grant: 1, key: 'k', size: 1, name: null, exporter: 'memory', fences: [fence], layout: { contiguous: false, align: 1 } };

/** A well-formed message of every kind, as parse returns it (the marker aside). */
const VALID = {
  hello: { kind: 'hello', realm: 'r', reply: false, inherit: true, ring: null },
  shutdown: { kind: 'shutdown' },
  chunk: { kind: 'chunk', slot: 0, len: 1, call: 1, reply: true, total: 1 },
  fd: { kind: 'fd', seq: 1, info },
  inherit: { kind: 'inherit', seq: 1, fds: [{ fd: 0, info }] },
  ack: { kind: 'ack', seq: 1, ok: false },
  drop: { kind: 'drop', grant: 1, count: 1 },
  read: { kind: 'read', call: 1, grant: 1, start: 0, len: 1 },
  write: { kind: 'write', call: 1, grant: 1, start: 0, bytes: null, shared: 1 },
  reply: { kind: 'reply', call: 1, bytes: null, shared: 0, error: null },
  fence: { kind: 'fence', grant: 1, mine: true, fence },
  signal: { kind: 'signal', fence: 1, error: null },
} satisfies Record<string, Fields>;

const onWire = (fields: Fields): Fields => ({ dmabuf: MARKER, ...fields });
const withInfo = (kind: 'fd' | 'inherit', changes: Fields): Fields =>
  kind === 'fd' ? { ...VALID.fd, info: { ...info, ...changes } } : { ...VALID.inherit, fds: [{ fd: 0, info: { ...info, ...changes } }] };

/** Messages one step inside a bound: each parses to itself. */
const ACCEPTED: readonly [string, Fields][] = [
  ...Object.entries(VALID),
  ['hello with a realm name of the longest length', { ...VALID.hello, realm: 'r'.repeat(MAX_NAME) }],
  ['hello with a ring of the ring size', { ...VALID.hello, ring: new SharedArrayBuffer(RING_BYTES) }],
  ['chunk in the last slot, a full slot, of a longer total', { ...VALID.chunk, slot: RING_SLOTS - 1, len: SLOT_BYTES, total: SLOT_BYTES + 1 }],
  ['fd whose key is of the longest length', withInfo('fd', { key: 'k'.repeat(MAX_NAME) })],
  ['fd whose name is of the longest length', withInfo('fd', { name: 'n'.repeat(DMA_BUF_NAME_MAX) })],
  ['fd whose exporter name is of the longest length', withInfo('fd', { exporter: 'e'.repeat(MAX_NAME) })],
  ['fd with the most fences', withInfo('fd', { fences: Array.from({ length: MAX_FENCES }, (_, i) => ({ ...fence, id: i + 1 })) })],
  ['fd with no fences and a contiguous layout', withInfo('fd', { fences: [], layout: { contiguous: true, align: 256 } })],
  ['fd with a fence of each usage', withInfo('fd', { fences: ['kernel', 'write', 'read', 'bookkeep'].map((usage, i) => ({ id: i + 1, usage, back: true })) })],
  ['inherit of no fds', { ...VALID.inherit, fds: [] }],
  ['inherit of the most fds', { ...VALID.inherit, fds: Array.from({ length: MAX_INHERITED }, (_, fd) => ({ fd, info })) }],
  ['write with its bytes in the message', { ...VALID.write, bytes: new ArrayBuffer(4), shared: 0 }],
  ['reply with bytes in the message', { ...VALID.reply, bytes: new ArrayBuffer(4) }],
  ['reply with shared bytes', { ...VALID.reply, shared: 4 }],
  ['reply with an error', { ...VALID.reply, error: { code: 'EIO', call: 'c', reason: 'm' } }],
  ['signal with an error', { ...VALID.signal, error: 'ENODEV' }],
];

/** Messages one step outside a bound, or with one field of the wrong type: each parses to undefined. */
const REFUSED: readonly [string, Fields][] = [
  ['hello with an empty realm name', { ...VALID.hello, realm: '' }],
  ['hello with a realm name one too long', { ...VALID.hello, realm: 'r'.repeat(MAX_NAME + 1) }],
  ['hello with a realm that is not a string', { ...VALID.hello, realm: 7 }],
  ['hello whose reply is not a boolean', { ...VALID.hello, reply: 'no' }],
  ['hello whose inherit is not a boolean', { ...VALID.hello, inherit: 1 }],
  ['hello with a ring one byte short', { ...VALID.hello, ring: new SharedArrayBuffer(RING_BYTES - 1) }],
  ['hello with an ArrayBuffer for a ring', { ...VALID.hello, ring: new ArrayBuffer(RING_BYTES) }],
  ['chunk in the slot past the last', { ...VALID.chunk, slot: RING_SLOTS }],
  ['chunk in slot -1', { ...VALID.chunk, slot: -1 }],
  ['chunk of no bytes', { ...VALID.chunk, len: 0, total: 0 }],
  ['chunk one byte over a slot', { ...VALID.chunk, len: SLOT_BYTES + 1, total: SLOT_BYTES + 1 }],
  ['chunk of call 0', { ...VALID.chunk, call: 0 }],
  ['chunk whose reply is not a boolean', { ...VALID.chunk, reply: 1 }],
  ['chunk of a total smaller than itself', { ...VALID.chunk, len: 2, total: 1 }],
  ['fd of seq 0', { ...VALID.fd, seq: 0 }],
  ['fd of grant 0', withInfo('fd', { grant: 0 })],
  ['fd of a fractional grant', withInfo('fd', { grant: 1.5 })],
  ['fd with an empty key', withInfo('fd', { key: '' })],
  ['fd whose key is an array of one name', withInfo('fd', { key: ['k'] })],
  ['fd with a key one too long', withInfo('fd', { key: 'k'.repeat(MAX_NAME + 1) })],
  ['fd of size 0', withInfo('fd', { size: 0 })],
  ['fd whose name is one byte too long', withInfo('fd', { name: 'n'.repeat(DMA_BUF_NAME_MAX + 1) })],
  ['fd whose name is too long in UTF-8 bytes, not in characters', withInfo('fd', { name: 'é'.repeat(DMA_BUF_NAME_MAX / 2 + 1) })],
  ['fd whose name is not a string', withInfo('fd', { name: 7 })],
  ['fd whose exporter name is one too long', withInfo('fd', { exporter: 'e'.repeat(MAX_NAME + 1) })],
  ['fd whose exporter is not a string', withInfo('fd', { exporter: null })],
  ['fd whose exporter is a number', withInfo('fd', { exporter: 7 })],
  ['fd with one fence too many', withInfo('fd', { fences: Array.from({ length: MAX_FENCES + 1 }, (_, i) => ({ ...fence, id: i + 1 })) })],
  ['fd whose fences are not an array', withInfo('fd', { fences: { 0: fence, length: 1 } })],
  ['fd with a fence of id 0', withInfo('fd', { fences: [{ ...fence, id: 0 }] })],
  ['fd with a fence of an unknown usage', withInfo('fd', { fences: [{ ...fence, usage: 'exclusive' }] })],
  ['fd with a fence whose back is not a boolean', withInfo('fd', { fences: [{ ...fence, back: 0 }] })],
  ['fd with a fence that is not an object', withInfo('fd', { fences: [1] })],
  ['fd with a fence that is an array carrying the fields', withInfo('fd', { fences: [Object.assign([], fence)] })],
  ['fd with a fence after a bad one', withInfo('fd', { fences: [fence, null] })],
  ['fd without a layout', withInfo('fd', { layout: undefined })],
  ['fd whose layout is not contiguous or not', withInfo('fd', { layout: { contiguous: 'yes', align: 1 } })],
  ['fd whose layout aligns to 0', withInfo('fd', { layout: { contiguous: false, align: 0 } })],
  ['fd whose layout is an array carrying the fields', withInfo('fd', { layout: Object.assign([], { contiguous: false, align: 1 }) })],
  ['fd whose info is an array', { ...VALID.fd, info: [info] }],
  ['fd whose info is an array carrying the fields', { ...VALID.fd, info: Object.assign([], info) }],
  ['inherit of seq 0', { ...VALID.inherit, seq: 0 }],
  ['inherit of one fd too many', { ...VALID.inherit, fds: Array.from({ length: MAX_INHERITED + 1 }, (_, fd) => ({ fd, info })) }],
  ['inherit of one fd twice', { ...VALID.inherit, fds: [{ fd: 3, info }, { fd: 3, info }] }],
  ['inherit of fd -1', { ...VALID.inherit, fds: [{ fd: -1, info }] }],
  ['inherit with a bad info', withInfo('inherit', { size: 0 })],
  ['inherit whose fds are not an array', { ...VALID.inherit, fds: { fd: 0, info } }],
  ['inherit whose entry is not an object', { ...VALID.inherit, fds: [0] }],
  ['ack of seq 0', { ...VALID.ack, seq: 0 }],
  ['ack whose ok is not a boolean', { ...VALID.ack, ok: 'yes' }],
  ['drop of grant 0', { ...VALID.drop, grant: 0 }],
  ['drop of count 0', { ...VALID.drop, count: 0 }],
  ['read of call 0', { ...VALID.read, call: 0 }],
  ['read of grant 0', { ...VALID.read, grant: 0 }],
  ['read from -1', { ...VALID.read, start: -1 }],
  ['read of no bytes', { ...VALID.read, len: 0 }],
  ['write of call 0', { ...VALID.write, call: 0 }],
  ['write of grant 0', { ...VALID.write, grant: 0 }],
  ['write from -1', { ...VALID.write, start: -1 }],
  ['write of no shared bytes and none in the message', { ...VALID.write, shared: 0 }],
  ['write of empty bytes in the message', { ...VALID.write, bytes: new ArrayBuffer(0), shared: 0 }],
  ['write with bytes both in the message and shared', { ...VALID.write, bytes: new ArrayBuffer(4), shared: 4 }],
  ['write whose bytes are a typed array', { ...VALID.write, bytes: new Uint8Array(4), shared: 0 }],
  ['write of shared bytes whose bytes are a typed array, not null', { ...VALID.write, bytes: new Uint8Array(4), shared: 4 }],
  ['write of a fractional shared count', { ...VALID.write, shared: 1.5 }],
  ['reply of call 0', { ...VALID.reply, call: 0 }],
  ['reply of a negative shared count', { ...VALID.reply, shared: -1 }],
  ['reply whose bytes are a typed array', { ...VALID.reply, bytes: new Uint8Array(4) }],
  ['reply with bytes in the message and shared', { ...VALID.reply, bytes: new ArrayBuffer(4), shared: 4 }],
  ['reply with bytes and an error', { ...VALID.reply, bytes: new ArrayBuffer(4), error: { code: 'EIO', call: 'c', reason: 'm' } }],
  ['reply with shared bytes and an error', { ...VALID.reply, shared: 4, error: { code: 'EIO', call: 'c', reason: 'm' } }],
  ['reply with an error of an unknown code', { ...VALID.reply, error: { code: 'EPERM', call: 'c', reason: 'm' } }],
  ['reply with an error whose reason is not a string', { ...VALID.reply, error: { code: 'EIO', call: 'c', reason: 1 } }],
  ['reply with an error whose call is not a string', { ...VALID.reply, error: { code: 'EIO', call: 1, reason: 'm' } }],
  ['reply with an error whose call is an array', { ...VALID.reply, error: { code: 'EIO', call: ['c'], reason: 'm' } }],
  ['reply with an error that is not an object', { ...VALID.reply, error: 'EIO' }],
  ['reply with an error that is an array carrying the fields', { ...VALID.reply, error: Object.assign([], { code: 'EIO', call: 'c', reason: 'm' }) }],
  ['reply with an error whose reason is an array', { ...VALID.reply, error: { code: 'EIO', call: 'c', reason: ['m'] } }],
  ['fence of grant 0', { ...VALID.fence, grant: 0 }],
  ['fence whose mine is not a boolean', { ...VALID.fence, mine: 1 }],
  ['fence with a bad fence', { ...VALID.fence, fence: { ...fence, id: 0 } }],
  ['signal of fence 0', { ...VALID.signal, fence: 0 }],
  ['signal with an unknown error code', { ...VALID.signal, error: 'EPERM' }],
  ['signal with an error that is not a string', { ...VALID.signal, error: 5 }],
  ['a message of an unknown kind', { kind: 'close' }],
];

describe('parse', () => {
  test.each(ACCEPTED)('accepts %s, as exactly its fields', (_name, fields) => {
    expect(parse(onWire(fields))).toEqual(fields);
  });

  test.each(REFUSED)('refuses %s', (_name, fields) => {
    expect(parse(onWire(fields))).toBeUndefined();
  });

  test("keeps at most 100 characters of an error's call and 1000 of its reason", () => {
    const parsed = parse(onWire({ ...VALID.reply, error: { code: 'EIO', call: 'c'.repeat(101), reason: 'm'.repeat(1001) } }));
    expect(parsed).toMatchObject({ error: { code: 'EIO', call: 'c'.repeat(100), reason: 'm'.repeat(1000) } });
  });

  test.each<[string, unknown]>([
    ['a message without the marker', { ...VALID.ack }],
    ['a message with another version of the marker', { ...VALID.ack, dmabuf: 'webgpu-dmabuf/fd-socket@0' }],
    ['an array', [onWire(VALID.ack)]],
    ['an array carrying the fields of one', Object.assign([], onWire(VALID.ack))],
    ['null', null],
    ['undefined', undefined],
    ['a number', 5],
    ['a string', 'ack'],
  ])('refuses %s', (_name, data) => {
    expect(parse(data)).toBeUndefined();
  });

  test('refuses a message whose field throws when read, without throwing', () => {
    const data = onWire(VALID.ack);
    Object.defineProperty(data, 'seq', {
      get() {
        throw new Error('a getter that throws');
      },
    });
    expect(parse(data)).toBeUndefined();
  });
});
