// Two saved benchmark runs, one against the other, without running anything:
//
//   node scripts/bench-compare.mjs [--noise N] A.json B.json
//
// B's figures against A's (above 1: B is faster), each "ours vs raw" ratio's change flagged
// beyond the noise (default 0.2). The comparison itself: bench/compare-runs.mjs.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareReports, comparisonText, parseNoise, readReport } from '../bench/compare-runs.mjs';

/** The command line; returns the exit status. */
function main() {
  const usage = 'node scripts/bench-compare.mjs [--noise N] A.json B.json   (B against A: above 1 is B faster)';
  /** @type {{ values: { noise?: string, help?: boolean }, positionals: string[] }} */
  const { values, positionals } = parseArgs({ options: { noise: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const [first, second] = positionals;
  if (positionals.length !== 2 || first === undefined || second === undefined) {
    console.error(`usage: ${usage}`);
    return 2;
  }
  try {
    const noise = parseNoise(values.noise);
    const base = readReport(resolve(first));
    const current = readReport(resolve(second));
    const rows = compareReports(base, current, { noise });
    console.log(comparisonText(base, current, rows, { noise, baseName: 'A', currentName: 'B', baseFile: first, currentFile: second }));
    return 0;
  } catch (error) {
    console.error(`webgpu-dmabuf: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = main();
