/**
 * The benchmark in Node on Dawn: the per-operation scenarios of the page (run-operations.ts),
 * measured by the same code, printed as the same table and written as the same JSON, where
 * there is no browser. The entry of the bundle scripts/bench-dawn.mjs builds (`node
 * bench.mjs`, with `dist/<platform>-<arch>/dawn.node` beside it); options in options.ts.
 */
import { writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { compareReports, comparisonText, parseNoise, readReport } from '../compare-runs.mjs';
import { FULL_SETTINGS, QUICK_SETTINGS, type MeasureSettings } from '../measure.js';
import { reportText } from '../report-text.js';
import type { BenchReport } from '../report.js';
import type { Scenario } from '../scenario.js';
import { DawnUnavailableError, installDawn } from './dawn-gpu.js';
import { DAWN_USAGE, pageOnlySkipped, parseDawnArgs, type DawnBenchArgs } from './options.js';
import { saveDawnRun } from './saved-run.js';

/** Stops the runner with one clear message, as the launchers in scripts/ do. */
function fail(message: string): never {
  console.error(`\nwebgpu-dmabuf: ${message}\n`);
  process.exit(1);
}

/** The `webgpu` package's version, written in at build time (scripts/bench-dawn.mjs). */
declare const __WEBGPU_PACKAGE_VERSION__: string;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `scenario` without its sizes above `maxSize`; its smallest size stays, so it still runs. */
function capped(scenario: Scenario, maxSize: number | undefined): Scenario {
  if (maxSize === undefined) return scenario;
  return {
    ...scenario,
    sizes: (quick) => {
      const all = scenario.sizes(quick);
      const kept = all.filter((size) => size <= maxSize);
      return kept.length > 0 ? kept : all.slice(0, 1);
    },
  };
}

/** Progress on the terminal: one rewritten line on a TTY, one line per size in a log. */
function progressPrinter(total: number): (label: string, advanced: boolean) => void {
  let done = 0;
  let lastLabel = '';
  const tty = process.stdout.isTTY;
  return (label, advanced) => {
    if (advanced) done += 1;
    if (tty) process.stdout.write(`\r${String(done).padStart(5)}/${total} ${label}`.padEnd(60));
    else if (label !== lastLabel) console.log(`bench: ${label} (${done}/${total} steps, ${new Date().toISOString().slice(11, 19)})`);
    lastLabel = label;
  };
}

function printComparison(base: BenchReport, baseFile: string, current: BenchReport, currentName: string, noise: number): void {
  const rows = compareReports(base, current, { noise });
  console.log(`\n${comparisonText(base, current, rows, { noise, baseName: 'saved', currentName, baseFile })}\n`);
}

/** `--show FILE`: prints a report (and its comparison), or keeps it under the runs folder. */
function show(args: DawnBenchArgs, file: string, noise: number, base: BenchReport | undefined): void {
  const report = readReport(resolve(file));
  console.log(`${reportText(report)}\n`);
  if (base && args.compare) printComparison(base, args.compare, report, file, noise);
  if (args.save) console.log(`webgpu-dmabuf: saved as ${relative(process.cwd(), saveDawnRun(report, resolve(args.runsDir)))}`);
}

/** Runs the scenarios; returns the exit status (1 when a scenario failed). */
async function run(args: DawnBenchArgs, noise: number, base: BenchReport | undefined): Promise<number> {
  const startedAt = new Date().toISOString();
  let dawn;
  try {
    dawn = await installDawn(args.backend, __WEBGPU_PACKAGE_VERSION__);
  } catch (error) {
    if (error instanceof DawnUnavailableError) fail(error.message);
    throw error;
  }
  // The scenarios read Dawn's globals (GPUBufferUsage...) as they load: only now may they.
  const { operationSteps, runOperations, SCENARIOS } = await import('../run-operations.js');
  const quick = args.quick;
  const preset = quick ? QUICK_SETTINGS : FULL_SETTINGS;
  const settings: MeasureSettings = args.runs === undefined ? preset : { ...preset, runs: args.runs };
  // A scenario that needs a worker with WebGPU cannot run here: Node's workers have none.
  const runnable = SCENARIOS.filter((s) => s.pageOnly !== true);
  const chosen = runnable.filter((s) => args.scenarios.includes(s.id)).map((s) => capped(s, args.maxSize));
  const total = operationSteps(chosen, quick, settings);
  console.log(`webgpu-dmabuf: running ${chosen.map((s) => s.id).join(', ')} in Node on Dawn, adapter ${dawn.adapterName}${quick ? ', quick' : ''} (${total} steps)`);
  const operations = await runOperations(chosen, quick, settings, progressPrinter(total));
  dawn.release();
  if (process.stdout.isTTY) process.stdout.write('\n');
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick,
    adapter: operations.adapter,
    userAgent: dawn.userAgent,
    // There is no page to isolate; Node's timer is as fine as an isolated page's (timerResolutionMs).
    crossOriginIsolated: false,
    timerResolutionMs: operations.timerResolutionMs,
    settings,
    scenarios: operations.scenarios,
    pipeline: null,
    framePipeline: [],
    skipped: [...operations.failed, ...pageOnlySkipped(args.scenarios, runnable.map((s) => s.id))],
    heapAfter: operations.heapAfter,
  };
  console.log(`\n${reportText(report)}\n`);
  const out = resolve(args.out);
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`webgpu-dmabuf: all numbers in ${out}`);
  if (base && args.compare) printComparison(base, args.compare, report, 'this run', noise);
  const failed = operations.failed.length > 0;
  if (args.save && failed) console.error('webgpu-dmabuf: not saved: a scenario failed.');
  else if (args.save) console.log(`webgpu-dmabuf: run saved as ${relative(process.cwd(), saveDawnRun(report, resolve(args.runsDir)))}`);
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  let args: DawnBenchArgs;
  let noise = 0;
  let base: BenchReport | undefined;
  try {
    args = parseDawnArgs(process.argv.slice(2));
    noise = parseNoise(args.noise);
    // Read before the run, so that a wrong path costs no run.
    base = args.compare === undefined ? undefined : readReport(resolve(args.compare));
  } catch (error) {
    fail(`${errorText(error)} (--help lists the options)`);
  }
  if (args.help) {
    console.log(DAWN_USAGE);
    return 0;
  }
  if (args.show !== undefined) {
    try {
      show(args, args.show, noise, base);
    } catch (error) {
      fail(errorText(error));
    }
    return 0;
  }
  return run(args, noise, base);
}

process.exit(await main());
