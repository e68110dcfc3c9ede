/**
 * DOC: CPU access on the GPU
 *
 * `beginCpuAccess` stages pages of a buffer's storage in CPU memory, `kmap` hands out
 * windows on them, `endCpuAccess` writes back what the CPU wrote. One buffer's staged pages
 * are shared by all its CPU-access ranges, as the kernel's `kmap` returns the one page:
 *
 * 1. A page is staged once, by the first range that covers it, and stays staged while any
 *    range (active, or still beginning) covers it. Every `kmap` of it returns a view of the
 *    same bytes, whichever range it is reached through.
 * 2. How a page is first staged follows the direction of the range that stages it: read from
 *    the storage into `MAP_READ` staging (`'from-device'`, `'bidirectional'`); blank when the
 *    CPU only writes (`'to-device'`: plain memory up to 2 MiB, else mapped `MAP_WRITE`
 *    staging, either zeroed unless it last held this buffer's own bytes) or does neither
 *    (`'none'`: zeroed plain memory).
 * 3. A range that reads and begins over pages already staged reads them again from the
 *    storage, in its turn in the buffer's reservation, and refreshes the staged bytes, except
 *    bytes of every range that writes and was active at any time since the reading range
 *    began: those are the CPU's (its writes may not have reached the storage the read saw).
 *    So a reading range sees every write-back called before it, and the CPU's writes in
 *    progress. A refresh older than one already applied to a page is dropped.
 * 4. `endCpuAccess` of a range that writes writes back exactly its bytes, from the shared
 *    pages, in its turn in the reservation: at once when nothing is ahead of it, otherwise
 *    from a copy of the bytes taken at the call. So a write through any window lands once
 *    every range that writes over it has ended, and the last range to end sets the bytes.
 * 5. A page goes back to the staging pool when the last range over it ends, or the buffer is
 *    released; views on it are detached then (length 0).
 *
 * What two overlapping ranges see, A active and B begun over it (either may end first):
 * | A \ B | `'from-device'` | `'to-device'` | `'bidirectional'` | `'none'` |
 * | --- | --- | --- | --- | --- |
 * | `'from-device'` | both see the storage as of B's begin | B sees A's staged bytes; B's writes land at B's end | B sees the storage as of its begin; writes land at B's end | B sees A's staged bytes |
 * | `'to-device'` | B sees the storage, with A's bytes over A's range | shared blank pages: writes through either land at each end | as `'from-device'`, and B's writes land too | B sees A's bytes |
 * | `'bidirectional'` | B sees the storage, with A's bytes over A's range | shared pages; writes land at each end | B sees the storage with A's bytes over A's range | B sees A's bytes |
 * | `'none'` | B sees the storage as of its begin | B sees zeros; writes land at B's end | B sees the storage as of its begin | shared zeros |
 */
import type { DmaResv } from '../src/dma-resv.js';
import { DmaBufError } from '../src/error.js';
import type { DmaDirection } from '../src/direction.js';
import { PAGE_SIZE } from '../src/page.js';
import { queueDone } from './device-loss.js';
import { alignDown, alignUp, segmentPieces, type Segment } from './segments.js';
import type { StagingPool } from './staging-pool.js';
import { upload, type UploadPiece } from './upload-path.js';
import { patchWords, wordPatch, type WordPatch } from './word-patch.js';

/** What CPU access needs of the buffer and its heap. */
export interface CpuPagesContext {
  readonly device: GPUDevice;
  readonly segments: readonly Segment[];
  readonly size: number;
  readonly pool: StagingPool;
  /** The dma-buf: its reservation orders the reads and write-backs, and staging it used last holds no one else's bytes. */
  readonly buf: { readonly resv: DmaResv };
  /** Throws when nothing may be queued for `call` any more (the buffer released, its device lost). */
  guard(call: string): void;
  /** Settles once WebGPU has said whether the storage could be created; throws `ENOMEM` when it could not. */
  allocated(call: string): Promise<void> | undefined;
}

/** A run of staged pages: one piece of CPU memory holding the dma-buf's bytes `[at, at + length)`. */
interface Span {
  readonly at: number;
  readonly length: number;
  /** Where the bytes live: mapped staging, or plain memory when `undefined`. */
  readonly staging: GPUBuffer | undefined;
  /** Whether the staging is `MAP_WRITE` (only such a span may be written back by a GPU copy). */
  readonly writeStaging: boolean;
  /** Whether reused `MAP_WRITE` staging may hold another buffer's bytes, to be cleared once mapped. */
  readonly dirty: boolean;
  /** The bytes, once staged. */
  bytes: ArrayBuffer | undefined;
  /** Settles once `bytes` is set, or with the error that stopped its staging. */
  readonly staged: Promise<void>;
  /** Ranges that use the span, active or beginning. */
  users: number;
  /** Per page of the span: the reading begin whose storage read the page shows, by entry order (0: none). */
  readonly fresh: Uint32Array;
  released: boolean;
}

/** Fresh bytes read for the part `[at, at + length)` of a shared span (rule 3). */
interface Refresh {
  readonly span: Span;
  readonly at: number;
  readonly length: number;
  readonly staging: GPUBuffer;
}

interface Range {
  readonly start: number;
  readonly len: number;
  readonly dir: DmaDirection;
  readonly spans: readonly Span[];
}

/** A piece of memory holding dma-buf bytes from `at` on. */
interface Source {
  readonly at: number;
  readonly bytes: ArrayBuffer;
  readonly offset: number;
  readonly length: number;
}

const readsBack = (dir: DmaDirection) => dir === 'from-device' || dir === 'bidirectional';
const writesBack = (dir: DmaDirection) => dir === 'to-device' || dir === 'bidirectional';

/** What a span of plain memory waits for: nothing. */
const STAGED = Promise.resolve();

/**
 * Up to this many bytes, a write-only span is plain memory, there at once and flushed by an
 * upload (`upload-path.ts`); larger ones are mapped `MAP_WRITE` staging, which waits for its
 * map at begin but is copied on the GPU at end. A latency bound for begin, not a choice of
 * upload path: the upload measurement does not decide it.
 */
const SMALL_WRITE_BYTES = 2 * 1024 * 1024;

/** The page-aligned cover of `[start, start + len)` in a buffer of `size` bytes, its end rounded up to a word. */
function coverOf(start: number, len: number, size: number): [number, number] {
  return [alignDown(start, PAGE_SIZE), alignUp(Math.min(alignUp(start + len, PAGE_SIZE), size), 4)];
}

/**
 * The staged pages of one buffer and the CPU-access ranges over them: see the DOC block at
 * the top of this file. Owned by the exporter's private data of the buffer.
 */
export class CpuPages {
  readonly #context: CpuPagesContext;
  readonly #spans: Span[] = [];
  readonly #active: Range[] = [];
  #reads = 0;
  // Rule 3's memory: writing ranges that ended while a refresh was under way, by end order.
  readonly #ended: { readonly start: number; readonly len: number; readonly epoch: number }[] = [];
  #epoch = 0;
  #refreshing = 0;

  constructor(context: CpuPagesContext) {
    this.#context = context;
  }

  /**
   * Stages `[start, start + len)` for CPU access in `dir` and records the range once it is
   * ready. Called synchronously by `beginCpuAccess`, so that its read enters the
   * reservation in call order. Resolves with the bytes copied out of the storage; rejects
   * with what `guard` threw or the `mapAsync` error, leaving nothing recorded.
   */
  async begin(start: number, len: number, dir: DmaDirection): Promise<number> {
    const { buf: { resv }, size } = this.#context;
    const [coverStart, coverEnd] = coverOf(start, len, size);
    const reading = readsBack(dir);
    const allocated = this.#context.allocated('beginCpuAccess');
    const turn = reading ? resv.enter('read') : undefined;
    // The CPU writes into a range begun only to write: it waits for readers and writers as a writer does.
    const writerWait = !reading && writesBack(dir) && !resv.idle ? resv.waitFor('write') : undefined;
    writerWait?.catch(() => undefined);
    const read = reading ? ++this.#reads : 0;
    const shared = this.#spans.filter((s) => s.at < coverEnd && s.at + s.length > coverStart);
    const created: { span: Span; finish: (error?: unknown) => void }[] = [];
    const spans: Span[] = [...shared];
    for (const span of shared) span.users += 1;
    let refreshes: Refresh[] = [];
    let retry = false;
    const refreshing = reading && shared.length > 0;
    const since = this.#epoch;
    if (refreshing) this.#refreshing += 1;
    try {
      for (const [at, length] of gapsOf(coverStart, coverEnd, shared, this.#spanMax())) {
        const fresh = this.#newSpan(at, length, dir, read);
        created.push(fresh);
        spans.push(fresh.span);
        this.#spans.push(fresh.span);
      }
      spans.sort((a, b) => a.at - b.at);
      if (turn?.ready) await turn.ready;
      if (writerWait) await writerWait;
      if (allocated) await allocated;
      this.#context.guard('beginCpuAccess');
      if (reading) refreshes = this.#submitReads(created.map((c) => c.span), shared, coverStart, coverEnd);
      turn?.done(queueDone(this.#context.device));
      const mapped = [...created.flatMap((c) => (c.span.staging ? [this.#stage(c.span, dir)] : [])), ...refreshes.map((r) => r.staging.mapAsync(GPUMapMode.READ, 0, r.length))];
      if (mapped.length > 0) await Promise.all(mapped);
      // A range whose begin failed (a fence it waited for failed) leaves its pages unstaged:
      // that failure is not this range's, which begins again with pages of its own.
      if (shared.length > 0) retry = (await Promise.all(shared.map((span) => span.staged.then(() => false, () => true)))).includes(true);
      if (retry) throw new DmaBufError('EIO', 'beginCpuAccess', 'pages this range shares were not staged');
      this.#context.guard('beginCpuAccess');
      for (const r of refreshes) this.#refresh(r.span, r.at, r.staging.getMappedRange(0, r.length), read, since);
    } catch (error) {
      // Pages this range staged are good when it only begins again: ranges that share them go
      // on. Staging it failed to map never will be: no later range may share it, or ranges
      // begun together would fail on each other's pages and begin again without end. (Plain
      // memory is there from the start: ranges that share it keep it.)
      for (const { span, finish } of created) {
        finish(retry ? undefined : error);
        if (!retry && span.staging) this.#unlist(span);
      }
      for (const span of spans) this.#drop(span);
      // Released or lost on the way: say so, rather than how a map failed because of it.
      this.#context.guard('beginCpuAccess');
      if (!retry) throw error;
    } finally {
      turn?.done();
      for (const r of refreshes) this.#context.pool.release(r.staging);
      if (refreshing && --this.#refreshing === 0) this.#ended.length = 0;
    }
    // In a later turn: a reading range then sees every write called before it, and perhaps later ones.
    if (retry) return this.begin(start, len, dir);
    this.#active.push({ start, len, dir, spans });
    for (const { finish } of created) finish();
    return reading ? coverEnd - coverStart : 0;
  }

  /**
   * Ends the newest active range with this start, length and direction: writes back exactly
   * `[start, start + len)` when it writes (rule 4), then gives back the pages no other range
   * covers. Returns the bytes written back; 0 when no such range is active.
   */
  end(start: number, len: number, dir: DmaDirection): number {
    const index = this.#active.findLastIndex((r) => r.start === start && r.len === len && r.dir === dir);
    const [range] = index >= 0 ? this.#active.splice(index, 1) : [];
    if (!range) return 0;
    let written = 0;
    if (writesBack(dir)) {
      if (this.#refreshing > 0) this.#ended.push({ start, len, epoch: ++this.#epoch });
      const turn = this.#context.buf.resv.enter('write');
      // Nothing ahead: written back within the call.
      if (!turn.ready) {
        try {
          this.#context.guard('endCpuAccess');
          this.#writeBack(range);
          written = len;
          turn.done(queueDone(this.#context.device));
        } catch {
          // endCpuAccess always succeeds: with the buffer released or its device lost, the bytes have nowhere to go.
        } finally {
          turn.done();
        }
      } else {
        const copy = this.#snapshot(range);
        // endCpuAccess always succeeds: the bytes are written back even when a fence it
        // waited for signalled with an error (that error is the waiting reader's, not ours).
        const flush = () => {
          try {
            this.#context.guard('endCpuAccess');
            this.#writeSources([copy], start, start + len);
            turn.done(queueDone(this.#context.device));
          } catch {
            // As above: nowhere to go.
          } finally {
            turn.done();
          }
        };
        void turn.ready.then(flush, flush);
        written = len;
      }
    }
    for (const span of range.spans) this.#drop(span);
    return written;
  }

  /**
   * Writes `bytes` at `start` into the storage in a write turn of the reservation entered now
   * (`DmaBuf.write`): whole words in one upload (`upload-path.ts`), the partial words at the
   * ends patched on the GPU. Staged pages are left as they are: ranges open over them see the
   * storage as of their begin, as after any other write. Resolves once the write is queued.
   */
  async write(start: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    const turn = this.#context.buf.resv.enter('write');
    try {
      if (turn.ready) await turn.ready;
      const allocated = this.#context.allocated('write');
      if (allocated) await allocated;
      this.#context.guard('write');
      this.#writeSources([{ at: start, bytes: bytes.buffer, offset: bytes.byteOffset, length: bytes.length }], start, start + bytes.length);
      turn.done(queueDone(this.#context.device));
    } finally {
      turn.done();
    }
  }

  /** A view of `page` (`PAGE_SIZE` bytes, fewer at the buffer's end), or `undefined` when it is not staged. */
  view(page: number): Uint8Array | undefined {
    const at = page * PAGE_SIZE;
    // A plain loop: this runs once per kmap.
    for (const span of this.#spans) {
      if (at >= span.at && at < span.at + span.length && span.bytes) {
        return new Uint8Array(span.bytes, at - span.at, Math.min(PAGE_SIZE, this.#context.size - at));
      }
    }
    return undefined;
  }

  /**
   * The whole buffer as one view, when one span holds all of it (a range begun over the
   * whole buffer, within the device's `maxBufferSize`): `vmap`.
   * @throws {DmaBufError} `ERANGE` when the bytes are staged in more than one piece.
   */
  wholeView(): Uint8Array {
    const { size } = this.#context;
    for (const span of this.#spans) if (span.at === 0 && span.length >= size && span.bytes) return new Uint8Array(span.bytes, 0, size);
    throw new DmaBufError('ERANGE', 'vmap', `the buffer's ${size} bytes are staged in more than one piece; begin one CPU-access range over the whole buffer (at most maxBufferSize, ${this.#spanMax()} bytes)`);
  }

  /** Gives every page back, at release: the ranges end without writing back. */
  release(): void {
    this.#active.length = 0;
    for (const span of this.#spans.splice(0)) this.#free(span);
  }

  #spanMax(): number {
    return alignDown(this.#context.device.limits.maxBufferSize, PAGE_SIZE);
  }

  /** A span not yet staged; `finish` settles its `staged` promise. */
  #newSpan(at: number, length: number, dir: DmaDirection, read: number): { span: Span; finish: (error?: unknown) => void } {
    const { pool, device, buf: owner } = this.#context;
    const reading = readsBack(dir);
    const plain = !reading && (dir === 'none' || length <= SMALL_WRITE_BYTES);
    // Plain memory is there at once and for good; staging is there once mapped, or never.
    let finish: (error?: unknown) => void = () => undefined;
    const staged = plain
      ? STAGED
      : new Promise<void>((resolve, reject) => {
          finish = (error) => {
            if (error === undefined) resolve();
            else reject(error instanceof Error ? error : new Error('staging failed', { cause: error }));
          };
        });
    // A joiner that never awaits it must not make its failure unobserved.
    staged.catch(() => undefined);
    let staging: GPUBuffer | undefined;
    let dirty = false;
    if (!plain) ({ buffer: staging, dirty } = pool.acquireFor(owner, device, reading ? 'read' : 'write', length));
    const fresh = new Uint32Array(Math.ceil(length / PAGE_SIZE)).fill(read);
    const span: Span = { at, length, staging, writeStaging: !plain && !reading, dirty: !plain && !reading && dirty, bytes: undefined, staged, users: 1, fresh, released: false };
    // A write-only window may show this buffer's own earlier CPU bytes (rule 2); 'none' shows zeros.
    if (plain) span.bytes = pool.acquireHost(length, owner, dir === 'to-device');
    return { span, finish };
  }

  /** Maps a created span's staging (its copy, if any, is already submitted). */
  async #stage(span: Span, dir: DmaDirection): Promise<void> {
    const { staging } = span;
    if (!staging) return;
    const reading = readsBack(dir);
    await staging.mapAsync(reading ? GPUMapMode.READ : GPUMapMode.WRITE, 0, span.length);
    if (span.released) return;
    const bytes = staging.getMappedRange(0, span.length);
    // A pooled write buffer still holds its last user's bytes: never show another buffer's.
    if (span.dirty) new Uint8Array(bytes).fill(0);
    span.bytes = bytes;
  }

  /** Submits, in one command buffer, the copies of the storage into new reading spans and into refresh staging for shared ones. */
  #submitReads(created: readonly Span[], shared: readonly Span[], coverStart: number, coverEnd: number): Refresh[] {
    const { device, segments, pool } = this.#context;
    const encoder = device.createCommandEncoder({ label: 'dmabuf beginCpuAccess' });
    const copy = (to: GPUBuffer, at: number, length: number) => {
      for (const piece of segmentPieces(segments, at, length)) encoder.copyBufferToBuffer(piece.buffer, piece.offset, to, piece.at - at, piece.length);
    };
    for (const span of created) if (span.staging) copy(span.staging, span.at, span.length);
    const refreshes = shared.map((span) => {
      const at = Math.max(span.at, coverStart);
      const length = Math.min(span.at + span.length, coverEnd) - at;
      const staging = pool.acquire(device, 'read', length);
      copy(staging, at, length);
      return { span, at, length, staging };
    });
    device.queue.submit([encoder.finish()]);
    return refreshes;
  }

  /**
   * Rule 3: copies freshly read bytes into a shared span, page by page, except over writing
   * ranges active since `since`, and except pages a newer read has refreshed already (reads
   * begun together over different parts of a span may finish in any order).
   */
  #refresh(span: Span, at: number, fresh: ArrayBuffer, read: number, since: number): void {
    const bytes = span.bytes;
    if (!bytes || span.released) return;
    const target = new Uint8Array(bytes);
    const source = new Uint8Array(fresh);
    const end = at + fresh.byteLength;
    const writers = [...this.#active.filter((r) => writesBack(r.dir)), ...this.#ended.filter((e) => e.epoch > since)];
    const kept = writers
      .filter((r) => r.start < end && r.start + r.len > at)
      .map((r) => [Math.max(r.start, at), Math.min(r.start + r.len, end)] as const);
    for (let page = (at - span.at) / PAGE_SIZE; span.at + page * PAGE_SIZE < end; page++) {
      if (read < (span.fresh[page] ?? 0)) kept.push([span.at + page * PAGE_SIZE, span.at + (page + 1) * PAGE_SIZE]);
      else span.fresh[page] = read;
    }
    kept.sort((a, b) => a[0] - b[0]);
    let from = at;
    for (const [a, b] of [...kept, [end, end] as const]) {
      if (a > from) target.set(source.subarray(from - at, a - at), from - span.at);
      from = Math.max(from, b);
    }
  }

  /** One user fewer; the span is freed when it was the last. */
  #drop(span: Span): void {
    span.users -= 1;
    if (span.users > 0 || span.released) return;
    this.#unlist(span);
    this.#free(span);
  }

  /** Takes the span out of those later ranges may share; its users keep it until they drop it. */
  #unlist(span: Span): void {
    const index = this.#spans.indexOf(span);
    if (index >= 0) this.#spans.splice(index, 1);
  }

  #free(span: Span): void {
    if (span.released) return;
    span.released = true;
    const { pool } = this.#context;
    if (span.staging) pool.release(span.staging);
    else if (span.bytes) pool.releaseHost(span.bytes, this.#context.buf);
    span.bytes = undefined;
  }

  /** The range's bytes as they are in the shared pages. */
  #sources(range: Range): Source[] {
    const end = range.start + range.len;
    return range.spans.flatMap((span) => {
      const at = Math.max(range.start, span.at);
      const to = Math.min(end, span.at + span.length);
      return span.bytes && at < to ? [{ at, bytes: span.bytes, offset: at - span.at, length: to - at }] : [];
    });
  }

  /** A copy of the range's bytes, for a write-back that must wait for its turn. */
  #snapshot(range: Range): Source {
    const copy = new Uint8Array(range.len);
    for (const s of this.#sources(range)) copy.set(new Uint8Array(s.bytes, s.offset, s.length), s.at - range.start);
    return { at: range.start, bytes: copy.buffer, offset: 0, length: range.len };
  }

  /**
   * Writes the range back now. Whole words of a write-only range whose spans are `MAP_WRITE`
   * staging used by no other range are copied on the GPU (the staging unmapped first); the
   * rest is uploaded from the shared pages (`upload-path.ts`).
   */
  #writeBack(range: Range): void {
    const own = range.spans.every((s) => s.writeStaging && s.users === 1);
    if (!own || readsBack(range.dir)) {
      this.#writeSources(this.#sources(range), range.start, range.start + range.len);
      return;
    }
    const { device, segments } = this.#context;
    const start = range.start;
    const end = start + range.len;
    const [from, to] = [alignUp(start, 4), alignDown(end, 4)];
    // The partial words are read before unmapping detaches the bytes.
    const patches = edgePatches(this.#sources(range), start, end);
    const encoder = device.createCommandEncoder({ label: 'dmabuf endCpuAccess' });
    for (const span of range.spans) {
      if (!span.staging) continue;
      const a = Math.max(from, span.at);
      const b = Math.min(to, span.at + span.length);
      span.staging.unmap();
      span.bytes = undefined;
      for (const piece of a < b ? segmentPieces(segments, a, b - a) : []) {
        encoder.copyBufferToBuffer(span.staging, piece.at - span.at, piece.buffer, piece.offset, piece.length);
      }
    }
    device.queue.submit([encoder.finish()]);
    applyPatches(device, segments, patches);
  }

  /**
   * Writes `[start, end)` from `sources`: the whole words in one upload, by the path the
   * device's measurement chose for their size (`upload-path.ts`), then word patches for the
   * partial words at either end.
   */
  #writeSources(sources: readonly Source[], start: number, end: number): void {
    const { device, segments } = this.#context;
    const [from, to] = [alignUp(start, 4), alignDown(end, 4)];
    const pieces: UploadPiece[] = [];
    for (const s of sources) {
      const a = Math.max(from, s.at);
      const b = Math.min(to, s.at + s.length);
      for (const piece of a < b ? segmentPieces(segments, a, b - a) : []) {
        pieces.push({ buffer: piece.buffer, offset: piece.offset, data: new Uint8Array(s.bytes, s.offset + piece.at - s.at, piece.length), length: piece.length });
      }
    }
    upload(device, pieces);
    applyPatches(device, segments, edgePatches(sources, start, end));
  }
}

/** The page-aligned gaps of `[start, end)` that no span covers, cut at `max` bytes. */
function gapsOf(start: number, end: number, spans: readonly Span[], max: number): [number, number][] {
  const gaps: [number, number][] = [];
  const push = (a: number, b: number) => {
    for (let at = a; at < b; at += max) gaps.push([at, Math.min(max, b - at)]);
  };
  let at = start;
  for (const span of [...spans].sort((a, b) => a.at - b.at)) {
    if (span.at > at) push(at, Math.min(span.at, end));
    at = Math.max(at, span.at + span.length);
  }
  if (at < end) push(at, end);
  return gaps;
}

/** The byte at dma-buf offset `at` in `sources` (0 when none holds it). */
function byteAt(sources: readonly Source[], at: number): number {
  const s = sources.find((x) => at >= x.at && at < x.at + x.length);
  return s ? (new Uint8Array(s.bytes, s.offset + at - s.at, 1)[0] ?? 0) : 0;
}

/** The partial words at the ends of `[start, end)`, with the bytes for them. */
function edgePatches(sources: readonly Source[], start: number, end: number): { at: number; patch: WordPatch }[] {
  const words = new Set<number>();
  if (start % 4 !== 0) words.add(alignDown(start, 4));
  if (end % 4 !== 0) words.add(alignDown(end, 4));
  return [...words].map((at) => {
    const from = Math.max(start, at) - at;
    const to = Math.min(end, at + 4) - at;
    const bytes = Array.from({ length: to - from }, (_, k) => byteAt(sources, at + from + k));
    return { at, patch: wordPatch(0, from, to, bytes) };
  });
}

function applyPatches(device: GPUDevice, segments: readonly Segment[], patches: readonly { at: number; patch: WordPatch }[]): void {
  if (patches.length === 0) return;
  for (const segment of segments) {
    const own = patches.filter((p) => p.at >= segment.start && p.at < segment.start + segment.buffer.size);
    patchWords(device, segment.buffer, own.map((p) => ({ ...p.patch, word: (p.at - segment.start) / 4 })));
  }
}
