/**
 * The exporter's realm's side of the byte RPCs: each is self-contained CPU access on the
 * real buffer (begin, copy, end), so nothing stays open between messages. They take effect
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
import type { DmaBuf } from '../dma-buf.js';
import { addedFor } from '../dma-resv.js';
import { PAGE_SIZE } from '../page.js';

/** Copies between `buf`'s pages and `bytes` over `[start, start + bytes.length)`, CPU access being active there. */
function copyPages(buf: DmaBuf, start: number, bytes: Uint8Array, into: 'buffer' | 'bytes'): void {
  const end = start + bytes.length;
  if (start === 0 && end === buf.size) {
    // One copy where the exporter can hand out the whole buffer at once.
    let whole: Uint8Array | undefined;
    try {
      whole = buf.vmap();
    } catch {
      whole = undefined;
    }
    if (whole) {
      if (into === 'buffer') whole.set(bytes);
      else bytes.set(whole);
      buf.vunmap(whole);
      return;
    }
  }
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
 * Reads `[start, start + len)` of `buf` through CPU access. The caller owns the bytes. The
 * fences the access adds are `origin`'s (see `addedFor`).
 * @throws {DmaBufError} what `beginCpuAccess` throws.
 */
export async function serveRead(buf: DmaBuf, start: number, len: number, origin: unknown): Promise<Uint8Array> {
  buf.get();
  try {
    const writes = writesEnded.get(buf);
    if (writes) await writes;
    await addedFor(origin, () => buf.beginCpuAccess(start, len, 'from-device'));
    const bytes = new Uint8Array(len);
    try {
      copyPages(buf, start, bytes, 'bytes');
    } finally {
      buf.endCpuAccess(start, len, 'from-device');
    }
    return bytes;
  } finally {
    buf.put();
  }
}

/**
 * Writes `bytes` into `buf` at `start` through CPU access: exactly those bytes. The fences
 * the access adds are `origin`'s (see `addedFor`).
 * @throws {DmaBufError} what `beginCpuAccess` throws.
 */
export async function serveWrite(buf: DmaBuf, start: number, bytes: Uint8Array, origin: unknown): Promise<void> {
  buf.get();
  const before = writesEnded.get(buf);
  let ended: () => void = () => undefined;
  const mine = new Promise<void>((resolve) => {
    ended = resolve;
  });
  writesEnded.set(buf, mine);
  try {
    if (before) await before;
    await addedFor(origin, () => buf.beginCpuAccess(start, bytes.length, 'to-device'));
    try {
      copyPages(buf, start, bytes, 'buffer');
    } finally {
      addedFor(origin, () => { buf.endCpuAccess(start, bytes.length, 'to-device'); });
    }
  } finally {
    ended();
    if (writesEnded.get(buf) === mine) writesEnded.delete(buf);
    buf.put();
  }
}
