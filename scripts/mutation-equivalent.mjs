// Surviving mutants judged equivalent: no caller can tell the mutated code from the original,
// so no test can kill them. scripts/mutation-report.mjs lists them apart in docs/mutation.md,
// each with its reason. A note names the mutant as docs/mutation.md shows it (file, mutator,
// the code, its replacement and the line it is in, as `snippet` prints them), not by line
// number, so it outlives edits above it; a note that no longer matches any mutant is listed at
// the end of docs/mutation.md, to be updated or removed.

/**
 * @typedef {{ file: string, mutator: string, line: string, original: string, replacement: string, reason: string }} Equivalent
 */

/** @type {readonly Equivalent[]} */
export const EQUIVALENT = [];
