// `npm test`: set up what is missing, then type check, lint, unit tests in Node and browser
// tests in headless Chromium with real WebGPU, in that order, stopping at the first failure.
// The type check and the lint run side by side (each takes one core), their outputs printed
// in turn. Extra arguments go to both Vitest runs (for example a test file's path).
import { spawn } from 'node:child_process';
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

/**
 * Runs `command` with its output kept, for printing once it is done.
 * @param {string} command
 * @param {string[]} args
 * @returns {Promise<{ status: number, output: string }>}
 */
function captured(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env });
    /** @type {Buffer[]} */
    const chunks = [];
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    child.on('error', (error) => resolve({ status: 1, output: `could not run ${command}: ${error.message}\n` }));
    child.on('close', (code) => resolve({ status: code ?? 1, output: Buffer.concat(chunks).toString() }));
  });
}

/** @type {[string, string, string[]][]} */
const checks = [
  ['type check', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
  ['lint', bin('eslint'), ['--max-warnings', '0', '.']],
];
const results = await Promise.all(checks.map(([, command, args]) => captured(command, args)));
for (const [index, [title]] of checks.entries()) {
  const result = results[index];
  if (!result) continue;
  console.log(`\n== ${title} ==`);
  process.stdout.write(result.output);
  if (result.status !== 0) process.exit(result.status);
}

/** @type {[string, string, string[]][]} */
const steps = [
  ['unit tests (Node)', bin('vitest'), ['run', '--project', 'unit', ...narrowed, ...extra]],
  ['browser tests (headless Chromium, WebGPU)', bin('vitest'), ['run', '--project', 'browser', ...narrowed, ...extra]],
];
for (const [title, command, args] of steps) {
  console.log(`\n== ${title} ==`);
  run(command, args, { env });
}
