/** The unit of CPU access, as in the kernel: kmap windows are one page each. */
export const PAGE_SIZE = 4096;

/** How many pages cover `size` bytes (the last one may be partial). */
export function pageCount(size: number): number {
  return Math.ceil(size / PAGE_SIZE);
}

/** Whether `page` overlaps the byte range `[start, start + len)`. */
export function pageOverlaps(page: number, start: number, len: number): boolean {
  return page * PAGE_SIZE < start + len && (page + 1) * PAGE_SIZE > start;
}
