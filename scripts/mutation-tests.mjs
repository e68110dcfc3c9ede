// The tests that judge mutants (`npm run test:mutation`): the Node tests of the WebGPU-free
// core. One list for vitest.mutation.config.ts and for scripts/mutation.mjs, which checks that
// each of these files did run in Stryker's sandbox. Node built-ins only.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './bootstrap.mjs';

/** Folders of the Node tests that reach src/ and remote/. */
export const MUTATION_TEST_FOLDERS = ['test/src', 'test/remote', 'test/conformance'];

/** Whether a path (relative to the repository) names a Node test file. */
export const isNodeTest = (/** @type {string} */ path) => path.endsWith('.test.ts') && !path.endsWith('.browser.test.ts');

/**
 * The Node test files in those folders, relative to the repository root, with `/` separators.
 * @returns {string[]}
 */
export function mutationTestFiles() {
  return MUTATION_TEST_FOLDERS.flatMap((folder) =>
    readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
      .map((name) => `${folder}/${name.split('\\').join('/')}`)
      .filter(isNodeTest),
  ).sort();
}
