/**
 * The exporter's realm's side of the byte RPCs: each is self-contained CPU access on the
 * real buffer (begin, copy or stream the bytes out, end), so nothing stays open once its
 * bytes are sent. They take effect
 * in the order their messages came (the connection's FIFO keeps the importer's call order):
 * a read begins, and enters the buffer's reservation, when it arrives unless a write that
 * came before it has not ended yet, in which case it begins right after that end; writes end
 * (and enter the reservation as writes) in the order they came. The stock exporter takes a
 * CPU write's place in the reservation at its end, not at its begin, so an operation of the
 * exporter's own realm called while a write RPC is between arrival and end goes before it. A realm that dies in the
 * middle leaves nothing half-done: an RPC runs to its end whether or not anyone still waits
 * for its answer. Each holds a reference of its own while it runs, so a grant dropped
 * meanwhile does not release the buffer under it.
 */
import type { DmaBuf } from '../src/dma-buf.js';
import type { ResvTurn } from '../src/dma-resv.js';
import { PAGE_SIZE } from '../src/page.js';
import { uncounted, type CountCopy } from './cpu-copies.js';
import type { FenceLink } from './fence-link.js';
import type { ByteSource } from './shared-ring.js';

/** The whole buffer as one view, CPU access covering it; `undefined` where the exporter holds it in pieces. */
function vmapOf(buf: DmaBuf): Uint8Array | undefined {
  try {
    return buf.vmap();
  } catch {
    return undefined;
  }
}

/** Copies between `buf`'s pages and `bytes` over `[start, start + bytes.length)`, page by page, CPU access being active there. */
function copyPages(buf: DmaBuf, start: number, bytes: Uint8Array, into: 'buffer' | 'bytes'): void {
  const end = start + bytes.length;
  for (let page = Math.floor(start / PAGE_SIZE); page * PAGE_SIZE < end; page++) {
    const view = buf.kmap(page);
    try {
      const base = page * PAGE_SIZE;
      const from = Math.max(start, base);
      const to = Math.min(end, base + view.length);
      if (into === 'buffer') view.set(bytes.subarray(from - start, to - start), from - base);
      else bytes.set(view.subarray(from - base, to - base), from - start);
    } finally {
      buf.kunmap(page, view);
    }
  }
}

// Per buffer: settles once every write RPC that has arrived so far has ended.
const writesEnded = new WeakMap<DmaBuf, Promise<void>>();

/**
 * Takes bytes a read serves: `owned` says they are the whole of an array of their own that
 * the callee may keep (transfer); otherwise they are a view of the buffer's pages, or a
 * source that copies them out of its pages, read until the returned promise settles.
 */
export type ServeDelivery = (bytes: Uint8Array | ByteSource, owned: boolean) => Promise<void>;

/**
 * Reads `[start, start + len)` of `buf` through CPU access and hands the bytes to `deliver`
 * before the access ends, uncopied: a read of the whole buffer hands over the pages
 * themselves (its `vmap` view), any other a source that copies them out of the pages
 * (`kmap`) where `deliver` puts them. Later writers of the exporter's realm wait (a `'read'`
 * turn in its reservation, entered with the access for the whole buffer, once it has begun
 * for a part) until `deliver` settles, so the bytes do not change under it. The fences the access adds are `link`'s peer's own (see `FenceLink.quietly`).
 * @throws {DmaBufError} what `beginCpuAccess` throws; what `kmap` throws while `deliver` copies.
 */
export async function serveRead(buf: DmaBuf, start: number, len: number, link: FenceLink, deliver: ServeDelivery): Promise<void> {
  buf.get();
  let hold: ResvTurn | undefined;
  try {
    const writes = writesEnded.get(buf);
    if (writes) await writes;
    // A range as long as the buffer starts at 0 (beginCpuAccess refuses any other).
    const whole = len === buf.size;
    await link.quietly(() => {
      // Entered with the access, in its place in call order: nothing written after it goes first.
      if (whole) hold = buf.resv.enter('read');
      return buf.beginCpuAccess(start, len, 'from-device');
    });
    // A part is placed by the exporter's beginCpuAccess; its writers called from now on wait until the bytes are delivered.
    hold ??= link.quietly(() => buf.resv.enter('read'));
    try {
      const pages = whole ? vmapOf(buf) : undefined;
      if (pages) {
        try {
          await deliver(pages, false);
        } finally {
          buf.vunmap(pages);
        }
      } else {
        await deliver({ length: len, copyTo: (at, into) => { copyPages(buf, start + at, into, 'bytes'); } }, false);
      }
    } finally {
      buf.endCpuAccess(start, len, 'from-device');
    }
  } finally {
    hold?.done();
    buf.put();
  }
}

/**
 * Writes `bytes` into `buf` at `start` through CPU access: exactly those bytes. The fences
 * the access adds are `link`'s peer's own (see `FenceLink.quietly`). The bytes copied into
 * the buffer's pages are counted by `copied`.
 * @throws {DmaBufError} what `beginCpuAccess` throws.
 */
export async function serveWrite(buf: DmaBuf, start: number, bytes: Uint8Array, link: FenceLink, copied: CountCopy = uncounted): Promise<void> {
  buf.get();
  const before = writesEnded.get(buf);
  let ended: () => void = () => undefined;
  const mine = new Promise<void>((resolve) => {
    ended = resolve;
  });
  writesEnded.set(buf, mine);
  try {
    if (before) await before;
    await link.quietly(() => buf.beginCpuAccess(start, bytes.length, 'to-device'));
    try {
      // One copy where the exporter can hand out the whole buffer at once (a range as long as the buffer starts at 0).
      const whole = bytes.length === buf.size ? vmapOf(buf) : undefined;
      if (whole) {
        whole.set(bytes);
        buf.vunmap(whole);
      } else {
        copyPages(buf, start, bytes, 'buffer');
      }
      copied(bytes.length);
    } finally {
      link.quietly(() => { buf.endCpuAccess(start, bytes.length, 'to-device'); });
    }
  } finally {
    ended();
    if (writesEnded.get(buf) === mine) writesEnded.delete(buf);
    buf.put();
  }
}
