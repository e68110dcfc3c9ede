// How the benchmark writes sizes and figures, the one home of both: the page's tables and
// chart, the text report, and the comparison of saved runs, which plain Node runs (hence
// JavaScript with JSDoc types).

/**
 * A byte size as the tables show it, in the largest unit that divides it: `4 KiB`, `64 MiB`.
 * @param {number} bytes
 * @returns {string}
 */
export function formatSize(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit += 1;
  }
  return `${value} ${units[unit] ?? 'B'}`;
}

/**
 * `x` with three significant digits, no exponent for the ranges a bench shows.
 * @param {number} x
 * @returns {string}
 */
export function sig3(x) {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 6));
}
