// Saved benchmark runs: their file names, and one run's figures against another's.
//
// Compares two bench JSON files (saved runs under docs/bench/runs/, or any `npm run bench`
// output) without running anything: for every figure present in both, B's median against
// A's as a speed (above 1: B is faster), and the change of each "ours vs raw" ratio, flagged
// beyond the noise (default 0.2). Its launchers: `node scripts/bench-compare.mjs A.json
// B.json`, and `npm run bench -- --compare FILE` (scripts/bench.mjs), which prints the same
// table for the run it just made against FILE; the Dawn runner (bench/dawn/) uses it too.
// Plain Node: the report's types are JSDoc only.
import { readFileSync } from 'node:fs';
import { formatSize, sig3 } from './format.mjs';

/** @typedef {import('./report.js').BenchReport} BenchReport */
/** @typedef {import('./report.js').ScenarioResult} ScenarioResult */
/** @typedef {import('./report.js').PipelineResult} PipelineResult */
/** @typedef {import('./measure.js').Figure} Figure */
/** @typedef {import('./targets.js').TargetResult} TargetResult */

/** The run-to-run noise of one ratio on the machine of docs/performance.md: 0.1x to 0.2x. */
export const DEFAULT_NOISE = 0.2;

/**
 * What is compared at one place: `throughput` (GB/s, fps: higher is faster) or `time`
 * (µs per operation, main-thread ms per frame: lower is faster).
 * @typedef {'throughput' | 'time'} Direction
 */

/**
 * One figure of one run: a median and, where the scenario has one, its ratio.
 * @typedef {{ scenario: string, size: string, sizeOrder: number, variant: string, label: string, role: string | null, figure: string, direction: Direction, value: number, ratio: number | null, ratioHeading: string }} Entry
 */

/**
 * One figure compared between a base run (the saved one) and the current run. `speed` is the
 * current median over the base's for throughput, the base's time over the current's for
 * times: above 1 is always faster. `ratioChange` is the current ratio minus the base's.
 * `only` names the run a figure is missing from the other of. `flags` say what moved beyond
 * the noise: `slower`, `faster` (any variant), `ratio down`, `ratio up` (our variants only:
 * a baseline's ratio is against the fastest baseline).
 * @typedef {{ scenario: string, size: string, variant: string, label: string, role: string | null, figure: string, ratioHeading: string, base: number | null, current: number | null, speed: number | null, baseRatio: number | null, currentRatio: number | null, ratioChange: number | null, only: 'base' | 'current' | null, flags: string[] }} CompareRow
 */

/**
 * Whether a value is a pipeline result (`camera-pipeline`'s shape: variants with `fps`).
 * @param {unknown} value
 * @returns {value is PipelineResult}
 */
function isPipeline(value) {
  if (typeof value !== 'object' || value === null) return false;
  const results = /** @type {unknown} */ (Reflect.get(value, 'results'));
  return typeof Reflect.get(value, 'id') === 'string' && Array.isArray(results) && results.every((r) => typeof r === 'object' && r !== null && 'fps' in r);
}

/**
 * The pipelines of a run, found by their shape wherever they are in the report (`pipeline`,
 * or an array of them).
 * @param {BenchReport} report
 * @returns {PipelineResult[]}
 */
function reportPipelines(report) {
  return Object.values(report).flatMap((value) => /** @type {unknown[]} */ (Array.isArray(value) ? value : [value])).filter(isPipeline);
}

/**
 * One target in either run: its id and words, and each run's verdict and figures (`null`
 * where that run did not judge it: a run saved before targets were judged, or without the
 * scenario).
 * @typedef {{ id: string, target: string, base: TargetResult | null, current: TargetResult | null }} TargetRow
 */

/**
 * The targets either run judged (its pipelines' `targets`), in the order the base run has
 * them, then any only the current run has. Runs saved before targets were judged have none.
 * @param {BenchReport} base
 * @param {BenchReport} current
 * @returns {TargetRow[]}
 */
export function compareTargets(base, current) {
  const targets = (/** @type {BenchReport} */ report) => reportPipelines(report).flatMap((p) => (Array.isArray(p.targets) ? p.targets : []));
  const was = new Map(targets(base).map((t) => [t.id, t]));
  const now = new Map(targets(current).map((t) => [t.id, t]));
  const ids = [...new Set([...was.keys(), ...now.keys()])];
  return ids.map((id) => {
    const either = /** @type {TargetResult} */ (now.get(id) ?? was.get(id));
    return { id, target: either.target, base: was.get(id) ?? null, current: now.get(id) ?? null };
  });
}

/**
 * Every figure of a run, in the order its tables show them. Pipelines are found by their
 * shape wherever they are in the report (`pipeline`, or an array of them).
 * @param {BenchReport} report
 * @returns {Entry[]}
 */
export function reportEntries(report) {
  /** @type {Entry[]} */
  const entries = [];
  for (const scenario of report.scenarios ?? []) {
    if (!Array.isArray(scenario.points)) continue;
    const variants = new Map((scenario.variants ?? []).map((v) => [v.id, v]));
    const throughput = scenario.metric === 'throughput';
    const ratioHeading = scenario.ratio === 'first-size' ? `vs ${formatSize(scenario.points[0]?.size ?? 0)}` : 'vs raw';
    for (const point of scenario.points) {
      for (const result of point.results) {
        entries.push({
          scenario: scenario.id,
          size: formatSize(point.size),
          sizeOrder: point.size,
          variant: result.variant,
          label: variants.get(result.variant)?.label ?? result.variant,
          role: variants.get(result.variant)?.role ?? null,
          figure: throughput ? 'GB/s' : 'µs/op',
          direction: throughput ? 'throughput' : 'time',
          value: throughput ? result.gbps.median : result.ms.median * 1000,
          ratio: result.ratio ?? null,
          ratioHeading,
        });
      }
    }
  }
  for (const pipeline of reportPipelines(report)) {
    const variants = new Map((pipeline.variants ?? []).map((v) => [v.id, v]));
    const size = pipeline.frame ? `${pipeline.frame.width}x${pipeline.frame.height}` : 'no frame';
    const sizeOrder = pipeline.frame ? pipeline.frame.width * pipeline.frame.height : 0;
    for (const result of pipeline.results) {
      const common = { scenario: pipeline.id, size, sizeOrder, variant: result.variant, label: variants.get(result.variant)?.label ?? result.variant, role: variants.get(result.variant)?.role ?? null, ratioHeading: 'vs naive' };
      entries.push({ ...common, figure: 'fps', direction: 'throughput', value: result.fps.median, ratio: result.vsNaive ?? null });
      const main = result.mainThreadMsPerFrame;
      if (main) entries.push({ ...common, figure: 'main-thread ms/frame', direction: 'time', value: main.median, ratio: null });
      const latency = result.captureToScreenMs;
      if (latency) entries.push({ ...common, figure: 'capture-to-screen ms', direction: 'time', value: latency.median, ratio: null });
    }
  }
  return entries;
}

/**
 * @param {Entry} entry
 */
function keyOf(entry) {
  return JSON.stringify([entry.scenario, entry.size, entry.variant, entry.figure]);
}

/**
 * Compares two runs' figures: `current` (this run) against `base` (the saved one). Rows in
 * the order of the tables: scenarios and variants as the base run has them (then any only
 * the current run has), sizes ascending; figures in only one run are rows of their own.
 * @param {BenchReport} base
 * @param {BenchReport} current
 * @param {{ noise?: number }} [options] `noise`: how far a speed may stray from 1, or a ratio
 *   move, before it is flagged (default 0.2)
 * @returns {CompareRow[]}
 */
export function compareReports(base, current, options = {}) {
  const noise = options.noise ?? DEFAULT_NOISE;
  const ours = reportEntries(current);
  const theirs = reportEntries(base);
  const baseByKey = new Map(theirs.map((e) => [keyOf(e), e]));
  const currentByKey = new Map(ours.map((e) => [keyOf(e), e]));
  /** @type {Map<string, number>} */
  const scenarioOrder = new Map();
  /** @type {Map<string, number>} */
  const variantOrder = new Map();
  /** @type {Map<string, { entry: Entry, index: number }>} */
  const all = new Map();
  for (const entry of [...theirs, ...ours]) {
    if (!scenarioOrder.has(entry.scenario)) scenarioOrder.set(entry.scenario, scenarioOrder.size);
    const variantKey = `${entry.scenario}\n${entry.variant}`;
    if (!variantOrder.has(variantKey)) variantOrder.set(variantKey, variantOrder.size);
    const key = keyOf(entry);
    if (!all.has(key)) all.set(key, { entry, index: all.size });
  }
  const ordered = [...all.values()].sort((a, b) =>
    (scenarioOrder.get(a.entry.scenario) ?? 0) - (scenarioOrder.get(b.entry.scenario) ?? 0)
    || a.entry.sizeOrder - b.entry.sizeOrder
    || (variantOrder.get(`${a.entry.scenario}\n${a.entry.variant}`) ?? 0) - (variantOrder.get(`${b.entry.scenario}\n${b.entry.variant}`) ?? 0)
    || a.index - b.index);
  // A move of exactly the noise is not beyond it, whatever the last bit of the float says.
  const beyond = (/** @type {number} */ change) => Math.abs(change) > noise + 1e-9;
  return ordered.map(({ entry }) => {
    const key = keyOf(entry);
    const was = baseByKey.get(key);
    const now = currentByKey.get(key);
    /** @type {string[]} */
    const flags = [];
    let speed = null;
    let ratioChange = null;
    if (was && now) {
      speed = entry.direction === 'throughput' ? now.value / was.value : was.value / now.value;
      if (Number.isFinite(speed) && beyond(speed - 1)) flags.push(speed < 1 ? 'slower' : 'faster');
      if (was.ratio !== null && now.ratio !== null) {
        ratioChange = now.ratio - was.ratio;
        // A baseline's ratio against the fastest baseline says nothing about our code.
        if (entry.role !== 'raw' && entry.role !== 'library' && beyond(ratioChange)) flags.push(ratioChange < 0 ? 'ratio down' : 'ratio up');
      }
    }
    return {
      scenario: entry.scenario,
      size: entry.size,
      variant: entry.variant,
      label: entry.label,
      role: entry.role,
      figure: entry.figure,
      ratioHeading: entry.ratioHeading,
      base: was?.value ?? null,
      current: now?.value ?? null,
      speed,
      baseRatio: was?.ratio ?? null,
      currentRatio: now?.ratio ?? null,
      ratioChange,
      only: was && now ? null : was ? 'base' : 'current',
      flags,
    };
  });
}

/**
 * One line about a run: when, on what, full or quick.
 * @param {BenchReport} report
 */
function runLine(report) {
  const adapter = report.adapter ?? { vendor: '', architecture: '', description: '' };
  const name = `${adapter.vendor || '?'} / ${adapter.architecture || '?'}${adapter.description ? ` (${adapter.description})` : ''}`;
  return `${report.startedAt}, ${name}, ${report.quick ? 'quick' : 'full'}`;
}

/**
 * What makes two runs' figures not comparable, one line each: a quick run, another adapter,
 * other settings.
 * @param {BenchReport} base
 * @param {BenchReport} current
 * @returns {string[]}
 */
export function comparabilityWarnings(base, current) {
  /** @type {string[]} */
  const warnings = [];
  if (base.quick || current.quick) warnings.push('a quick run is compared: its figures (fewer, shorter samples) are not comparable with a full run\'s.');
  const adapter = (/** @type {BenchReport} */ r) => `${r.adapter?.vendor ?? '?'} / ${r.adapter?.architecture ?? '?'}`;
  if (adapter(base) !== adapter(current)) warnings.push(`the runs are on different adapters (${adapter(base)}, ${adapter(current)}): compare ratios, not speeds.`);
  if (!base.quick && !current.quick && JSON.stringify(base.settings) !== JSON.stringify(current.settings)) warnings.push('the runs were measured with different settings (runs, warm-up, sample length).');
  return warnings;
}

/**
 * Rows as aligned columns: the first `textColumns` and the last to the left, the figures
 * between them to the right.
 * @param {readonly (readonly string[])[]} rows
 * @param {number} textColumns
 */
function table(rows, textColumns) {
  const widths = rows.reduce((/** @type {number[]} */ w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  const left = (/** @type {number} */ i, /** @type {number} */ n) => i < textColumns || i === n - 1;
  return rows.map((row) => row.map((cell, i) => (left(i, row.length) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/**
 * A figure as the tables show it.
 * @param {number | null} value
 * @param {string} figure
 */
function valueText(value, figure) {
  if (value === null) return '-';
  if (figure === 'fps') return value.toFixed(1);
  if (figure === 'main-thread ms/frame') return value.toFixed(2);
  return sig3(value);
}

/** @param {number} change */
function signed(change) {
  const text = change.toFixed(2);
  return text === '-0.00' ? '+0.00' : change >= 0 ? `+${text}` : text;
}

/** @param {number | null} ratio */
const times = (ratio) => (ratio === null ? '-' : `${ratio.toFixed(2)}x`);

/**
 * The comparison as text tables, one per scenario, with a summary of what moved.
 * @param {BenchReport} base
 * @param {BenchReport} current
 * @param {CompareRow[]} rows what `compareReports(base, current, { noise })` returned
 * @param {{ noise?: number, baseName?: string, currentName?: string, baseFile?: string, currentFile?: string }} [options]
 *   the runs' names in the text (default `A` and `B`) and the files they came from
 */
export function comparisonText(base, current, rows, options = {}) {
  const noise = options.noise ?? DEFAULT_NOISE;
  const a = options.baseName ?? 'A';
  const b = options.currentName ?? 'B';
  const header = [
    `${a}: ${options.baseFile ? `${options.baseFile}, ` : ''}${runLine(base)}`,
    `${b}: ${options.currentFile ? `${options.currentFile}, ` : ''}${runLine(current)}`,
    `speed: ${b}'s median against ${a}'s, above 1 is faster (GB/s and fps: ${b} over ${a}; times: ${a} over ${b}).`,
    `ratio: each run's 'speed vs raw' (or vs the first size, vs naive) and its change. Flagged (<<): a speed off 1, or a ratio of ours moved, by more than ${noise}.`,
    ...comparabilityWarnings(base, current).map((w) => `warning: ${w}`),
  ];
  /** @type {Map<string, CompareRow[]>} */
  const byScenario = new Map();
  for (const row of rows) byScenario.set(row.scenario, [...(byScenario.get(row.scenario) ?? []), row]);
  const sections = [...byScenario].map(([scenario, scenarioRows]) => {
    // A scenario one run did not run at all (a --scenarios subset) is one line, not a table.
    const sides = new Set(scenarioRows.map((r) => r.only));
    if (sides.size === 1 && !sides.has(null)) return `${scenario}: only in ${sides.has('base') ? a : b} (${scenarioRows.length} figures)`;
    const figures = new Set(scenarioRows.map((r) => r.figure));
    const oneFigure = figures.size === 1 ? [...figures][0] : undefined;
    const ratioHeading = scenarioRows[0]?.ratioHeading ?? 'ratio';
    const heading = ['size', 'variant', ...(oneFigure ? [] : ['figure']), a, b, 'speed', `${ratioHeading} ${a}`, `${ratioHeading} ${b}`, 'change', ''];
    const lines = scenarioRows.map((r) => {
      const only = r.only === 'base' ? `only in ${a}` : r.only === 'current' ? `only in ${b}` : '';
      const change = r.ratioChange === null ? '-' : signed(r.ratioChange);
      return [r.size, r.label, ...(oneFigure ? [] : [r.figure]), valueText(r.base, r.figure), valueText(r.current, r.figure), times(r.speed), times(r.baseRatio), times(r.currentRatio), change, r.flags.length > 0 ? `<< ${r.flags.join(', ')}` : only];
    });
    return [`${scenario}${oneFigure ? ` (${oneFigure})` : ''}`, table([heading, ...lines], oneFigure ? 2 : 3)].join('\n');
  });
  const verdict = (/** @type {TargetResult | null} */ t) => (t ? t.verdict : 'not judged (not in the run)');
  const targets = compareTargets(base, current).map((t) => `target ${t.id}: ${a} ${verdict(t.base)}, ${b} ${verdict(t.current)}${t.current ? ` (${t.current.detail})` : ''}`);
  const compared = rows.filter((r) => r.only === null);
  const count = (/** @type {string} */ flag) => rows.filter((r) => r.flags.includes(flag)).length;
  const onlyBase = rows.filter((r) => r.only === 'base').length;
  const onlyCurrent = rows.filter((r) => r.only === 'current').length;
  const summary = [
    `${compared.length} figures in both runs: ${count('slower')} slower and ${count('faster')} faster beyond ${noise}; ratios: ${count('ratio down')} down and ${count('ratio up')} up beyond ${noise}.`,
    ...(onlyBase + onlyCurrent > 0 ? [`${onlyBase} figures only in ${a}, ${onlyCurrent} only in ${b}.`] : []),
  ];
  return [header.join('\n'), ...sections, ...(targets.length > 0 ? [targets.join('\n')] : []), summary.join('\n')].join('\n\n');
}

/**
 * The file name a run is saved under in docs/bench/runs/: `<date>-<vendor>-<architecture>.json`
 * (the date of `startedAt`, UTC), for example `2026-11-26-google-swiftshader.json`; the
 * adapter's device name stands in for an architecture it does not report, and a run in Node
 * on Dawn (`npm run bench:dawn`) ends in `-dawn-node`, so it never takes a page's run's name:
 * `2026-11-26-nvidia-h100-80gb-hbm3-dawn-node.json`.
 * @param {Pick<BenchReport, 'startedAt' | 'adapter'> & { userAgent?: string }} report
 */
export function savedRunName(report) {
  const date = /^\d{4}-\d{2}-\d{2}/.exec(report.startedAt)?.[0] ?? 'undated';
  const { vendor, architecture, device, description } = report.adapter;
  const named = device ?? '';
  const model = architecture || (named.toLowerCase().startsWith(vendor.toLowerCase()) ? named.slice(vendor.length) : named);
  const words = [vendor, model].filter(Boolean);
  const slug = (words.length > 0 ? words : [description]).join('-').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const runtime = /^Node\b/.test(report.userAgent ?? '') ? '-dawn-node' : '';
  return `${date}-${slug || 'unknown-adapter'}${runtime}.json`;
}

/**
 * Reads a bench JSON file; throws with a one-line reason when it is not one.
 * @param {string} path
 * @returns {BenchReport}
 */
export function readReport(path) {
  const reason = (/** @type {unknown} */ error) => (error instanceof Error ? error.message : String(error));
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${reason(error)}`);
  }
  let parsed;
  try {
    parsed = /** @type {unknown} */ (JSON.parse(text));
  } catch (error) {
    throw new Error(`${path} is not JSON: ${reason(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(Reflect.get(parsed, 'scenarios')) || typeof Reflect.get(parsed, 'startedAt') !== 'string') {
    throw new Error(`${path} is not a benchmark report (no startedAt and scenarios): expected what \`npm run bench\` writes`);
  }
  return /** @type {BenchReport} */ (parsed);
}

/**
 * Parses `--noise N`; throws on anything but a number at or above 0.
 * @param {string | undefined} text
 */
export function parseNoise(text) {
  if (text === undefined) return DEFAULT_NOISE;
  const noise = Number(text);
  if (text.trim() === '' || !Number.isFinite(noise) || noise < 0) throw new Error(`--noise wants a number at or above 0, not '${text}'`);
  return noise;
}
