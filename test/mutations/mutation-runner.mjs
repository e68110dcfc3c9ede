// Applies hand-written slips to a scratch copy of the tree, one at a time, and runs the
// browser tests that guard each: a slip they catch fails a test; one they miss survives.
// The working tree is never touched: others run tests in it at the same time. The scratch
// copy holds the tree's files as they are on disk (uncommitted changes included), with each
// package of node_modules linked from the tree, so Vite's caches stay in the copy.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, release, tmpdir, type } from 'node:os';
import { dirname, join } from 'node:path';

/** @typedef {import('./browser-mutations.mjs').Mutation} Mutation */
/** @typedef {import('./browser-mutations.mjs').Edit} Edit */

/**
 * What one mutation run gave: `caught` (a test failed), `survived`, or `equivalent` (survived,
 * and the list says why no test can catch it).
 * @typedef {object} Outcome
 * @property {Mutation} mutation
 * @property {'caught' | 'survived' | 'equivalent'} status
 * @property {string} by the first failing test, or what else failed the run
 * @property {number} seconds
 */

/**
 * How a Vitest run ended.
 * @typedef {object} TestRun
 * @property {boolean} passed
 * @property {string} failure the first failing test's name, or what else failed the run ('' when it passed)
 * @property {number} seconds
 * @property {string} output the run's last lines, for a failure that names no test
 */

/** Folders of node_modules that hold caches a run writes: each scratch copy has its own. */
const CACHES = new Set(['.vite', '.vite-temp', '.vitest', '.cache']);

/**
 * Every edit of a mutation, the first one included.
 * @param {Mutation} m
 * @returns {Edit[]}
 */
function editsOf(m) {
  return [{ find: m.find, replace: m.replace }, ...(m.also ?? [])];
}

/**
 * How often `part` occurs in `text`.
 * @param {string} text
 * @param {string} part
 */
function occurrences(text, part) {
  let count = 0;
  for (let at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) count += 1;
  return count;
}

/**
 * The problems of the list itself: missing fields, repeated ids, edits that do not apply
 * exactly once to the files under `root`. Empty when it is sound.
 * @param {readonly Mutation[]} mutations
 * @param {string} root
 * @returns {string[]}
 */
export function checkList(mutations, root) {
  const problems = [];
  const ids = new Set();
  for (const m of mutations) {
    const name = m.id || '(an entry without an id)';
    if (ids.has(m.id)) problems.push(`${name}: the id is used twice`);
    ids.add(m.id);
    for (const key of /** @type {const} */ (['id', 'file', 'find', 'why'])) {
      if (typeof m[key] !== 'string' || m[key] === '') problems.push(`${name}: '${key}' must be a non-empty string`);
    }
    if (!Array.isArray(m.tests) || m.tests.length === 0) problems.push(`${name}: 'tests' must list the browser test files that guard it`);
    for (const test of m.tests) if (!existsSync(join(root, test))) problems.push(`${name}: test file ${test} does not exist`);
    if (m.equivalent !== undefined && m.equivalent.trim() === '') problems.push(`${name}: 'equivalent' must say why no test can catch it`);
    const path = join(root, m.file);
    if (!existsSync(path)) {
      problems.push(`${name}: ${m.file} does not exist`);
      continue;
    }
    const text = readFileSync(path, 'utf8');
    for (const edit of editsOf(m)) {
      if (edit.find === edit.replace) problems.push(`${name}: an edit replaces ${JSON.stringify(edit.find)} with itself`);
      const count = occurrences(text, edit.find);
      if (count !== 1) problems.push(`${name}: ${JSON.stringify(edit.find)} occurs ${count} times in ${m.file} (exactly once expected): update the entry to the code`);
    }
  }
  return problems;
}

/**
 * `text` with the mutation's edits applied.
 * @param {string} text
 * @param {Mutation} m
 */
function mutate(text, m) {
  let out = text;
  for (const edit of editsOf(m)) out = out.replace(edit.find, () => edit.replace);
  return out;
}

/**
 * A scratch copy of the tree's files as they are on disk (tracked and untracked, not
 * ignored), with node_modules' packages linked from the tree. Returns its folder.
 * @param {string} root
 */
function scratchCopy(root) {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-dmabuf-mutations-'));
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0')) {
    // A tracked file deleted on disk is not copied: the copy is what is on disk.
    if (file === '' || !existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file));
  }
  mkdirSync(join(dir, 'node_modules'));
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (!CACHES.has(entry)) symlinkSync(join(root, 'node_modules', entry), join(dir, 'node_modules', entry));
  }
  return dir;
}

/**
 * The first failing test of a Vitest JSON report, or what else failed the run.
 * @param {string} reportPath
 * @param {string} output
 */
function firstFailure(reportPath, output) {
  if (existsSync(reportPath)) {
    /** @type {{ testResults?: { name: string, message?: string, assertionResults?: { fullName: string, status: string }[] }[] }} */
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    for (const file of report.testResults ?? []) {
      const failed = (file.assertionResults ?? []).find((t) => t.status === 'failed');
      if (failed) return failed.fullName;
    }
    for (const file of report.testResults ?? []) if (file.message) return `${file.name.split('/').slice(-1)[0] ?? file.name}: ${file.message.split('\n')[0] ?? ''}`;
  }
  const errorLine = output.split('\n').find((line) => /Error|Unhandled|FAIL/.test(line));
  return errorLine ? errorLine.trim().slice(0, 200) : 'the run failed without a failing test (see its output)';
}

/**
 * Runs on SIGINT / SIGTERM: stops the test run under way and removes the scratch copy.
 * @typedef {object} Session
 * @property {string} dir the scratch copy
 * @property {import('node:child_process').ChildProcess | undefined} child the Vitest run under way
 */

/**
 * Runs the browser tests `tests` (narrowed by `filter`) in `dir`, stopping at the first
 * failure, within `limitSeconds`.
 * @param {Session} session
 * @param {readonly string[]} tests
 * @param {string | undefined} filter
 * @param {string} chrome
 * @param {number} limitSeconds
 * @returns {Promise<TestRun>}
 */
function runTests(session, tests, filter, chrome, limitSeconds) {
  const reportPath = join(session.dir, 'node_modules', '.cache', 'mutation-report.json');
  rmSync(reportPath, { force: true });
  mkdirSync(dirname(reportPath), { recursive: true });
  // The workers' files run in a page of their own (vite.config.ts): a slip's files may be in either.
  const args = ['run', '--project', 'browser', '--project', 'browser-workers', '--bail=1', '--reporter=json', `--outputFile=${reportPath}`, ...(filter ? ['-t', filter] : []), ...tests];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // A group of its own, so that a stop ends Vitest and the Chromium it started, and only them.
    const child = spawn(join(session.dir, 'node_modules', '.bin', 'vitest'), args, {
      cwd: session.dir,
      env: { ...process.env, CHROME_PATH: chrome, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    session.child = child;
    let output = '';
    const keep = (/** @type {Buffer} */ chunk) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup(child);
    }, limitSeconds * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      session.child = undefined;
      reject(new Error(`could not start Vitest in the scratch copy (is node_modules complete? npm ci may be under way): ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      session.child = undefined;
      const seconds = (performance.now() - started) / 1000;
      if (timedOut) resolve({ passed: false, failure: `the run passed its limit of ${Math.round(limitSeconds)} s (a hang)`, seconds, output });
      else if (code === 0) resolve({ passed: true, failure: '', seconds, output });
      else resolve({ passed: false, failure: firstFailure(reportPath, output), seconds, output });
    });
  });
}

/**
 * Ends a test run and what it started (its process group).
 * @param {import('node:child_process').ChildProcess} child
 */
function stopGroup(child) {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

/**
 * The key of a mutation's test set: mutations with the same files and filter share one baseline run.
 * @param {Mutation} m
 */
const setKey = (m) => JSON.stringify([m.tests, m.filter ?? '']);

/**
 * Escapes a table cell.
 * @param {string} text
 */
const cell = (text) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * The results as a Markdown table.
 * @param {readonly Outcome[]} outcomes
 */
export function resultTable(outcomes) {
  const rows = outcomes.map(({ mutation: m, status, by, seconds }) => {
    const result = status === 'caught' ? 'caught' : status === 'equivalent' ? 'survived (equivalent)' : '**SURVIVED**';
    const detail = status === 'equivalent' ? `${m.equivalent ?? ''}` : by;
    return `| \`${m.id}\` | \`${m.file}\` | ${cell(m.why)} | ${result} | ${cell(detail)} | ${Math.round(seconds)} |`;
  });
  return ['| id | file | why | result | caught by (the first failing test) | s |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** The machine, in one line: CPUs, OS, Node and Chromium. */
function machine(/** @type {string} */ chrome) {
  const version = spawnSync(chrome, ['--version'], { encoding: 'utf8' }).stdout.trim() || chrome;
  const cores = cpus();
  // The load others put on the machine at the end of the run: times are only comparable at a like load.
  const load = loadavg()[0]?.toFixed(1) ?? '?';
  return `${hostname()}: ${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${type()} ${release()}, Node ${process.version}, ${version} (SwiftShader WebGPU); load average ${load} at the end`;
}

/**
 * @typedef {object} RunOptions
 * @property {string} root the repository
 * @property {readonly Mutation[]} mutations the list
 * @property {readonly string[]} only ids to run (all when empty)
 * @property {string} chrome the Chromium to drive
 * @property {string} command how the run was started, for the report
 * @property {string | undefined} reportPath where the Markdown report goes (none when undefined)
 */

/**
 * Runs the mutations and reports. Resolves with the process exit code: 0 when every
 * mutation was caught or is marked equivalent, 1 when one survived, 2 when the run could
 * not be made (the list does not apply, a baseline fails).
 * @param {RunOptions} options
 * @returns {Promise<number>}
 */
export async function runMutations({ root, mutations, only, chrome, command, reportPath }) {
  const unknown = only.filter((id) => !mutations.some((m) => m.id === id));
  if (unknown.length > 0) {
    console.error(`No mutation with the id ${unknown.join(', ')} (npm run test:mutation:browser -- --list lists them).`);
    return 2;
  }
  const chosen = only.length > 0 ? mutations.filter((m) => only.includes(m.id)) : mutations;
  const started = performance.now();
  /** @type {Session} */
  const session = { dir: scratchCopy(root), child: undefined };
  const stop = (/** @type {NodeJS.Signals} */ signal) => {
    console.error(`\n${signal}: stopping, removing ${session.dir}`);
    if (session.child) stopGroup(session.child);
    rmSync(session.dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const problems = checkList(chosen, session.dir);
    if (problems.length > 0) {
      console.error(`The mutation list no longer applies (test/mutations/browser-mutations.mjs):\n  ${problems.join('\n  ')}`);
      return 2;
    }
    console.log(`Scratch copy: ${session.dir}\n`);

    // Each set of guarding tests must pass unmutated, or a failure says nothing about a slip.
    /** @type {Map<string, number>} */
    const baseline = new Map();
    for (const m of chosen) {
      const key = setKey(m);
      if (baseline.has(key)) continue;
      process.stdout.write(`baseline: ${m.tests.join(' ')}${m.filter ? ` -t '${m.filter}'` : ''} ... `);
      const run = await runTests(session, m.tests, m.filter, chrome, 900);
      if (!run.passed) {
        console.log('FAILED');
        console.error(`\nThe guarding tests fail without any mutation: ${run.failure}\n${run.output.split('\n').slice(-30).join('\n')}\nFix the tree (or wait for the change under way) and run again.`);
        return 2;
      }
      console.log(`passed (${Math.round(run.seconds)} s)`);
      baseline.set(key, run.seconds);
    }

    /** @type {Outcome[]} */
    const outcomes = [];
    for (const [index, m] of chosen.entries()) {
      const path = join(session.dir, m.file);
      const original = readFileSync(path, 'utf8');
      process.stdout.write(`[${index + 1}/${chosen.length}] ${m.id} ... `);
      writeFileSync(path, mutate(original, m));
      let run;
      try {
        // Room for one test to reach Vitest's own 60 s timeout, and for a slow machine.
        run = await runTests(session, m.tests, m.filter, chrome, 3 * (baseline.get(setKey(m)) ?? 60) + 120);
      } finally {
        writeFileSync(path, original);
      }
      /** @type {Outcome['status']} */
      const status = !run.passed ? 'caught' : m.equivalent === undefined ? 'survived' : 'equivalent';
      outcomes.push({ mutation: m, status, by: run.failure, seconds: run.seconds });
      console.log(`${status === 'caught' ? `caught by ${run.failure}` : status.toUpperCase()} (${Math.round(run.seconds)} s)`);
      if (status === 'caught' && m.equivalent !== undefined) console.log(`  note: marked equivalent, yet a test caught it: drop its 'equivalent'`);
    }

    const minutes = (performance.now() - started) / 60_000;
    const survivors = outcomes.filter((o) => o.status === 'survived');
    const table = resultTable(outcomes);
    const caught = outcomes.filter((o) => o.status === 'caught').length;
    const equivalent = outcomes.filter((o) => o.status === 'equivalent').length;
    const summary = `${outcomes.length} mutations: ${caught} caught, ${survivors.length} survived, ${equivalent} equivalent; ${minutes.toFixed(1)} min.`;
    console.log(`\n${table}\n\n${summary}`);
    if (survivors.length > 0) {
      console.log(`\nSurvivors: ${survivors.map((o) => o.mutation.id).join(', ')}. Write the browser test that catches each, or mark it 'equivalent' with the reason.`);
    }
    if (reportPath) {
      writeFileSync(reportPath, report({ table, summary, machineLine: machine(chrome), command, date: new Date() }));
      console.log(`\nWritten to ${reportPath}.`);
    }
    return survivors.length > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    rmSync(session.dir, { recursive: true, force: true });
  }
}

/**
 * docs/browser-mutations.md: the last full run.
 * @param {{ table: string, summary: string, machineLine: string, command: string, date: Date }} run
 */
function report({ table, summary, machineLine, command, date }) {
  return `# Browser mutations: the last full run

Hand-written slips in the WebGPU exporter (\`gpu/cpu-pages.ts\`, \`gpu/gpu-heap.ts\`'s maps and
unmaps, \`gpu/transfer.ts\`, \`gpu/mirror.ts\`, \`gpu/staging-pool.ts\`, \`gpu/remote-mirrors.ts\`),
each applied alone to a scratch copy of the tree, against the browser tests that guard its
file. The list, with the rule each slip breaks: \`test/mutations/browser-mutations.mjs\`.
"Caught by" names the first test that failed; an equivalent slip says why no test can
catch it. This file is rewritten by every full run (not by \`--only\`).

- Command: \`${command}\`
- Machine: ${machineLine}
- Date: ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC
- ${summary}

${table}
`;
}
