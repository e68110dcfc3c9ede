import type { BufInfoCpuAccess } from './bufinfo-entry.js';
import type { DmaDirection } from './direction.js';
import { pageOverlaps } from './page.js';

/** A range begun with `beginCpuAccess` and not yet ended. */
export interface CpuAccessRange {
  readonly start: number;
  readonly len: number;
  readonly direction: DmaDirection;
}

/**
 * One buffer's CPU-access bookkeeping: the active ranges (several may be active at once,
 * the same one more than once) and the page windows outstanding. Knows nothing of how the
 * exporter stages bytes.
 */
export class CpuAccessState {
  readonly #ranges: CpuAccessRange[] = [];
  // Outstanding windows by page, plain and atomic apart (an exporter may hand the same view
  // out more than once), so that mapping and unmapping thousands of pages in any order
  // stays cheap: this is the hot path of page-by-page CPU access.
  readonly #plain = new Map<number, Uint8Array[]>();
  readonly #atomic = new Map<number, Uint8Array[]>();
  #kmaps = 0;
  #atomicKmaps = 0;

  /** Records a range whose begin succeeded. */
  begin(range: CpuAccessRange): void {
    this.#ranges.push(range);
  }

  /** Removes one active range equal to the given one; false when there is none. */
  end(start: number, len: number, direction: DmaDirection): boolean {
    const index = this.#ranges.findIndex((r) => r.start === start && r.len === len && r.direction === direction);
    if (index < 0) return false;
    this.#ranges.splice(index, 1);
    // Emptied page lists are kept while CPU access goes on (see removeWindow); drop them once it is over.
    if (this.#ranges.length === 0 && this.#kmaps === 0 && this.#atomicKmaps === 0) {
      this.#plain.clear();
      this.#atomic.clear();
    }
    return true;
  }

  /** Whether an active range covers any byte of `page`. */
  covers(page: number): boolean {
    // A plain loop: this runs once per kmap.
    for (const r of this.#ranges) if (pageOverlaps(page, r.start, r.len)) return true;
    return false;
  }

  /** Whether the active ranges together cover every byte of `[start, start + len)`. */
  coversRange(start: number, len: number): boolean {
    let reached = start;
    const end = start + len;
    // Few ranges are ever active at once: sort a copy, sweep once.
    for (const r of [...this.#ranges].sort((a, b) => a.start - b.start)) {
      if (r.start > reached) break;
      reached = Math.max(reached, r.start + r.len);
    }
    return reached >= end;
  }

  /** Records a window handed out. */
  addWindow(page: number, view: Uint8Array, atomic: boolean): void {
    const windows = atomic ? this.#atomic : this.#plain;
    const list = windows.get(page);
    if (list) list.push(view);
    else windows.set(page, [view]);
    if (atomic) this.#atomicKmaps += 1;
    else this.#kmaps += 1;
  }

  /** Removes the window `kmap`/`kmapAtomic` returned for `page` as `view`; false when there is none. */
  removeWindow(page: number, view: unknown, atomic: boolean): boolean {
    const windows = atomic ? this.#atomic : this.#plain;
    const list = windows.get(page);
    if (!list) return false;
    const index = list.indexOf(view as Uint8Array);
    if (index < 0) return false;
    // The page's list stays in the map even when empty: deleting and re-adding the entry on
    // every kmap/kunmap pair makes V8 shrink and regrow the map's table each time, which
    // made page-by-page access ten times slower.
    if (index === list.length - 1) list.pop();
    else list.splice(index, 1);
    if (atomic) this.#atomicKmaps -= 1;
    else this.#kmaps -= 1;
    return true;
  }

  /** The active ranges, as plain data. */
  ranges(): readonly BufInfoCpuAccess[] {
    return this.#ranges.map(({ start, len, direction }) => ({ start, len, direction }));
  }

  /** How many windows are outstanding, plain and atomic. */
  windowCounts(): { kmaps: number; atomicKmaps: number } {
    return { kmaps: this.#kmaps, atomicKmaps: this.#atomicKmaps };
  }

  /** Forgets everything (at release); returns how many atomic windows were outstanding. */
  clear(): number {
    const atomic = this.#atomicKmaps;
    this.#ranges.length = 0;
    this.#plain.clear();
    this.#atomic.clear();
    this.#kmaps = 0;
    this.#atomicKmaps = 0;
    return atomic;
  }
}
