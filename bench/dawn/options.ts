/**
 * The command line of the benchmark in Node on Dawn (`npm run bench:dawn`, or `node
 * bench.mjs` of its bundle): the options of `npm run bench` that make sense without a page,
 * checked, with one clear reason when one is wrong.
 */
import { parseArgs } from 'node:util';
import type { SkippedScenario } from '../report.js';
import { SCENARIO_IDS, type ScenarioId } from '../scenario.js';

/** One line of usage and what each option does. */
export const DAWN_USAGE = `node bench.mjs [--quick] [--out FILE] [--scenarios a,b] [--runs N] [--max-size MIB] [--save] [--compare FILE] [--noise N] [--backend NAME]
node bench.mjs --show FILE [--compare FILE] [--noise N] [--save]

--quick          the short version (fewer sizes and runs), for smoke checks
--out FILE       where the JSON goes (default bench-dawn-results.json)
--scenarios a,b  a comma-separated subset of ${SCENARIO_IDS.join(', ')}
--runs N         timed samples per variant instead of the settings' (a shorter run; recorded in the JSON's settings)
--max-size MIB   leave out the sizes above MIB MiB, keeping each scenario's smallest (a shorter run)
--save           also keep the JSON as docs/bench/runs/<date>-<vendor>-<architecture>-dawn-node.json (full runs only)
--runs-dir DIR   where --save keeps runs (default docs/bench/runs under the working directory)
--compare FILE   after the run, each figure's speed against FILE's, flagged beyond --noise (default 0.2)
--backend NAME   Dawn's backend (default vulkan)
--show FILE      run nothing: print FILE's table (and --compare's), or --save it`;

/** What the command line asked for. */
export interface DawnBenchArgs {
  readonly help: boolean;
  readonly quick: boolean;
  /** Where the JSON goes, as given (relative to the working directory). */
  readonly out: string;
  /** The scenarios asked for, in the order they run; every one by default. */
  readonly scenarios: readonly ScenarioId[];
  /** Timed samples per variant, when capped. */
  readonly runs: number | undefined;
  /** The largest size to measure, in bytes, when capped. */
  readonly maxSize: number | undefined;
  readonly save: boolean;
  readonly runsDir: string;
  readonly compare: string | undefined;
  /** As given; bench-compare's parseNoise checks it. */
  readonly noise: string | undefined;
  readonly backend: string;
  /** A report to print instead of running. */
  readonly show: string | undefined;
}

/** Why the scenarios that need a page (the pipelines, and those with a worker on WebGPU) are not run in Node. */
export const PAGE_ONLY_REASON = 'needs a page (DOM, canvas, or a worker with WebGPU): browser only';

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} wants a whole number of 1 or more, not '${text}'`);
  return value;
}

function scenarioList(text: string | undefined): readonly ScenarioId[] {
  if (text === undefined) return SCENARIO_IDS;
  const known: readonly string[] = SCENARIO_IDS;
  const asked = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = asked.filter((s) => !known.includes(s));
  if (unknown.length > 0 || asked.length === 0) throw new Error(`--scenarios: unknown '${unknown.join(', ') || text}'; the scenarios are ${SCENARIO_IDS.join(', ')}`);
  return SCENARIO_IDS.filter((id) => asked.includes(id));
}

/**
 * Parses `argv` (without node and the script).
 * @throws {Error} with a one-line reason for an unknown option, a bad value, or options that
 *   do not go together (`--save` of a `--quick` or capped run).
 */
export function parseDawnArgs(argv: readonly string[]): DawnBenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      out: { type: 'string' },
      scenarios: { type: 'string' },
      runs: { type: 'string' },
      'max-size': { type: 'string' },
      save: { type: 'boolean' },
      'runs-dir': { type: 'string' },
      compare: { type: 'string' },
      noise: { type: 'string' },
      backend: { type: 'string' },
      show: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const maxMiB = positiveInteger('--max-size', values['max-size']);
  const args: DawnBenchArgs = {
    help: values.help ?? false,
    quick: values.quick ?? false,
    out: values.out ?? 'bench-dawn-results.json',
    scenarios: scenarioList(values.scenarios),
    runs: positiveInteger('--runs', values.runs),
    maxSize: maxMiB === undefined ? undefined : maxMiB * 1024 * 1024,
    save: values.save ?? false,
    runsDir: values['runs-dir'] ?? 'docs/bench/runs',
    compare: values.compare,
    noise: values.noise,
    backend: values.backend ?? 'vulkan',
    show: values.show,
  };
  // Saved runs are compared with each other: only full, uncapped runs are comparable.
  if (args.save && args.show === undefined && (args.quick || args.runs !== undefined || args.maxSize !== undefined)) {
    throw new Error('--save keeps full runs only: a --quick, --runs or --max-size run is not comparable with a saved run');
  }
  return args;
}

/** The scenarios of `wanted` that need a page, as `skipped` lists them; `runnable` are those Node runs. */
export function pageOnlySkipped(wanted: readonly ScenarioId[], runnable: readonly ScenarioId[]): SkippedScenario[] {
  return wanted.filter((id) => !runnable.includes(id)).map((id) => ({ id, reason: PAGE_ONLY_REASON }));
}
