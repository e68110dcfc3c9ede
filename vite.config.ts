// Vite and Vitest in one config.
// - Vite: the demo site (`npm start`, `npm run build`) and, with `--mode lib`, the library
//   build into dist/.
// - Vitest: two projects. `unit` runs in Node (test/**/*.test.ts); `browser` runs in headless
//   Chromium on a real WebGPU adapter (test/**/*.browser.test.ts). `npm test` runs them in
//   that order. The Chromium path and flags come from scripts/chromium.mjs, the one place.
import { resolve } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM_FLAGS, findChromium } from './scripts/chromium.mjs';

const root = import.meta.dirname;
const browserTests = 'test/**/*.browser.test.ts';

// Cross-origin isolation: fine-grained `performance.now()` for the benchmark, and
// `SharedArrayBuffer` for modules in workers. Every resource is same-origin, so nothing breaks.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig(({ mode }) => ({
  // Pages and components import the library by its package name, as an app would.
  resolve: { alias: { 'webgpu-dmabuf': resolve(root, 'index.ts') } },
  server: { host: '127.0.0.1', headers: isolation },
  preview: { host: '127.0.0.1', headers: isolation },
  build:
    mode === 'lib'
      ? {
          outDir: 'dist',
          emptyOutDir: false,
          sourcemap: true,
          lib: { entry: resolve(root, 'index.ts'), formats: ['es'], fileName: 'webgpu-dmabuf' },
          rolldownOptions: { external: [/^lit($|\/)/, /^@lit\//] },
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
            },
          },
        },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', environment: 'node', include: ['test/**/*.test.ts'], exclude: [browserTests] },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: [browserTests],
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
      },
    ],
  },
}));
