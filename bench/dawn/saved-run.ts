/** Where a run in Node on Dawn is kept under docs/bench/runs/. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { savedRunName } from '../compare-runs.mjs';
import type { BenchReport } from '../report.js';

/**
 * Writes `report` into `dir` (made when missing) under bench/compare-runs.mjs' `savedRunName`
 * (which ends in `-dawn-node` for a run in Node); a second run of the
 * same day on the same adapter gets -2, -3...: a saved run is never overwritten.
 * Returns the file's path.
 */
export function saveDawnRun(report: BenchReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const name = savedRunName(report).replace(/\.json$/, '');
  let file = join(dir, `${name}.json`);
  for (let n = 2; existsSync(file); n += 1) file = join(dir, `${name}-${n}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
