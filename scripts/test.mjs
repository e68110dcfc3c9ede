// `npm test`: set up what is missing, then type check, lint, unit tests in Node and browser
// tests in headless Chromium with real WebGPU, in that order, stopping at the first failure.
// Extra arguments go to both Vitest runs (for example a test file's path).
import { join } from 'node:path';
import { ensureChromium, ensurePackages, root, run } from './bootstrap.mjs';

ensurePackages();
const chrome = ensureChromium();
const env = { ...process.env, CHROME_PATH: chrome };
/** @param {string} name */
const bin = (name) => join(root, 'node_modules', '.bin', name);
const extra = process.argv.slice(2);
// A run narrowed to some files finds none in one of the two projects: that is not a failure.
const narrowed = extra.length > 0 ? ['--passWithNoTests'] : [];

/** @type {[string, string, string[]][]} */
const steps = [
  ['type check', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
  ['lint', bin('eslint'), ['--max-warnings', '0', '.']],
  ['unit tests (Node)', bin('vitest'), ['run', '--project', 'unit', ...narrowed, ...extra]],
  ['browser tests (headless Chromium, WebGPU)', bin('vitest'), ['run', '--project', 'browser', ...narrowed, ...extra]],
];
for (const [title, command, args] of steps) {
  console.log(`\n== ${title} ==`);
  run(command, args, { env });
}
