// A peer's chunks through its ring that belong to nothing of this end (remote/ring-stream.ts,
// remote/pending-calls.ts): a piece of a reply to a read this end never made, or of a write
// that is then sent to a grant the peer does not hold. Each is taken where it lies (its slot is
// freed, so the peer's ring keeps going), changes nothing, and warns of no bug: a peer that
// lies is not one. The peer here is a bare port that speaks the protocol.
import { afterEach, expect, test, vi } from 'vitest';
import { FdSocket } from '../../remote/fd-socket.js';
import { MARKER } from '../../remote/protocol.js';
import { newRing, RING_SLOTS, RingWriter } from '../../remote/shared-ring.js';
import { quiesce, realmsFixture } from './realms.js';

const realms = realmsFixture();

afterEach(() => {
  vi.restoreAllMocks();
});

/** A socket of realm `a` whose peer is a bare port that has said hello with a ring of its own. */
async function forgedPeer() {
  const a = realms.realm('a');
  const { port1, port2 } = realms.channel(a);
  const socket = new FdSocket(port1, { liveness: a.liveness, transport: 'shared-memory' });
  a.sockets.push(socket);
  const heard: Record<string, unknown>[] = [];
  port2.addEventListener('message', (event: MessageEvent) => { heard.push(event.data as Record<string, unknown>); });
  port2.start();
  const ring = newRing();
  port2.postMessage({ dmabuf: MARKER, kind: 'hello', realm: 'forger', reply: false, inherit: false, ring });
  await quiesce();
  const writer = new RingWriter(ring);
  /** Streams `bytes` through the forged peer's ring as chunks of `call`; returns the slots used. */
  const stream = async (bytes: Uint8Array, call: number, reply: boolean): Promise<number[]> => {
    const slots: number[] = [];
    await writer.write(bytes, (slot, len) => {
      slots.push(slot);
      port2.postMessage({ dmabuf: MARKER, kind: 'chunk', slot, len, call, reply, total: bytes.length });
    }, new Promise<never>(() => undefined));
    return slots;
  };
  const states = new Int32Array(ring, 0, RING_SLOTS);
  return { socket, port2, heard, stream, states };
}

test("a chunk of a reply to a read this end never made frees its slot and warns of nothing", async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const { socket, stream, states } = await forgedPeer();
  expect(socket.transport).toBe('shared-memory');
  const slots = await stream(new Uint8Array([1, 2, 3]), 99, true);
  await quiesce();
  expect(slots.map((slot) => states[slot]), 'freed').toEqual([0]);
  expect(warn).not.toHaveBeenCalled();
});

test('the chunks of a write to a grant the peer does not hold free their slots, and the write is answered EBADF without a warning', async () => {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const { port2, heard, stream, states } = await forgedPeer();
  const slots = await stream(new Uint8Array([1, 2, 3]), 98, false);
  port2.postMessage({ dmabuf: MARKER, kind: 'write', call: 98, grant: 9, start: 0, bytes: null, shared: 3 });
  await quiesce();
  expect(slots.map((slot) => states[slot]), 'freed').toEqual([0]);
  expect(heard.filter((m) => m.kind === 'reply')).toMatchObject([{ call: 98, error: { code: 'EBADF' } }]);
  expect(warn).not.toHaveBeenCalled();
});
