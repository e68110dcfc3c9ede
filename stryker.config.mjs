// StrykerJS: mutation testing of the WebGPU-free core (src/ and remote/) against its Node
// tests. `npm run test:mutation` (scripts/mutation.mjs) runs it and writes docs/mutation.md;
// `npm test` does not: a full run takes about 70 minutes on two shared cores.
// Each setting says why it is there; CONTRIBUTING.md ("Mutation testing") says how to use it.

/** Mutants tested at once, each in a sandbox and a Vitest of its own. */
const concurrency = Number(process.env.STRYKER_CONCURRENCY ?? 1);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  throw new Error(`STRYKER_CONCURRENCY must be a whole number of 1 or more, got ${String(process.env.STRYKER_CONCURRENCY)}`);
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // What the Node tests can judge: the contract and the realms. gpu/ and elements/ need a
  // real WebGPU adapter, which the browser tests bring and Stryker's Vitest runner cannot.
  // bufinfo-entry.ts holds types only: nothing to mutate.
  mutate: ['src/**/*.ts', 'remote/**/*.ts', '!src/bufinfo-entry.ts'],

  testRunner: 'vitest',
  vitest: {
    // The Node tests of test/src, test/remote and test/conformance, and no browser project.
    configFile: 'vitest.mutation.config.ts',
    // Which tests run is per-test coverage's choice (below), not Vitest's module graph: the
    // in-memory exporter (test/src/memory-exporter.ts) and the realms reach nearly every
    // source file, so nearly every test file is "related" to every source file anyway.
    related: false,
  },
  // Coverage per test: each mutant runs only the tests that execute its code.
  coverageAnalysis: 'perTest',
  // A static mutant (code that runs as its module loads: constant tables, brand-check
  // placeholders, static blocks) can only be tested by reloading everything and running all
  // the tests, about ten seconds each: the sixth of the mutants that run at load would double
  // a run that already takes over an hour. Those that also run inside tests are tested by
  // those tests; those that run only at load (one in thirty) are reported as static and left
  // out of the score.
  ignoreStatic: true,
  // Vitest does not type check, so a mutant that breaks a type still runs: what counts is
  // whether a test sees its behaviour. A TypeScript checker would double the run time.
  checkers: [],

  // Two cores here, shared with others at work: one mutant at a time unless told otherwise
  // (STRYKER_CONCURRENCY=4 npm run test:mutation on a machine of one's own).
  concurrency,
  // A busy machine runs slower than the measured first run: give a mutant this much more
  // than its tests took before calling it a time-out (an endless loop or a promise that
  // never settles).
  timeoutMS: 10_000,

  // What a reader needs: the summary in the terminal, progress while it runs, and the full
  // report under reports/ (gitignored); scripts/mutation-report.mjs turns the JSON one into
  // docs/mutation.md.
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false },

  // The mutation score (killed and timed-out mutants over all that could be tested) below
  // `break` fails the command. `break` is the measured score of the last full run, rounded
  // down: raise it whenever tests raise the score (CONTRIBUTING.md, "Mutation testing").
  // `high` is the aim for the ordering and reference-counting core.
  thresholds: { high: 90, low: 75, break: 85 },

  // The sandbox copies the project for each run: only what the Node tests load, listed by
  // what to keep, so that a new folder elsewhere is left out without a word here. gpu/ stays:
  // index.ts, which a few tests import (test/src/sync-file.test.ts,
  // test/remote/look-alikes.test.ts), exports GpuHeap. (scripts/mutation.mjs
  // fails when a test file did not load in the sandbox: Stryker itself skips it silently.)
  ignorePatterns: [
    '/*',
    '!/package.json',
    '!/tsconfig*.json',
    '!/index.ts',
    '!/vitest.mutation.config.ts',
    '!/scripts',
    '!/src',
    '!/remote',
    '!/gpu',
    '!/test',
    '/test/*',
    '!/test/mutation-setup.ts',
    '!/test/src',
    '!/test/remote',
    '!/test/conformance',
  ],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
