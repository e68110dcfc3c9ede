/**
 * A remote buffer's CPU access in the importing realm: local pages over which `kmap` and
 * `vmap` hand out views. Nothing stays open in the exporter's realm between messages: a
 * reading `beginCpuAccess` reads the page cover of its range there (one self-contained
 * byte RPC), and an `endCpuAccess` that writes sends exactly its range back (another).
 *
 * The pages are one `ArrayBuffer` of the buffer's size, made when CPU access begins and
 * detached when the last range ends, so a view kept past the end reads as empty, as the
 * stock exporter's do once no range covers them; its memory moves to a new `ArrayBuffer`
 * (no copy) kept for the next access. A writing range that is the last to end sends its
 * bytes from that memory itself, which is kept only once the write has read it; one that
 * ends while others are active sends a copy of its range. Overlapping ranges share the pages: a
 * reading begin refreshes its cover from the exporter, piece by piece as the bytes come,
 * except the bytes that an active writing range covers, which keep the CPU's writes.
 */
import type { DmaDirection } from '../src/direction.js';
import { PAGE_SIZE } from '../src/page.js';
import type { RemoteBytes } from './device-access.js';

interface Range {
  readonly start: number;
  readonly len: number;
  readonly dir: DmaDirection;
}

/** Whether CPU access in `dir` reads what the devices (the exporter) hold. */
const reads = (dir: DmaDirection): boolean => dir === 'from-device' || dir === 'bidirectional';
/** Whether CPU access in `dir` writes for the devices: its range goes back at its end. */
const writes = (dir: DmaDirection): boolean => dir === 'to-device' || dir === 'bidirectional';

/**
 * Detaches `buffer`, so that every view of it reads as empty, and returns its memory as a
 * new `ArrayBuffer`: moved, not copied (`transfer`, or a structured clone that transfers it).
 */
function detach(buffer: ArrayBuffer): ArrayBuffer {
  const transferable = buffer as ArrayBuffer & { transfer?: () => ArrayBuffer };
  if (typeof transferable.transfer === 'function') return transferable.transfer();
  return structuredClone(buffer, { transfer: [buffer] });
}

/** The local pages of one proxy. */
export class ProxyPages {
  readonly #bytes: RemoteBytes;
  readonly #ranges: Range[] = [];
  #pages: Uint8Array | undefined;
  // The last pages' memory, for the next access once they are detached.
  #spare: ArrayBuffer | undefined;
  // Reading begins whose bytes are still coming: the pages stay while they do.
  #reading = 0;
  #released = false;

  constructor(bytes: RemoteBytes) {
    this.#bytes = bytes;
  }

  /** The beginCpuAccess op: fills the cover of a reading range from the exporter's realm. */
  async begin(start: number, len: number, dir: DmaDirection): Promise<void> {
    const { size } = this.#bytes;
    if (reads(dir)) {
      const from = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
      const to = Math.min(size, Math.ceil((start + len) / PAGE_SIZE) * PAGE_SIZE);
      this.#reading += 1;
      try {
        await this.#bytes.read(from, to - from, (at, chunk) => { this.#refresh(from + at, chunk); });
      } catch (error) {
        this.#reading -= 1;
        this.#detachIfUnused();
        throw error;
      }
      // The range is recorded below, in the same turn: the pages stay for it.
      this.#reading -= 1;
    }
    this.#ensure();
    this.#ranges.push({ start, len, dir });
  }

  /** The endCpuAccess op: sends a writing range back, exactly; never throws. */
  end(start: number, len: number, dir: DmaDirection): void {
    // DmaBuf calls this only for a range it has active, which begin recorded here.
    this.#ranges.splice(this.#ranges.findIndex((r) => r.start === start && r.len === len && r.dir === dir), 1);
    const pages = this.#pages;
    if (pages && writes(dir)) {
      // The bytes as of this call; the write's place in call order is taken now too. The last
      // range to end detaches the pages: their memory itself goes to the write, no copy, and
      // is kept for the next access only once the write has read it.
      const memory = this.#ranges.length === 0 && this.#reading === 0 ? detach(pages.buffer as ArrayBuffer) : undefined;
      let out: Uint8Array;
      if (memory) {
        this.#pages = undefined;
        out = new Uint8Array(memory, start, len);
      } else {
        out = pages.slice(start, start + len);
        this.#bytes.copied(len);
      }
      const read = () => {
        if (memory && !this.#released) this.#spare ??= memory;
      };
      this.#bytes.reserveWrite().write(start, out).then(read, () => {
        // endCpuAccess cannot fail: a write that cannot reach a dead exporter is lost with it.
        read();
      });
    }
    this.#detachIfUnused();
  }

  /** The kmap and kmapAtomic op: a view of one page (shorter for the last). */
  page(page: number): Uint8Array {
    const pages = this.#ensure();
    return pages.subarray(page * PAGE_SIZE, Math.min(pages.length, (page + 1) * PAGE_SIZE));
  }

  /** The vmap op: one view of the whole buffer. */
  whole(): Uint8Array {
    return this.#ensure();
  }

  /** Forgets every range (the proxy is released) and detaches the pages. */
  release(): void {
    this.#released = true;
    this.#ranges.length = 0;
    this.#spare = undefined;
    const pages = this.#pages;
    this.#pages = undefined;
    if (pages) detach(pages.buffer as ArrayBuffer);
  }

  #ensure(): Uint8Array {
    if (!this.#pages) {
      // This buffer's own earlier pages: a write-only window may show its own earlier CPU bytes, as the stock exporter's may.
      const spare = this.#spare;
      this.#spare = undefined;
      this.#pages = spare ? new Uint8Array(spare) : new Uint8Array(this.#bytes.size);
    }
    return this.#pages;
  }

  /** Detaches the pages once no range is active and no read is filling them, keeping their memory. */
  #detachIfUnused(): void {
    const pages = this.#pages;
    if (!pages || this.#ranges.length > 0 || this.#reading > 0) return;
    this.#pages = undefined;
    this.#spare = detach(pages.buffer as ArrayBuffer);
  }

  /** Copies `fresh` in at `from`, except the bytes writing ranges active now cover. */
  #refresh(from: number, fresh: Uint8Array): void {
    const pages = this.#ensure();
    const to = from + fresh.length;
    // The overlap of each writing range with [from, to): empty for a range outside it.
    const kept = this.#ranges
      .filter((r) => writes(r.dir))
      .map((r) => {
        const start = Math.max(r.start, from);
        const end = Math.min(r.start + r.len, to);
        return { start, bytes: pages.slice(start, end) };
      });
    pages.set(fresh, from);
    let copied = fresh.length;
    for (const { start, bytes } of kept) {
      pages.set(bytes, start);
      copied += 2 * bytes.length;
    }
    this.#bytes.copied(copied);
  }
}
