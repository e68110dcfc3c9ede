// `npm run bench`: set up what is missing, serve the benchmark page (bench.html) with Vite on
// 127.0.0.1, run it in headless Chromium with real WebGPU (the flags of scripts/chromium.mjs),
// print its table and write every number to JSON.
//
//   npm run bench [-- --quick] [--out FILE] [--scenarios cpu-read,page-latency] [--screenshot FILE] [--charts DIR]
//                 [--save] [--compare FILE] [--noise N]
//
// --quick        the short version (fewer sizes and runs), for smoke checks
// --out FILE     where the JSON goes (default bench-results.json)
// --scenarios    a comma-separated subset of the scenarios
// --screenshot   also save a PNG of the page with its tables and charts
// --charts DIR   also save each scenario's chart as DIR/<scenario>.png
// --save         also keep the JSON as docs/bench/runs/<date>-<vendor>-<architecture>.json
//                (full runs only: quick figures are not comparable)
// --compare FILE after the run, each figure's speed against FILE's (a saved run, or any
//                bench JSON) and each ratio's change, flagged beyond --noise (default 0.2);
//                scripts/bench-compare.mjs compares two files without running anything
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareReports, comparisonText, parseNoise, readReport, savedRunName } from '../bench/compare-runs.mjs';
import { ensureChromium, ensurePackages, fail, root } from './bootstrap.mjs';
import { CHROMIUM_FLAGS } from './chromium.mjs';

/** @type {{ values: { quick?: boolean, out?: string, scenarios?: string, screenshot?: string, charts?: string, save?: boolean, compare?: string, noise?: string, help?: boolean } }} */
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    out: { type: 'string' },
    scenarios: { type: 'string' },
    screenshot: { type: 'string' },
    charts: { type: 'string' },
    save: { type: 'boolean' },
    compare: { type: 'string' },
    noise: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log('npm run bench [-- --quick] [--out FILE] [--scenarios a,b] [--screenshot FILE] [--charts DIR] [--save] [--compare FILE] [--noise N]');
  process.exit(0);
}
const out = resolve(args.out ?? 'bench-results.json');
/** Where `--save` keeps runs. */
const runsDir = join(root, 'docs', 'bench', 'runs');
if (args.save && args.quick) fail('--save keeps full runs only: a --quick run has fewer sizes and shorter samples, so its figures are not comparable with a saved run. Run `npm run bench -- --save` without --quick.');
// The file to compare with is read before the run, so that a wrong path costs no run.
let noise = 0;
/** @type {import('../bench/report.js').BenchReport | undefined} */
let saved;
try {
  noise = parseNoise(args.noise);
  saved = args.compare === undefined ? undefined : readReport(resolve(args.compare));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const options = { quick: args.quick ?? false, ...(args.scenarios ? { scenarios: args.scenarios.split(',').map((s) => s.trim()) } : {}) };

ensurePackages();
const executablePath = ensureChromium();
const { createServer } = await import('vite');
const { chromium } = await import('playwright');

const server = await createServer({ root, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null } });
await server.listen();
const base = server.resolvedUrls?.local[0];
if (!base) fail('the Vite server gave no local URL');
const browser = await chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS], headless: true });
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (error) => { console.error(`page error: ${error.message}`); });
  page.on('console', (message) => {
    // Failed loads are reported with their URL below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) console.error(`page: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) console.error(`page: ${response.status()} for ${response.url()}`);
  });
  let lastLabel = '';
  const tty = process.stdout.isTTY;
  await page.exposeFunction('dmabufBenchProgress', (/** @type {{ done: number, total: number, label: string }} */ p) => {
    if (tty) process.stdout.write(`\r${String(p.done).padStart(5)}/${p.total} ${p.label}`.padEnd(60));
    else if (p.label !== lastLabel) console.log(`bench: ${p.label}`);
    lastLabel = p.label;
  });
  // The page cannot measure its own main-thread time; the DevTools protocol can (camera-pipeline's ms per frame).
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('Performance.enable');
  await page.exposeFunction('dmabufMainThreadSeconds', async () => {
    const { metrics } = await devtools.send('Performance.getMetrics');
    const seconds = metrics.find((m) => m.name === 'TaskDuration')?.value;
    if (seconds === undefined) throw new Error('Performance.getMetrics gave no TaskDuration');
    return seconds;
  });
  console.log(`webgpu-dmabuf: running ${new URL('bench.html', base).href} in headless Chromium (${executablePath})${options.quick ? ', quick' : ''}`);
  await page.goto(new URL('bench.html', base).href);
  const result = await page.evaluate(async (runOptions) => {
    await customElements.whenDefined('dmabuf-bench');
    const bench = /** @type {import('../bench/bench.component.js').DmabufBench} */ (document.querySelector('dmabuf-bench'));
    const report = /** @type {(p: unknown) => void} */ (Reflect.get(window, 'dmabufBenchProgress'));
    const mainThreadClock = /** @type {() => Promise<number>} */ (Reflect.get(window, 'dmabufMainThreadSeconds'));
    bench.addEventListener('dmabuf-bench-progress', (event) => { report(event.progress); });
    // The page checks the names; an unknown one is simply not run.
    const ran = await bench.run({ .../** @type {import('../bench/run-bench.js').BenchOptions} */ (runOptions), mainThreadClock });
    await bench.updateComplete;
    return { report: ran, text: bench.reportText };
  }, options);
  if (tty) process.stdout.write('\n');
  console.log(`\n${result.text}\n`);
  writeFileSync(out, `${JSON.stringify(result.report, null, 2)}\n`);
  console.log(`webgpu-dmabuf: all numbers in ${out}`);
  if (saved && args.compare) {
    const rows = compareReports(saved, result.report, { noise });
    console.log(`\n${comparisonText(saved, result.report, rows, { noise, baseName: 'saved', currentName: 'this run', baseFile: args.compare })}\n`);
  }
  if (args.screenshot) {
    await page.locator('dmabuf-bench').screenshot({ path: resolve(args.screenshot) });
    console.log(`webgpu-dmabuf: screenshot in ${resolve(args.screenshot)}`);
  }
  if (args.charts) {
    const dir = resolve(args.charts);
    mkdirSync(dir, { recursive: true });
    for (const scenario of result.report.scenarios) {
      const chart = page.locator(`dmabuf-bench [data-chart="${scenario.id}"]`);
      if ((await chart.locator('canvas').count()) === 0) continue;
      await chart.screenshot({ path: join(dir, `${scenario.id}.png`) });
    }
    console.log(`webgpu-dmabuf: charts in ${dir}`);
  }
  failed = result.report.skipped.some((s) => s.reason.startsWith('failed'));
  if (args.save && failed) console.error('webgpu-dmabuf: not saved under docs/bench/runs/: a scenario failed.');
  else if (args.save) {
    mkdirSync(runsDir, { recursive: true });
    // A second run of the same day on the same adapter gets -2, -3...: a saved run is never overwritten.
    const name = savedRunName(result.report).replace(/\.json$/, '');
    let file = join(runsDir, `${name}.json`);
    for (let n = 2; existsSync(file); n += 1) file = join(runsDir, `${name}-${n}.json`);
    writeFileSync(file, `${JSON.stringify(result.report, null, 2)}\n`);
    console.log(`webgpu-dmabuf: run saved as ${relative(root, file)}${options.scenarios ? ` (only ${options.scenarios.join(', ')})` : ''}`);
  }
} catch (error) {
  console.error(error);
  failed = true;
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
