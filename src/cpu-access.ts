import type { BufInfoCpuAccess } from './bufinfo-entry.js';
import type { DmaDirection } from './direction.js';
import { pageOverlaps } from './page.js';

/** A range begun with `beginCpuAccess` and not yet ended. */
export interface CpuAccessRange {
  readonly start: number;
  readonly len: number;
  readonly direction: DmaDirection;
}

/** A page window handed out by `kmap` or `kmapAtomic` and not yet unmapped. */
interface PageWindow {
  readonly page: number;
  readonly view: Uint8Array;
  readonly atomic: boolean;
}

/**
 * One buffer's CPU-access bookkeeping: the active ranges (several may be active at once,
 * the same one more than once) and the page windows outstanding. Knows nothing of how the
 * exporter stages bytes.
 */
export class CpuAccessState {
  readonly #ranges: CpuAccessRange[] = [];
  readonly #windows: PageWindow[] = [];

  /** Records a range whose begin succeeded. */
  begin(range: CpuAccessRange): void {
    this.#ranges.push(range);
  }

  /** Removes one active range equal to the given one; false when there is none. */
  end(start: number, len: number, direction: DmaDirection): boolean {
    const index = this.#ranges.findIndex((r) => r.start === start && r.len === len && r.direction === direction);
    if (index < 0) return false;
    this.#ranges.splice(index, 1);
    return true;
  }

  /** Whether an active range covers any byte of `page`. */
  covers(page: number): boolean {
    return this.#ranges.some((r) => pageOverlaps(page, r.start, r.len));
  }

  /** Records a window handed out. */
  addWindow(page: number, view: Uint8Array, atomic: boolean): void {
    this.#windows.push({ page, view, atomic });
  }

  /** Removes the window `kmap`/`kmapAtomic` returned for `page` as `view`; false when there is none. */
  removeWindow(page: number, view: unknown, atomic: boolean): boolean {
    const index = this.#windows.findIndex((w) => w.page === page && w.view === view && w.atomic === atomic);
    if (index < 0) return false;
    this.#windows.splice(index, 1);
    return true;
  }

  /** The active ranges, as plain data. */
  ranges(): readonly BufInfoCpuAccess[] {
    return this.#ranges.map(({ start, len, direction }) => ({ start, len, direction }));
  }

  /** How many windows are outstanding, plain and atomic. */
  windowCounts(): { kmaps: number; atomicKmaps: number } {
    const atomicKmaps = this.#windows.filter((w) => w.atomic).length;
    return { kmaps: this.#windows.length - atomicKmaps, atomicKmaps };
  }

  /** Forgets everything (at release); returns how many atomic windows were outstanding. */
  clear(): number {
    const { atomicKmaps } = this.windowCounts();
    this.#ranges.length = 0;
    this.#windows.length = 0;
    return atomicKmaps;
  }
}
