// `npm run test:mutation`: mutation testing of src/ and remote/ with StrykerJS against the
// Node tests (stryker.config.mjs), then docs/mutation.md from its JSON report. Arguments go to
// `stryker run`: `npm run test:mutation -- --mutate src/fd-table.ts` tests one file's mutants,
// and its page goes to reports/mutation/mutation.md, so docs/mutation.md always shows a full
// run. Exits with Stryker's status: non-zero below the threshold `break`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePackages, fail, root } from './bootstrap.mjs';
import { writeReport } from './mutation-report.mjs';
import { mutationTestFiles } from './mutation-tests.mjs';

ensurePackages();

const extra = process.argv.slice(2);
const partial = extra.some((arg) => arg === '--mutate' || arg === '-m' || arg.startsWith('--mutate='));
const json = join(root, 'reports/mutation/mutation.json');
const started = Date.now();

const stryker = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'stryker.cmd' : 'stryker');
const result = spawnSync(stryker, ['run', 'stryker.config.mjs', ...extra], { stdio: 'inherit', cwd: root });
if (result.error) fail(`could not run stryker: ${result.error.message}`);

// A report from this run (Stryker writes one even when the score is under the threshold).
if (!existsSync(json) || statSync(json).mtimeMs < started) process.exit(result.status ?? 1);
const command = ['npm run test:mutation', ...(extra.length > 0 ? ['--', ...extra] : [])].join(' ');
writeReport(json, join(root, partial ? 'reports/mutation/mutation.md' : 'docs/mutation.md'), { partial, command });

// Stryker's Vitest runner drops a test file that fails to load (an import the sandbox lacks)
// without a word, and its mutants then survive for want of the tests: name such files.
/** @type {{ testFiles?: Record<string, unknown> }} */
const report = JSON.parse(readFileSync(json, 'utf8'));
const ran = new Set(Object.keys(report.testFiles ?? {}));
const missing = mutationTestFiles().filter((file) => !ran.has(file));
if (missing.length > 0) {
  fail(`these test files did not run in Stryker's sandbox (see stryker.config.mjs, ignorePatterns): ${missing.join(', ')}`);
}
process.exit(result.status ?? 1);
