// The production path of a module in a worker: `vite build` of examples/worker-pipeline (the
// page spawns its consumer with the form docs/workers.md gives,
// `spawnWorker(new Worker(new URL('./consumer.ts', import.meta.url), { type: 'module' }), table)`),
// served by `vite preview` with the COOP/COEP headers an app sets, and run in headless
// Chromium on its real WebGPU adapter: the worker is bundled (not shipped as a .ts file), it
// loads, inherits the buffer's fd, inverts the buffer on its own device, and the page reads
// every byte back inverted. Dev mode is what the browser tests run; this is what users ship.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CHROMIUM_FLAGS, findChromium } from '../../scripts/chromium.mjs';

const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'examples', 'worker-pipeline');
/** The headers an app needs for the shared-memory transport (docs/workers.md). */
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
/** The package's entry, as an app's bundler resolves `webgpu-dmabuf`. */
const alias = [{ find: /^webgpu-dmabuf$/, replacement: join(root, 'index.ts') }];

let outDir = '';
let server: PreviewServer | undefined;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'webgpu-dmabuf-production-'));
  await build({ root: example, configFile: false, logLevel: 'silent', resolve: { alias }, build: { outDir, emptyOutDir: true } });
  server = await preview({ root: example, configFile: false, logLevel: 'silent', build: { outDir }, preview: { host: '127.0.0.1', port: 0, headers: isolation } });
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

test('vite build bundles the worker a page spawns with new Worker(new URL(...)) as JavaScript of its own', () => {
  const assets = readdirSync(join(outDir, 'assets'));
  const workers = assets.filter((file) => /^consumer-.+\.js$/.test(file));
  expect(workers, assets.join(', ')).toHaveLength(1);
  const page = assets.filter((file) => file.endsWith('.js') && !file.startsWith('consumer-')).map((file) => readFileSync(join(outDir, 'assets', file), 'utf8')).join('\n');
  // The page reaches the bundle by URL, never the source or a data: URL of it.
  expect(page).toContain(workers[0]);
  expect(page).not.toMatch(/consumer\.ts|data:video\/mp2t/);
});

test('the built page runs its worker on a device of its own: the buffer comes back with every byte inverted, over shared memory, and nothing fails', async () => {
  const base = server?.resolvedUrls?.local[0];
  if (!base) throw new Error('vite preview gave no local URL');
  const browser = await chromium.launch({ executablePath: process.env.CHROME_PATH ?? findChromium() ?? '/usr/bin/chromium', args: [...CHROMIUM_FLAGS], headless: true });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
    page.on('response', (response) => { if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) problems.push(`${String(response.status())} for ${response.url()}`); });
    await page.goto(base);
    const outcome = page.locator('#result').filter({ hasText: /inverted/ }).or(page.locator('#error:not([hidden])'));
    await outcome.first().waitFor({ timeout: 90_000 });
    expect(await page.locator('#error').isHidden(), await page.locator('#error').textContent() ?? '').toBe(true);
    expect(await page.locator('#result').textContent()).toMatch(/^every byte inverted/);
    expect(await page.locator('#isolated').textContent()).toBe('yes');
    expect(await page.locator('#transport').textContent()).toBe('shared-memory');
    expect(await page.locator('#log').textContent()).toContain('the heap holds 0 live buffers');
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
  }
}, 120_000);
