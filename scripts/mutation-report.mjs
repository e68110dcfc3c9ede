// Turns StrykerJS's JSON report (reports/mutation/mutation.json) into a Markdown page: the
// score per file, the count of each outcome, and every mutant the tests let live, with the
// reason for those judged equivalent (scripts/mutation-equivalent.mjs).
// `node scripts/mutation-report.mjs [report.json] [out.md]`; scripts/mutation.mjs calls it
// after each run. Node built-ins only.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from './bootstrap.mjs';
import { EQUIVALENT } from './mutation-equivalent.mjs';

/**
 * @typedef {{ line: number, column: number }} Position
 * @typedef {{ id: string, mutatorName: string, replacement?: string, status: string, location: { start: Position, end: Position } }} Mutant
 * @typedef {{ source: string, mutants: Mutant[] }} FileResult
 * @typedef {{ files: Record<string, FileResult>, thresholds: { high: number, low: number, break?: number | null }, framework?: { name?: string, version?: string } }} Report
 * @typedef {{ killed: number, timeout: number, survived: number, noCoverage: number, ignored: number, other: number }} Counts
 */

/** Outcomes that count against the score (Killed and Timeout count for it). */
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

/**
 * The source text a mutant replaces.
 * @param {string} source
 * @param {Mutant['location']} location
 */
function originalText(source, location) {
  const lines = source.split('\n');
  const { start, end } = location;
  if (start.line === end.line) return (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1);
  const parts = [(lines[start.line - 1] ?? '').slice(start.column - 1), ...lines.slice(start.line, end.line - 1), (lines[end.line - 1] ?? '').slice(0, end.column - 1)];
  return parts.join('\n');
}

/**
 * One line of code as shown in the page, and as EQUIVALENT names it: whitespace collapsed,
 * cut at 80 characters.
 * @param {string} text
 */
export function snippet(text) {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

/**
 * Inline Markdown code that survives backticks inside it.
 * @param {string} text
 */
function code(text) {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${text}${fence === '``' ? ' ' : ''}${fence}`;
}

/** @returns {Counts} */
const zero = () => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, other: 0 });

/**
 * @param {Counts} counts
 * @param {string} status
 */
function count(counts, status) {
  if (status === 'Killed') counts.killed += 1;
  else if (status === 'Timeout') counts.timeout += 1;
  else if (status === 'Survived') counts.survived += 1;
  else if (status === 'NoCoverage') counts.noCoverage += 1;
  else if (status === 'Ignored') counts.ignored += 1;
  else counts.other += 1;
}

/**
 * The mutation score in percent (caught over caught and not caught), or NaN with nothing to test.
 * @param {Counts} c
 */
export function score(c) {
  const detected = c.killed + c.timeout;
  return (detected / (detected + c.survived + c.noCoverage)) * 100;
}

/** @param {number} value */
const percent = (value) => (Number.isNaN(value) ? 'n/a' : `${value.toFixed(2)}%`);

/**
 * The note of EQUIVALENT that names a surviving mutant, if any.
 * @param {{ file: string, mutator: string, line: string, original: string, replacement: string }} mutant
 */
function equivalenceOf(mutant) {
  return EQUIVALENT.find((e) => e.file === mutant.file && e.mutator === mutant.mutator && e.line === mutant.line && e.original === mutant.original && e.replacement === mutant.replacement);
}

/**
 * Renders the Markdown page of a report. `how.thresholds`, when given, are shown instead of
 * the run's (a page written again from a saved report shows the thresholds now in force).
 * @param {Report} report
 * @param {{ partial: boolean, command: string, thresholds?: Report['thresholds'] }} how
 */
export function renderReport(report, how) {
  const files = Object.keys(report.files).map((name) => relative(root, join(root, name))).sort();
  const byName = new Map(Object.entries(report.files).map(([name, result]) => [relative(root, join(root, name)), result]));
  const total = zero();
  /** @type {string[]} */
  const rows = [];
  /** @type {string[]} */
  const survivors = [];
  /** @type {string[]} */
  const equivalent = [];
  /** @type {string[]} */
  const uncovered = [];
  /** @type {string[]} */
  const ignored = [];
  let unusedEquivalent = EQUIVALENT.filter((e) => files.includes(e.file));

  for (const file of files) {
    const result = byName.get(file);
    if (!result) continue;
    const counts = zero();
    const mutants = [...result.mutants].sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
    for (const mutant of mutants) {
      count(counts, mutant.status);
      count(total, mutant.status);
      if (!UNDETECTED.has(mutant.status) && mutant.status !== 'Ignored') continue;
      const named = {
        file,
        mutator: mutant.mutatorName,
        line: snippet(result.source.split('\n')[mutant.location.start.line - 1] ?? ''),
        original: snippet(originalText(result.source, mutant.location)),
        replacement: snippet(mutant.replacement ?? ''),
      };
      const where = `${file}:${mutant.location.start.line}:${mutant.location.start.column}`;
      const entry = `- ${where} ${named.mutator}: ${code(named.original)} → ${code(named.replacement)} in ${code(named.line)}`;
      const note = equivalenceOf(named);
      // A note may name a static mutant that this run left out: it still matches the code.
      if (note) unusedEquivalent = unusedEquivalent.filter((e) => e !== note);
      if (mutant.status === 'Ignored') ignored.push(note ? `${entry}: ${note.reason}` : entry);
      else if (note) equivalent.push(`${entry}: ${note.reason}`);
      else if (mutant.status === 'Survived') survivors.push(entry);
      else uncovered.push(entry);
    }
    if (counts.killed + counts.timeout + counts.survived + counts.noCoverage + counts.ignored + counts.other === 0) continue;
    rows.push(`| ${file} | ${percent(score(counts))} | ${counts.killed} | ${counts.timeout} | ${counts.survived} | ${counts.noCoverage} | ${counts.ignored} | ${counts.other} |`);
  }

  const { high, low, break: breakAt } = how.thresholds ?? report.thresholds;
  const tool = report.framework?.name ? `${report.framework.name} ${report.framework.version ?? ''}`.trim() : 'StrykerJS';
  return [
    '# Mutation testing: src/ and remote/',
    '',
    `Written by \`scripts/mutation-report.mjs\` from ${tool}'s report of \`${how.command}\`` +
      (how.partial ? ' (a run over some files only: not the full picture).' : '.') +
      ' How to run it and how to raise the threshold: CONTRIBUTING.md, "Mutation testing".',
    '',
    `Mutation score: **${percent(score(total))}** (${total.killed + total.timeout} of ${total.killed + total.timeout + total.survived + total.noCoverage} mutants caught). ` +
      `Thresholds: the command fails below ${breakAt ?? 'no score'}%; below ${low}% is low, ${high}% and up is high.`,
    '',
    'A mutant is one small slip put into the code (a condition flipped, a call removed, a value changed).',
    'Killed: a test failed. Timeout: the tests hung (an endless loop or a promise that never settles), which counts as caught.',
    'Survived: every test that runs the code passed. No coverage: no Node test runs that code at all.',
    'Static: code that runs only as its module loads, left out of the run and of the score (`ignoreStatic` in stryker.config.mjs says why); they are listed at the end.',
    'Other: mutants Stryker could not run (compile and runtime errors).',
    '',
    '| file | score | killed | timeout | survived | no coverage | static | other |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    `| **all** | **${percent(score(total))}** | ${total.killed} | ${total.timeout} | ${total.survived} | ${total.noCoverage} | ${total.ignored} | ${total.other} |`,
    '',
    '## Surviving mutants judged equivalent',
    '',
    'No test can kill these: the code behaves the same to every caller with or without the slip, for the reason given.',
    '',
    ...(equivalent.length > 0 ? equivalent : ['None.']),
    '',
    '## Surviving mutants',
    '',
    'Each is a slip the Node tests do not notice: file:line:column, the mutator, the code and what it was replaced with, in its line.',
    '',
    ...(survivors.length > 0 ? survivors : ['None.']),
    '',
    '## Mutants no Node test runs',
    '',
    ...(uncovered.length > 0 ? uncovered : ['None.']),
    '',
    '## Static mutants, not run',
    '',
    'Code that runs only as its module loads. A note of scripts/mutation-equivalent.mjs that names one is shown with it.',
    '',
    ...(ignored.length > 0 ? ignored : ['None.']),
    ...(unusedEquivalent.length > 0 && !how.partial
      ? ['', '## Equivalent-mutant notes that matched nothing', '', 'The code changed under these notes of scripts/mutation-equivalent.mjs: remove or update them.', '', ...unusedEquivalent.map((e) => `- ${e.file} ${e.mutator}: ${code(e.original)} → ${code(e.replacement)} in ${code(e.line)}`)]
      : []),
    '',
  ].join('\n');
}

/**
 * Reads Stryker's JSON report and writes its Markdown page.
 * @param {string} jsonPath
 * @param {string} mdPath
 * @param {{ partial: boolean, command: string, thresholds?: Report['thresholds'] }} how
 */
export function writeReport(jsonPath, mdPath, how) {
  /** @type {Report} */
  const report = JSON.parse(readFileSync(jsonPath, 'utf8'));
  writeFileSync(mdPath, renderReport(report, how));
  console.log(`webgpu-dmabuf: wrote ${relative(root, mdPath)}`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [jsonPath = join(root, 'reports/mutation/mutation.json'), mdPath = join(root, 'docs/mutation.md')] = process.argv.slice(2);
  const { default: config } = await import('../stryker.config.mjs');
  const thresholds = /** @type {Report['thresholds']} */ (config.thresholds);
  writeReport(jsonPath, mdPath, { partial: false, command: 'npm run test:mutation', thresholds });
}
