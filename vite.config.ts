// Vite and Vitest in one config.
// - Vite: the demo site (`npm start`, `npm run build`) and, with `--mode lib`, the package's
//   JavaScript into dist/: one build of its entry points, so `webgpu-dmabuf/elements`
//   imports the very module instances of `webgpu-dmabuf` (one `DmaBufError`, one `FdTable`)
//   instead of a copy.
// - Vitest: `unit` runs in Node (test/**/*.test.ts); the browser projects run in headless
//   Chromium on a real WebGPU adapter (test/**/*.browser.test.ts), split over pages that run
//   side by side (`browser`, `browser-apps`, `browser-workers`, `browser-fresh-realm`).
//   `npm test` runs them all at once. The Chromium path and flags come from
//   scripts/chromium.mjs, the one place.
import { resolve } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { CHROMIUM_FLAGS, findChromium } from './scripts/chromium.mjs';

const root = import.meta.dirname;
const browserTests = 'test/**/*.browser.test.ts';

// Cross-origin isolation: fine-grained `performance.now()` for the benchmark, and
// `SharedArrayBuffer` for modules in workers. Every resource is same-origin, so nothing breaks.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The package's entry points: output name (dist/NAME.js) → source. */
const entries = {
  'webgpu-dmabuf': resolve(root, 'index.ts'),
  elements: resolve(root, 'elements/elements.ts'),
  'elements-define': resolve(root, 'elements/define.ts'),
  tfjs: resolve(root, 'adapters/tfjs/tfjs.ts'),
  onnxruntime: resolve(root, 'adapters/onnxruntime/onnxruntime.ts'),
};

/** Browser test files that need a page of their own, where no other test file ran. */
const FRESH_REALM_TESTS = ['test/package/elements.browser.test.ts'];
/** The browser tests of modules in workers: they mostly wait on workers starting and on their devices. */
const WORKER_TESTS = ['test/workers/**/*.browser.test.ts', 'test/demo/demo-workers.browser.test.ts'];
/** The browser tests of the elements and the applications, which mostly wait on frames. */
const APP_TESTS = ['test/demo/**/*.browser.test.ts', 'test/bench/**/*.browser.test.ts', 'test/examples/**/*.browser.test.ts', 'test/elements/**/*.browser.test.ts'];

/** A browser project: headless Chromium on a real WebGPU adapter, with the files `files` chooses. */
function browserProject(name: string, files: { include: string[]; exclude?: string[]; isolate: boolean }): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name,
      ...files,
      // Every device's uncaptured WebGPU errors fail the test that made them.
      setupFiles: ['test/browser-setup.ts'],
      // SwiftShader runs shaders on the CPU: give GPU work room, not a deadline.
      testTimeout: 60_000,
      hookTimeout: 60_000,
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        provider: playwright({
          launchOptions: { executablePath: findChromium() ?? '/usr/bin/chromium', args: [...CHROMIUM_FLAGS] },
        }),
        instances: [{ browser: 'chromium' }],
      },
    },
  };
}

export default defineConfig(({ mode }) => ({
  // The library's module worker is an asset its chunks reach relative to themselves (../assets/…).
  base: mode === 'lib' ? './' : '/',
  // The elements, the applications and the examples import the library by its package
  // names, as an app would. Exact
  // matches: a plain 'webgpu-dmabuf' key would also catch 'webgpu-dmabuf/elements'.
  // Every dependency a browser test loads, bundled before the first test runs: one found
  // later makes Vite reload the pages, which fails the files running in the other page.
  optimizeDeps: {
    include: ['lit', 'lit/directives/keyed.js', 'fast-check', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-cpu', 'onnxruntime-web/webgpu'],
  },
  resolve: {
    alias: [
      { find: /^webgpu-dmabuf$/, replacement: entries['webgpu-dmabuf'] },
      { find: /^webgpu-dmabuf\/elements$/, replacement: entries.elements },
      { find: /^webgpu-dmabuf\/elements\/define$/, replacement: entries['elements-define'] },
      { find: /^webgpu-dmabuf\/tfjs$/, replacement: entries.tfjs },
      { find: /^webgpu-dmabuf\/onnxruntime$/, replacement: entries.onnxruntime },
    ],
  },
  server: {
    host: '127.0.0.1',
    headers: isolation,
    // A mutation run's sandboxes and reports are copies of the tree, not sources: a change
    // there must not reload a running test page or the demo.
    watch: { ignored: ['**/.stryker-tmp/**', '**/reports/**'] },
  },
  preview: { host: '127.0.0.1', headers: isolation },
  build:
    mode === 'lib'
      ? {
          outDir: 'dist',
          emptyOutDir: false,
          sourcemap: true,
          lib: { entry: entries, formats: ['es'], fileName: (_format, name) => `${name}.js` },
          rolldownOptions: {
            // Peer dependencies: the application's copies, never bundled.
            external: [/^lit($|\/)/, /^@lit\//, /^@tensorflow\//, /^onnxruntime-web($|\/)/],
            // Code the entry points share: named by content, so a build from any folder
            // gives the same files.
            output: { chunkFileNames: 'chunks/chunk-[hash].js' },
          },
        }
      : {
          outDir: 'dist/site',
          emptyOutDir: true,
          rolldownOptions: {
            input: {
              main: resolve(root, 'index.html'),
              bench: resolve(root, 'bench.html'),
              kmapHex: resolve(root, 'examples/kmap-hex/index.html'),
              twoDevices: resolve(root, 'examples/two-devices/index.html'),
              fences: resolve(root, 'examples/fences/index.html'),
              boids: resolve(root, 'examples/boids/index.html'),
              workerPipeline: resolve(root, 'examples/worker-pipeline/index.html'),
              mlPipeline: resolve(root, 'examples/ml-pipeline/index.html'),
            },
          },
        },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [browserTests],
          // A guard against hangs, not a speed limit: npm test runs these at a lower priority
          // beside the browser tests, and on a loaded machine a test of a third of a second
          // (the sync selftests' merge stress) took over five.
          testTimeout: 60_000,
          // The files of a worker share its modules, as the mutation runs' do
          // (vitest.mutation.config.ts): each cleans up after itself and checks for leaks, and a
          // fresh module graph per file (about 80 of them) cost a third of the step's CPU on
          // cores the browser tests share.
          isolate: false,
        },
      },
      browserProject('browser', {
        include: [browserTests],
        exclude: [...FRESH_REALM_TESTS, ...APP_TESTS, ...WORKER_TESTS],
        // The files share one page: each loads the library and the test helpers once, not
        // again in a new frame (about a third of the browser run), and cleans up after itself.
        isolate: false,
      }),
      // The applications' and the elements' files, and the workers' files, each in a page of
      // their own that runs beside the others: they wait on frames and on workers much of the
      // time, which leaves the CPU to the other pages.
      browserProject('browser-apps', { include: APP_TESTS, exclude: WORKER_TESTS, isolate: false }),
      browserProject('browser-workers', { include: WORKER_TESTS, isolate: false }),
      // Files that need a page where no other file ran (what importing an entry point defines).
      browserProject('browser-fresh-realm', { include: FRESH_REALM_TESTS, isolate: true }),
    ],
  },
}));
