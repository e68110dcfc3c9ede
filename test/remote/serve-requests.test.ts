// The peer's byte RPCs as a connection's server takes them (remote/serve-requests.ts): the
// array a ring write was put together in goes back for the next write once that write was
// served, never before and never for bytes that came in the message itself; and an error
// that is not a DmaBufError fails the call as EIO naming 'serve', with its message.
import { afterEach, expect, test, vi } from 'vitest';
import { bufinfoEntries } from '../../src/bufinfo.js';
import type { DmaBuf } from '../../src/dma-buf.js';
import { FenceLink } from '../../remote/fence-link.js';
import { Grants } from '../../remote/grants.js';
import { PostQueue } from '../../remote/post-queue.js';
import type { Message } from '../../remote/protocol.js';
import { RealmState } from '../../remote/realm-state.js';
import { RingStream } from '../../remote/ring-stream.js';
import { RequestServer } from '../../remote/serve-requests.js';
import { memoryDmaBuf, memoryStorage } from '../src/memory-exporter.js';
import { quiesce } from './realms.js';

// What each test leaves to put back: the grants' references and the tests' own.
const cleanups: (() => void)[] = [];

afterEach(() => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0)) cleanup();
  expect(bufinfoEntries()).toEqual([]);
});

/** A server of one realm over the message transport, with `buf` granted to the peer; what it posts is kept in `posted`. */
function server(buf: DmaBuf) {
  const realm = new RealmState({ ready: () => Promise.resolve('realm'), watch: () => () => undefined });
  const grants = new Grants(realm, () => () => undefined);
  const fences = new FenceLink({ fence: () => undefined, signal: () => undefined });
  const posted: Message[] = [];
  const stream = new RingStream({ post: (message) => { posted.push(message); }, postRaw: (message) => { posted.push(message); }, queue: new PostQueue() });
  const served = new RequestServer({ grants, fences, stream, reply: (message) => { posted.push(message); } });
  const grant = grants.take(buf);
  cleanups.push(() => {
    grants.releaseAll();
    buf.put();
  });
  return { served, stream, posted, grant: grant.id };
}

test("a ring write's array goes back for the next write once the write was served; bytes that came in the message do not", async () => {
  const buf = memoryDmaBuf(16);
  const { served, stream, posted, grant } = server(buf);
  const array = new Uint8Array(16).fill(5);
  vi.spyOn(stream, 'assembled').mockReturnValue(array);
  const kept = vi.spyOn(stream, 'keepSpare');
  served.write({ kind: 'write', call: 1, grant, start: 0, bytes: null, shared: 16 });
  expect(kept, 'not while the write is under way').not.toHaveBeenCalled();
  await quiesce();
  expect(posted).toMatchObject([{ kind: 'reply', call: 1, error: null }]);
  expect([...memoryStorage(buf).bytes]).toEqual([...array]);
  expect(kept.mock.calls).toEqual([[array]]);
  served.write({ kind: 'write', call: 2, grant, start: 0, bytes: new Uint8Array(16).fill(6).buffer, shared: 0 });
  await quiesce();
  expect(posted).toMatchObject([{ call: 1 }, { kind: 'reply', call: 2, error: null }]);
  expect(kept, 'nothing more').toHaveBeenCalledTimes(1);
});

test.each([
  { thrown: new Error('the ring broke'), reason: 'the ring broke' },
  { thrown: 'a bare string', reason: 'a bare string' },
])("a failure that is not a DmaBufError answers the call EIO naming 'serve' ($reason)", async ({ thrown, reason }) => {
  const buf = memoryDmaBuf(16);
  const { served, stream, posted, grant } = server(buf);
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what is not an Error is the case under test.
  vi.spyOn(stream, 'post').mockReturnValue(Promise.reject(thrown));
  served.read(3, grant, 0, 16);
  await quiesce();
  expect(posted).toEqual([{ kind: 'reply', call: 3, bytes: null, shared: 0, error: { code: 'EIO', call: 'serve', reason } }]);
});
