// Vitest for mutation testing (`npm run test:mutation`, stryker.config.mjs): the Node tests
// of the WebGPU-free core only. A config of its own rather than vite.config.ts, whose
// `browser` project would start Chromium for every mutant and whose `unit` project also
// holds the package and script tests (tsc over the type matrix, the build), slow and blind
// to src/ and remote/.
import { defineConfig } from 'vitest/config';
import { MUTATION_TEST_FOLDERS } from './scripts/mutation-tests.mjs';

export default defineConfig({
  test: {
    name: 'unit',
    environment: 'node',
    include: MUTATION_TEST_FOLDERS.map((folder) => `${folder}/**/*.test.ts`),
    exclude: ['**/*.browser.test.ts'],
    // All the files a mutant's tests live in run in one worker, started afresh for each
    // mutant: Stryker runs a mutant's tests as one Vitest run, and Vitest stops a shared
    // worker when its run ends, so no state crosses from one mutant to the next. An isolated
    // worker per file would cost the better part of a second each, five times the tests.
    isolate: false,
    // One fast-check seed for every run: a mutant's verdict must not depend on which random
    // cases a property happened to draw that time.
    setupFiles: ['test/mutation-setup.ts'],
    // As the unit project's: on a busy machine the first, unmutated run of the three-realm
    // property took over Vitest's default 5 s, and Stryker stops when that run fails. A mutant
    // that hangs is still caught by Stryker's own time-out (timeoutMS) first.
    testTimeout: 30_000,
  },
});
