// `npm test`: set up what is missing, then the type check (the code, and the TypeScript snippets
// of README.md and docs/), the lint, the unit tests in Node and the browser tests in headless
// Chromium with real WebGPU. The browser tests are the longest, and many of them run frame
// pipelines for as long as they wait: slowed down, they burn more CPU in all. So they run at
// the normal priority and the others beside them at a lower one, taking what CPU the browser
// tests leave: the browser tests' output streams as it comes, the others' is printed once
// each is done. Every step runs to its end; the command fails when any of them failed, and
// says which. Extra arguments go to both Vitest runs (for example a test file's path).
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { ensureChromium, ensurePackages, root } from './bootstrap.mjs';

ensurePackages();
const chrome = ensureChromium();
const env = { ...process.env, CHROME_PATH: chrome };
/** @param {string} name */
const bin = (name) => join(root, 'node_modules', '.bin', name);
const extra = process.argv.slice(2);
// A run narrowed to some files finds none in one of the two projects: that is not a failure.
const narrowed = extra.length > 0 ? ['--passWithNoTests'] : [];

/**
 * Runs `command`; its exit status and, unless `streamed`, its output kept for printing once it is done.
 * @param {string} command
 * @param {string[]} args
 * @param {boolean} streamed
 * @param {boolean} niced whether it runs at a lower priority, taking the CPU the others leave
 * @returns {Promise<{ status: number, output: string, seconds: number }>}
 */
function started(command, args, streamed, niced) {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: streamed ? 'inherit' : 'pipe' });
    if (niced && child.pid !== undefined) {
      try {
        setPriority(child.pid, 10);
      } catch {
        // Not allowed here: they share the CPU evenly, which only takes longer.
      }
    }
    /** @type {Buffer[]} */
    const chunks = [];
    child.stdout?.on('data', (chunk) => chunks.push(chunk));
    child.stderr?.on('data', (chunk) => chunks.push(chunk));
    child.on('error', (error) => resolve({ status: 1, output: `could not run ${command}: ${error.message}\n`, seconds: 0 }));
    child.on('close', (code) => resolve({ status: code ?? 1, output: Buffer.concat(chunks).toString(), seconds: Math.round((Date.now() - start) / 1000) }));
  });
}

/** @type {{ title: string, command: string, args: string[], streamed: boolean, niced: boolean }[]} */
const steps = [
  { title: 'browser tests (headless Chromium, WebGPU)', command: bin('vitest'), args: ['run', '--project', 'browser', '--project', 'browser-apps', '--project', 'browser-workers', '--project', 'browser-fresh-realm', ...narrowed, ...extra], streamed: true, niced: false },
  // One tsc program for the code and the docs' snippets, after the snippets are extracted and the docs' links checked.
  { title: "type check (the code, and the docs' snippets and links)", command: process.execPath, args: [join(root, 'scripts', 'type-check.mjs')], streamed: false, niced: true },
  { title: 'lint', command: bin('eslint'), args: ['--max-warnings', '0', '.'], streamed: false, niced: true },
  { title: 'unit tests (Node)', command: bin('vitest'), args: ['run', '--project', 'unit', ...narrowed, ...extra], streamed: false, niced: true },
];
console.log(`\n== ${steps.map((step) => step.title).join(', ')}: side by side; the browser tests' output follows ==\n`);
const runs = steps.map((step) => started(step.command, step.args, step.streamed, step.niced));
// The kept outputs in order, each as soon as it and those before it are done.
for (const [index, step] of steps.entries()) {
  if (step.streamed) continue;
  const result = await runs[index];
  if (!result) continue;
  console.log(`\n== ${step.title}: ${result.status === 0 ? 'passed' : 'FAILED'} in ${result.seconds} s ==`);
  process.stdout.write(result.output);
}
const results = await Promise.all(runs);
// How long each step took from the start, side by side: where a slow run spent its time.
console.log(`\n${steps.map((step, index) => `${step.title}: ${results[index]?.seconds ?? '?'} s`).join('; ')}`);
const failed = steps.filter((_, index) => results[index]?.status !== 0).map((step) => step.title);
console.log(failed.length === 0 ? `\nnpm test: every step passed (${steps.map((step) => step.title).join('; ')})` : `\nnpm test FAILED: ${failed.join('; ')}`);
process.exit(failed.length === 0 ? 0 : 1);
