/**
 * The per-operation part of the benchmark: two devices of their own (an exporter and an
 * importer, as two modules have), the stock heap on the first, TypeGPU on the first for its
 * baselines, then every chosen scenario size by size, variants interleaved. No DOM: the page
 * (run-bench.ts) and Node on Dawn (dawn/bench-dawn.ts) both run it, Node without the
 * `pageOnly` ones (a worker with WebGPU).
 */
import { tgpu } from 'typegpu';
import { GpuHeap, requestGpuDevice, type GpuHeapStats } from 'webgpu-dmabuf';
import { measureInterleaved, type Figure, type MeasureSettings } from './measure.js';
import { withRatios, type BenchAdapter, type ScenarioResult, type SkippedScenario } from './report.js';
import { formatSize } from './format.mjs';
import type { BenchEnv, Scenario } from './scenario.js';
import { cpuRead } from './scenarios/cpu-read.js';
import { cpuWrite } from './scenarios/cpu-write.js';
import { mapCrossDevice } from './scenarios/map-cross-device.js';
import { mapCrossRealm } from './scenarios/map-cross-realm.js';
import { mapSameDevice } from './scenarios/map-same-device.js';
import { mlImport } from './scenarios/ml-import.js';
import { pageLatency } from './scenarios/page-latency.js';

/** The scenarios measured operation by operation, size by size, in order; `camera-pipeline` and `frame-pipeline` run after them. */
export const SCENARIOS: readonly Scenario[] = [cpuRead, cpuWrite, pageLatency, mapSameDevice, mapCrossDevice, mapCrossRealm, mlImport];

/** Progress of one scenario: `advanced` when one warm-up run or sample is done, not when a size is announced. */
export type Step = (label: string, advanced: boolean) => void;

/** What the per-operation scenarios gave; the caller owns it (plain data). */
export interface OperationsRun {
  /** The smallest step `performance.now()` was seen to take, in ms. */
  readonly timerResolutionMs: number;
  /** The exporter's adapter. */
  readonly adapter: BenchAdapter;
  readonly scenarios: readonly ScenarioResult[];
  /** The scenarios that threw, with the error. */
  readonly failed: readonly SkippedScenario[];
  /** The bench heap's counts after the run. */
  readonly heapAfter: GpuHeapStats;
}

/** The smallest step of `performance.now()` seen in a short busy loop, ms. */
function timerResolution(): number {
  let smallest = Infinity;
  let last = performance.now();
  const end = last + 20;
  while (last < end) {
    const now = performance.now();
    if (now > last) smallest = Math.min(smallest, now - last);
    last = now;
  }
  return smallest;
}

async function makeEnv(): Promise<BenchEnv> {
  const exporter = await requestGpuDevice();
  exporter.label = 'bench exporter';
  const importer = await requestGpuDevice();
  importer.label = 'bench importer';
  const heap = new GpuHeap(exporter, { name: 'bench' });
  return { exporter, importer, heap, root: tgpu.initFromDevice({ device: exporter }) };
}

async function runScenario(env: BenchEnv, scenario: Scenario, quick: boolean, settings: MeasureSettings, step: Step): Promise<ScenarioResult> {
  const points = [];
  const figures: Map<string, Figure>[] = [];
  for (const size of scenario.sizes(quick)) {
    const label = `${scenario.id} ${formatSize(size)}`;
    step(label, false);
    const prepared = await scenario.prepare(env, size);
    try {
      let atWarm = env.heap.stats();
      const afterWarmup = () => {
        atWarm = env.heap.stats();
        prepared.afterWarmup?.();
      };
      const measured = await measureInterleaved(prepared.ops, settings, { step: () => { step(label, true); }, afterWarmup });
      const after = env.heap.stats();
      figures.push(measured);
      // What the heap did during the timed runs, for every variant together (baselines do not use it).
      const heap = { heapStagingBuffersCreated: after.stagingBuffersCreated - atWarm.stagingBuffersCreated, heapBytesCopied: after.bytesCopied - atWarm.bytesCopied, heapMirrorBuffersCreated: after.mirrorBuffersCreated - atWarm.mirrorBuffersCreated };
      points.push({ size, bytesPerOp: prepared.bytesPerOp, extras: { ...heap, ...prepared.extras?.() } });
    } finally {
      await prepared.dispose();
    }
  }
  const { id, title, measures, metric, ratio, variants } = scenario;
  return { id, title, measures, metric, ratio, variants, points: withRatios(ratio, variants, points, figures) };
}

/** How many steps (warm-up runs and samples) {@link runOperations} reports for `chosen`. */
export function operationSteps(chosen: readonly Scenario[], quick: boolean, settings: MeasureSettings): number {
  return chosen.reduce((sum, s) => sum + s.sizes(quick).length * s.variants.length * (settings.warmup + settings.runs), 0);
}

/**
 * Runs `chosen` (in that order) on two devices of its own, which it makes and destroys. A
 * scenario that throws is listed in `failed` with the error; the others still run.
 * @throws {DmaBufError} `ENODEV` when there is no WebGPU device to be had.
 */
export async function runOperations(chosen: readonly Scenario[], quick: boolean, settings: MeasureSettings, step: Step): Promise<OperationsRun> {
  const timerResolutionMs = timerResolution();
  const env = await makeEnv();
  const scenarios: ScenarioResult[] = [];
  const failed: SkippedScenario[] = [];
  try {
    for (const scenario of chosen) {
      try {
        scenarios.push(await runScenario(env, scenario, quick, settings, step));
      } catch (error) {
        failed.push({ id: scenario.id, reason: `failed: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
  } finally {
    env.root.destroy();
  }
  const heapAfter = env.heap.stats();
  if (heapAfter.liveBuffers === 0) env.heap.destroy();
  const { vendor, architecture, device, description } = env.exporter.adapterInfo;
  env.exporter.destroy();
  env.importer.destroy();
  return { timerResolutionMs, adapter: { vendor, architecture, device, description }, scenarios, failed, heapAfter };
}
