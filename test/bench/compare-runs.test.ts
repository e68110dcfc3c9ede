// The comparison of saved runs (bench/compare-runs.mjs, and its launcher
// scripts/bench-compare.mjs) in Node: speeds (throughput ours over theirs, times theirs over
// ours), the change of each ratio and the noise flags, figures in one run only, the saved
// runs' file names, and every saved run under docs/bench/runs/ against itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Figure } from '../../bench/measure.js';
import type { BenchReport, PipelineResult, PipelineVariantResult, ScenarioResult } from '../../bench/report.js';
import type { RatioBasis, ScenarioId, VariantInfo } from '../../bench/scenario.js';
import { compareReports, compareTargets, comparisonText, readReport, savedRunName } from '../../bench/compare-runs.mjs';
import { pipelineTargets } from '../../bench/targets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const root = join(import.meta.dirname, '..', '..');
const runsDir = join(root, 'docs', 'bench', 'runs');

const figure = (median: number): Figure => ({ median, min: median, max: median, samples: [median], batch: 1 });

/** One variant's median at one size: `[variant, ms, ratio]`. */
type Timing = readonly [variant: string, ms: number, ratio: number | null];

/** A scenario in the shape `npm run bench` writes, from medians in ms per operation. */
function scenario(id: ScenarioId, metric: 'throughput' | 'latency', ratio: RatioBasis, variants: readonly VariantInfo[], points: readonly (readonly [size: number, timings: readonly Timing[]])[]): ScenarioResult {
  return {
    id,
    title: id,
    measures: `${id}, by hand`,
    metric,
    ratio,
    variants,
    points: points.map(([size, timings]) => ({
      size,
      bytesPerOp: size,
      extras: {},
      results: timings.map(([variant, ms, r]) => ({ variant, ms: figure(ms), gbps: { median: size / (ms * 1e6), min: size / (ms * 1e6), max: size / (ms * 1e6) }, ratio: r })),
    })),
  };
}

const readVariants: VariantInfo[] = [
  { id: 'dmabuf', label: 'dmabuf kmap', role: 'ours', against: ['raw'] },
  { id: 'raw', label: 'raw, reused staging', role: 'raw', against: ['raw'] },
];

/** `cpu-read` at 1 MiB: ours takes `oursMs` with `ratio`, raw 1 ms. */
function cpuRead(oursMs: number, ratio: number, more: readonly (readonly [number, readonly Timing[]])[] = []): ScenarioResult {
  return scenario('cpu-read', 'throughput', 'baseline', readVariants, [[MiB, [['dmabuf', oursMs, ratio], ['raw', 1, 1]]], ...more]);
}

/** `page-latency`: ours takes `oursMs`, raw 0.5 ms. */
function pageLatency(oursMs: number, ratio: number): ScenarioResult {
  return scenario('page-latency', 'latency', 'baseline', readVariants, [[64 * MiB, [['dmabuf', oursMs, ratio], ['raw', 0.5, 1]]]]);
}

function pipelineVariant(variant: string, fps: number, mainMs: number | null, vsNaive: number, latencyMs: number | null = null): PipelineVariantResult {
  return { variant, fps: figure(fps), cameraFps: figure(fps), cameraSourceFps: 20, mainThreadMsPerFrame: mainMs === null ? null : figure(mainMs), captureToScreenMs: latencyMs === null ? null : figure(latencyMs), framesShown: 100, framesDropped: 0, bytesCopiedPerFrame: 0, ofCamera: fps / 20, vsNaive };
}

function pipeline(results: readonly PipelineVariantResult[]): PipelineResult {
  return {
    id: 'camera-pipeline',
    title: 'camera-pipeline',
    measures: 'by hand',
    variants: [
      { id: 'shared', label: 'dmabuf, one shared device', role: 'ours' },
      { id: 'naive', label: 'naive: read back, upload again', role: 'raw' },
    ],
    frame: { width: 640, height: 480 },
    cameraPath: 'pattern',
    windowMs: 1000,
    mainThreadMeasured: true,
    restingMainThreadMsPerSecond: 9,
    results,
    buffersLeftAlive: 0,
  };
}

/** A whole report around the given scenarios. */
function report(scenarios: readonly ScenarioResult[], pipe: PipelineResult | null = null, more: Partial<BenchReport> = {}): BenchReport {
  return {
    startedAt: '2026-11-26T14:03:48.724Z',
    finishedAt: '2026-11-26T14:08:00.000Z',
    quick: false,
    adapter: { vendor: 'google', architecture: 'swiftshader', device: '', description: '' },
    userAgent: 'test',
    crossOriginIsolated: true,
    timerResolutionMs: 0.005,
    settings: { warmup: 2, runs: 9, sampleMs: 25, maxBatch: 200, windowMs: 1000 },
    scenarios,
    pipeline: pipe,
    skipped: [],
    heapAfter: { liveBuffers: 0, storageBytes: 0, mirrorBytes: 0, idleMirrorBytes: 0, mirrorBuffersCreated: 0, stagingBytes: 0, bytesCopied: 0, stagingBuffersCreated: 0 },
    ...more,
  };
}

const row = (rows: ReturnType<typeof compareReports>, scenarioId: string, variant: string, figureName?: string) => {
  const found = rows.find((r) => r.scenario === scenarioId && r.variant === variant && (figureName === undefined || r.figure === figureName));
  if (!found) throw new Error(`no row for ${scenarioId} ${variant} ${figureName ?? ''}`);
  return found;
};

describe('speed: above 1 is always faster', () => {
  test('throughput: this run\'s GB/s over the saved run\'s', () => {
    const rows = compareReports(report([cpuRead(2, 0.5)]), report([cpuRead(1, 1)]));
    const ours = row(rows, 'cpu-read', 'dmabuf');
    expect(ours.figure).toBe('GB/s');
    expect(ours.base).toBeCloseTo(MiB / 2e6);
    expect(ours.current).toBeCloseTo(MiB / 1e6);
    expect(ours.speed).toBeCloseTo(2);
    expect(row(rows, 'cpu-read', 'raw').speed).toBeCloseTo(1);
  });

  test('latency: the saved run\'s time over this run\'s, in µs per operation', () => {
    const rows = compareReports(report([pageLatency(0.5, 1)]), report([pageLatency(1, 0.5)]));
    const ours = row(rows, 'page-latency', 'dmabuf');
    expect(ours.figure).toBe('µs/op');
    expect(ours.base).toBeCloseTo(500);
    expect(ours.current).toBeCloseTo(1000);
    expect(ours.speed).toBeCloseTo(0.5);
  });

  test('camera-pipeline: fps ours over theirs, main-thread ms per frame theirs over ours, vs naive as its ratio', () => {
    const before = report([], pipeline([pipelineVariant('shared', 10, 8, 1.0), pipelineVariant('naive', 10, 12, 1)]));
    const after = report([], pipeline([pipelineVariant('shared', 15, 4, 1.5), pipelineVariant('naive', 10, 12, 1)]));
    const rows = compareReports(before, after);
    const fps = row(rows, 'camera-pipeline', 'shared', 'fps');
    expect(fps.size).toBe('640x480');
    expect(fps.speed).toBeCloseTo(1.5);
    expect(fps.ratioChange).toBeCloseTo(0.5);
    expect(fps.flags).toEqual(['faster', 'ratio up']);
    const main = row(rows, 'camera-pipeline', 'shared', 'main-thread ms/frame');
    expect(main.speed).toBeCloseTo(2);
    expect(main.ratioChange).toBeNull();
    expect(row(rows, 'camera-pipeline', 'naive', 'fps').flags).toEqual([]);
  });
});

describe('noise flags', () => {
  test('a speed off 1 or a ratio of ours moved by more than the noise (default 0.2) is flagged, with its direction', () => {
    const rows = compareReports(report([cpuRead(1, 0.9), pageLatency(1, 0.5)]), report([cpuRead(2, 0.6), pageLatency(0.5, 1)]));
    const read = row(rows, 'cpu-read', 'dmabuf');
    expect(read.ratioChange).toBeCloseTo(-0.3);
    expect(read.flags).toEqual(['slower', 'ratio down']);
    expect(row(rows, 'page-latency', 'dmabuf').flags).toEqual(['faster', 'ratio up']);
  });

  test('moves within the noise are not flagged; --noise narrows it', () => {
    const before = report([cpuRead(1, 0.9)]);
    const after = report([cpuRead(1.1, 0.75)]);
    const wide = row(compareReports(before, after), 'cpu-read', 'dmabuf');
    expect(wide.speed).toBeCloseTo(1 / 1.1);
    expect(wide.ratioChange).toBeCloseTo(-0.15);
    expect(wide.flags).toEqual([]);
    expect(row(compareReports(before, after, { noise: 0.05 }), 'cpu-read', 'dmabuf').flags).toEqual(['slower', 'ratio down']);
  });

  test('a move of exactly the noise is not beyond it', () => {
    // 0.7 - 0.9 is -0.20000000000000007 in floating point; 1 / (1 / 1.2) is not exactly 1.2.
    const rows = compareReports(report([cpuRead(1, 0.9)]), report([cpuRead(1 / 1.2, 0.7)]));
    expect(row(rows, 'cpu-read', 'dmabuf').flags).toEqual([]);
  });

  test('a baseline\'s ratio moving is not flagged (it is against the fastest baseline), its speed is', () => {
    const before = scenario('cpu-read', 'throughput', 'baseline', readVariants, [[MiB, [['dmabuf', 1, 1], ['raw', 1, 1]]]]);
    const after = scenario('cpu-read', 'throughput', 'baseline', readVariants, [[MiB, [['dmabuf', 1, 1], ['raw', 2, 0.5]]]]);
    const raw = row(compareReports(report([before]), report([after])), 'cpu-read', 'raw');
    expect(raw.ratioChange).toBeCloseTo(-0.5);
    expect(raw.flags).toEqual(['slower']);
  });
});

describe('figures in one run only', () => {
  test('a size, a variant or a scenario missing on one side is a row of its own, with no speed and no flags', () => {
    const before = report([cpuRead(1, 1, [[64 * MiB, [['dmabuf', 64, 1], ['raw', 64, 1]]]])]);
    const withVmap = scenario('cpu-read', 'throughput', 'baseline', [...readVariants, { id: 'vmap', label: 'dmabuf vmap', role: 'ours', against: ['raw'] }], [[MiB, [['dmabuf', 1, 1], ['raw', 1, 1], ['vmap', 0.5, 2]]]]);
    const after = report([withVmap, pageLatency(1, 1)]);
    const rows = compareReports(before, after);
    const gone = rows.filter((r) => r.only === 'base');
    const added = rows.filter((r) => r.only === 'current');
    expect(gone.map((r) => `${r.scenario} ${r.size} ${r.variant}`)).toEqual(['cpu-read 64 MiB dmabuf', 'cpu-read 64 MiB raw']);
    expect(added.map((r) => `${r.scenario} ${r.size} ${r.variant}`)).toEqual(['cpu-read 1 MiB vmap', 'page-latency 64 MiB dmabuf', 'page-latency 64 MiB raw']);
    for (const r of [...gone, ...added]) {
      expect(r.speed).toBeNull();
      expect(r.ratioChange).toBeNull();
      expect(r.flags).toEqual([]);
    }
    expect(gone[0]?.current).toBeNull();
    expect(added[0]?.base).toBeNull();
    expect(rows.filter((r) => r.only === null)).toHaveLength(2);
  });

  test('a pipeline without main-thread time has no such figure: the other run\'s is listed as its own', () => {
    const before = report([], pipeline([pipelineVariant('shared', 10, 8, 1)]));
    const after = report([], pipeline([pipelineVariant('shared', 10, null, 1)]));
    const rows = compareReports(before, after);
    expect(row(rows, 'camera-pipeline', 'shared', 'fps').only).toBeNull();
    expect(row(rows, 'camera-pipeline', 'shared', 'main-thread ms/frame').only).toBe('base');
  });

  test('the text lists them as only in one run and counts them', () => {
    const before = report([cpuRead(1, 1, [[64 * MiB, [['dmabuf', 64, 1], ['raw', 64, 1]]]])]);
    const after = report([cpuRead(1, 1)]);
    const text = comparisonText(before, after, compareReports(before, after), { baseName: 'saved', currentName: 'this run' });
    expect(text).toMatch(/^64 MiB +dmabuf kmap .* only in saved$/m);
    expect(text).toContain('2 figures only in saved, 0 only in this run.');
  });

  test('a scenario only one run ran is one line in the text, not a table', () => {
    const before = report([cpuRead(1, 1), pageLatency(1, 1)]);
    const after = report([cpuRead(1, 1)]);
    const text = comparisonText(before, after, compareReports(before, after), { baseName: 'saved', currentName: 'this run' });
    expect(text).toContain('\n\npage-latency: only in saved (2 figures)\n\n');
    expect(text).not.toMatch(/^64 MiB/m);
  });
});

describe('a run against itself', () => {
  test('a hand-made report against itself: every speed 1.00x, every ratio change 0, no flags', () => {
    const run = report([cpuRead(1, 0.8, [[64 * MiB, [['dmabuf', 70, 0.9], ['raw', 64, 1]]]]), pageLatency(0.7, 0.7)], pipeline([pipelineVariant('shared', 16.8, 8.7, 1.06), pipelineVariant('naive', 15.9, 12.1, 1)]));
    const rows = compareReports(run, run);
    expect(rows).toHaveLength(10);
    for (const r of rows) {
      expect(r.speed).toBe(1);
      expect(r.only).toBeNull();
      expect(r.flags).toEqual([]);
      if (r.baseRatio !== null) expect(r.ratioChange).toBe(0);
    }
  });

  const saved = readdirSync(runsDir).filter((name) => name.endsWith('.json'));

  test('docs/bench/runs/ holds at least one saved run, named after its date and adapter', () => {
    expect(saved.length).toBeGreaterThan(0);
    for (const name of saved) expect(name).toMatch(new RegExp(`^${savedRunName(readReport(join(runsDir, name))).replace(/\.json$/, '')}(-\\d+)?\\.json$`));
  });

  test.each(saved)('saved run %s against itself: all 1.00x and no flags, in the text too', (name) => {
    const run = readReport(join(runsDir, name));
    const rows = compareReports(run, run);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.speed === 1 && r.only === null && r.flags.length === 0)).toBe(true);
    const text = comparisonText(run, run, rows);
    expect(text).not.toMatch(/<< (slower|faster|ratio)/);
    expect(text).toContain(`${rows.length} figures in both runs: 0 slower and 0 faster beyond 0.2; ratios: 0 down and 0 up beyond 0.2.`);
  });

  test('the command line compares two files without running anything', () => {
    const file = join(runsDir, saved[0] ?? 'missing.json');
    const cli = spawnSync(process.execPath, [join(root, 'scripts', 'bench-compare.mjs'), file, file], { encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain('0 slower and 0 faster beyond 0.2');
  });
});

describe('camera-pipeline with a worker per module, and its target', () => {
  const saved = readdirSync(runsDir).filter((name) => name.endsWith('.json'));
  const workersLabel = { id: 'workers', label: 'dmabuf, a worker per module', role: 'ours' } as const;
  /** This run: a device per module, a worker per module and naive, with the worker pipeline's main-thread target judged. */
  function withWorkers(workersMainMs: number, workersFps: number): PipelineResult {
    const results = [pipelineVariant('independent', 20, 12, 1), pipelineVariant('workers', workersFps, workersMainMs, workersFps / 20), pipelineVariant('naive', 20, 14, 1)];
    const base = pipeline(results);
    return { ...base, variants: [{ id: 'independent', label: 'dmabuf, a device per module', role: 'ours' }, workersLabel, ...base.variants], targets: pipelineTargets('camera-pipeline', results) };
  }

  test("the main-thread target: at most a tenth of a device per module's, at fps no lower; not judged without main-thread time or the variant", () => {
    const verdict = (results: PipelineVariantResult[]) => pipelineTargets('camera-pipeline', results).find((t) => t.id === 'camera-pipeline/workers-main-thread')?.verdict;
    const independent = pipelineVariant('independent', 20, 12, 1);
    expect(verdict([independent, pipelineVariant('workers', 20, 1.2, 1)])).toBe('met');
    expect(verdict([independent, pipelineVariant('workers', 20, 1.3, 1)])).toBe('missed');
    expect(verdict([independent, pipelineVariant('workers', 19.9, 1, 1)])).toBe('missed');
    expect(verdict([independent, pipelineVariant('workers', 20, null, 1)])).toBe('not judged');
    expect(verdict([independent])).toBe('not judged');
    expect(pipelineTargets('camera-pipeline', [independent, pipelineVariant('workers', 20, 1.2, 1)])[0]?.detail).toBe('main thread 1.20 ms/frame against 12.00 (0.10x), limit 1.20: within; fps 20.0 against 20.0: no lower');
  });

  test("the latency target: capture-to-screen no more than a device per module's; not judged without both latencies", () => {
    const latency = (results: PipelineVariantResult[]) => pipelineTargets('camera-pipeline', results).find((t) => t.id === 'camera-pipeline/workers-latency');
    const independent = pipelineVariant('independent', 20, 12, 1, 80);
    expect(latency([independent, pipelineVariant('workers', 20, 1, 1, 80)])?.verdict).toBe('met');
    expect(latency([independent, pipelineVariant('workers', 20, 1, 1, 81)])).toMatchObject({ verdict: 'missed', detail: '81 ms against 80: more' });
    expect(latency([independent, pipelineVariant('workers', 20, 1, 1)])?.verdict).toBe('not judged');
    expect(latency([pipelineVariant('workers', 20, 1, 1, 50)])).toMatchObject({ verdict: 'not judged', detail: 'the independent variant did not run' });
  });

  test('a saved run without the variant or targets: its rows are only in this run, and the target is not judged there', () => {
    const before = report([], pipeline([pipelineVariant('shared', 10, 8, 1), pipelineVariant('naive', 10, 12, 1)]));
    const after = report([], withWorkers(1, 21));
    const rows = compareReports(before, after);
    expect(row(rows, 'camera-pipeline', 'workers', 'fps').only).toBe('current');
    expect(row(rows, 'camera-pipeline', 'workers', 'main-thread ms/frame').only).toBe('current');
    expect(compareTargets(before, after).map((t) => [t.id, t.base, t.current?.verdict])).toEqual([['camera-pipeline/workers-main-thread', null, 'met'], ['camera-pipeline/workers-latency', null, 'not judged']]);
    const text = comparisonText(before, after, rows, { baseName: 'saved', currentName: 'this run' });
    expect(text).toContain('target camera-pipeline/workers-main-thread: saved not judged (not in the run), this run met (main thread 1.00 ms/frame against 12.00');
  });

  test.each(saved)('saved run %s against a run with a worker per module and its target: compared, nothing lost', (name) => {
    const old = readReport(join(runsDir, name));
    const current = report([], withWorkers(5, 19));
    const rows = compareReports(old, current);
    // A saved run with the variant is compared figure by figure; an older one has it only in the new run.
    const hadWorkers = old.pipeline?.results.some((r) => r.variant === 'workers') ?? false;
    expect(row(rows, 'camera-pipeline', 'workers', 'fps').only).toBe(hadWorkers ? null : 'current');
    // Every figure of the saved run is still there, compared or its own row.
    expect(rows.filter((r) => r.base !== null).length).toBe(compareReports(old, old).length);
    const judged = old.pipeline?.targets?.find((t) => t.id === 'camera-pipeline/workers-main-thread')?.verdict ?? 'not judged (not in the run)';
    expect(comparisonText(old, current, rows)).toContain(`target camera-pipeline/workers-main-thread: A ${judged}, B missed (`);
  });
});

describe('the saved run\'s file and what is read', () => {
  test('the file name is the UTC date of startedAt and the adapter\'s vendor and architecture', () => {
    expect(savedRunName(report([]))).toBe('2026-11-26-google-swiftshader.json');
    expect(savedRunName(report([], null, { adapter: { vendor: 'NVIDIA', architecture: 'Hopper (H100)', device: '', description: '' } }))).toBe('2026-11-26-nvidia-hopper-h100.json');
    expect(savedRunName(report([], null, { adapter: { vendor: '', architecture: '', device: '', description: 'Some GPU' } }))).toBe('2026-11-26-some-gpu.json');
    expect(savedRunName(report([], null, { adapter: { vendor: '', architecture: '', device: '', description: '' } }))).toBe('2026-11-26-unknown-adapter.json');
  });

  test('a file that is not a bench report is refused with a reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
    const notReport = join(dir, 'other.json');
    writeFileSync(notReport, '{"name": "webgpu-dmabuf"}');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{');
    expect(() => readReport(notReport)).toThrow(/is not a benchmark report/);
    expect(() => readReport(broken)).toThrow(/broken\.json is not JSON/);
    expect(() => readReport(join(dir, 'missing.json'))).toThrow(/cannot read .*missing\.json/);
  });

  test('comparing with a quick run or another adapter warns that the figures are not comparable', () => {
    const full = report([cpuRead(1, 1)]);
    const quick = report([cpuRead(1, 1)], null, { quick: true, settings: { warmup: 1, runs: 3, sampleMs: 5, maxBatch: 20, windowMs: 300 } });
    const gpu = report([cpuRead(1, 1)], null, { adapter: { vendor: 'nvidia', architecture: 'hopper', device: '', description: '' } });
    expect(comparisonText(full, quick, compareReports(full, quick))).toContain('warning: a quick run is compared');
    expect(comparisonText(full, gpu, compareReports(full, gpu))).toContain('warning: the runs are on different adapters (google / swiftshader, nvidia / hopper)');
    expect(comparisonText(full, full, compareReports(full, full))).not.toContain('warning');
  });
});
