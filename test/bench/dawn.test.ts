// The benchmark in Node on Dawn, without a GPU: its command line (defaults, the page-only
// scenarios it lists as skipped, options that do not go together), the name a saved run
// gets (never a page's run's), the --bundle option of scripts/bench-dawn.mjs, and what the
// no-adapter message says about the Vulkan loader and drivers.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { pageOnlySkipped, PAGE_ONLY_REASON, parseDawnArgs } from '../../bench/dawn/options.js';
import { saveDawnRun } from '../../bench/dawn/saved-run.js';
import { findVulkan, vulkanAdvice } from '../../bench/dawn/vulkan-check.js';
import type { BenchReport } from '../../bench/report.js';
import { SCENARIO_IDS } from '../../bench/scenario.js';
import { savedRunName } from '../../bench/compare-runs.mjs';
import { splitBundleOption } from '../../scripts/bench-dawn.mjs';

/** The scenarios Node runs (run-operations.ts' SCENARIOS without the page-only ones; they need Dawn's globals to load). */
const RUNNABLE = ['cpu-read', 'cpu-write', 'page-latency', 'map-same-device', 'map-cross-device'] as const;

describe('parseDawnArgs', () => {
  test('defaults: every scenario, a full run, its own output file, the vulkan backend', () => {
    const args = parseDawnArgs([]);
    expect(args.scenarios).toEqual(SCENARIO_IDS);
    expect(args).toMatchObject({ quick: false, out: 'bench-dawn-results.json', backend: 'vulkan', runs: undefined, maxSize: undefined, save: false, show: undefined });
  });

  test('--scenarios keeps the run order and rejects unknown names with the list', () => {
    expect(parseDawnArgs(['--scenarios', 'map-cross-device, cpu-read']).scenarios).toEqual(['cpu-read', 'map-cross-device']);
    expect(() => parseDawnArgs(['--scenarios', 'cpu-read,gpu-read'])).toThrow(/unknown 'gpu-read'.*cpu-read, cpu-write/);
  });

  test('--runs and --max-size want whole numbers; --max-size is in MiB', () => {
    expect(parseDawnArgs(['--runs', '5', '--max-size', '16'])).toMatchObject({ runs: 5, maxSize: 16 * 1024 * 1024 });
    expect(() => parseDawnArgs(['--runs', '0'])).toThrow(/--runs wants a whole number/);
    expect(() => parseDawnArgs(['--max-size', '1.5'])).toThrow(/--max-size wants a whole number/);
  });

  test('--save keeps full runs only, but saves any report given with --show', () => {
    for (const short of [['--quick'], ['--runs', '3'], ['--max-size', '4']]) expect(() => parseDawnArgs(['--save', ...short])).toThrow(/full runs only/);
    expect(parseDawnArgs(['--save', '--show', 'x.json'])).toMatchObject({ save: true, show: 'x.json' });
  });

  test('an unknown option is an error, not ignored', () => {
    expect(() => parseDawnArgs(['--screenshot', 'x.png'])).toThrow(/screenshot/);
  });
});

test('the page-only scenarios (the pipelines, map-cross-realm, whose worker needs WebGPU, and ml-import, whose TensorFlow.js backend does) are listed as skipped with the reason, only when asked for', () => {
  expect(pageOnlySkipped(SCENARIO_IDS, RUNNABLE)).toEqual([
    { id: 'map-cross-realm', reason: PAGE_ONLY_REASON },
    { id: 'ml-import', reason: PAGE_ONLY_REASON },
    { id: 'camera-pipeline', reason: PAGE_ONLY_REASON },
    { id: 'frame-pipeline', reason: PAGE_ONLY_REASON },
  ]);
  expect(pageOnlySkipped(['cpu-read', 'frame-pipeline'], RUNNABLE)).toEqual([{ id: 'frame-pipeline', reason: PAGE_ONLY_REASON }]);
  expect(pageOnlySkipped(['cpu-read'], RUNNABLE)).toEqual([]);
});

test("a saved run is named after its adapter with -dawn-node, never a page's run's name, and never overwritten", () => {
  const report = { startedAt: '2026-11-26T10:00:00.000Z', adapter: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100' }, userAgent: 'Node v20.20.2, Dawn via the webgpu npm package 0.6.2, backend vulkan' };
  expect(savedRunName(report)).toBe('2026-11-26-nvidia-hopper-dawn-node.json');
  expect(savedRunName({ ...report, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156' })).toBe('2026-11-26-nvidia-hopper.json');
  // Dawn reports no architecture for some GPUs: the device name, without the vendor, stands in.
  expect(savedRunName({ ...report, adapter: { ...report.adapter, architecture: '', device: 'nvidia-h100-80gb-hbm3' } })).toBe('2026-11-26-nvidia-h100-80gb-hbm3-dawn-node.json');
  const dir = mkdtempSync(join(tmpdir(), 'bench-dawn-'));
  const full = { ...report, scenarios: [] } as unknown as BenchReport;
  expect(saveDawnRun(full, dir)).toBe(join(dir, '2026-11-26-nvidia-hopper-dawn-node.json'));
  expect(saveDawnRun(full, dir)).toBe(join(dir, '2026-11-26-nvidia-hopper-dawn-node-2.json'));
});

test('--bundle DIR is taken out of the options passed on to the bundle', () => {
  expect(splitBundleOption(['--quick', '--bundle', 'out', '--runs', '3'])).toEqual({ bundle: 'out', rest: ['--quick', '--runs', '3'] });
  expect(splitBundleOption(['--bundle=out'])).toEqual({ bundle: 'out', rest: [] });
  expect(splitBundleOption(['--quick'])).toEqual({ bundle: undefined, rest: ['--quick'] });
  expect(() => splitBundleOption(['--bundle', '--quick'])).toThrow(/--bundle wants a folder/);
});

describe('the no-adapter message', () => {
  test('names the driver manifests VK_DRIVER_FILES points at, or says there are none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-dawn-icd-'));
    mkdirSync(join(dir, 'icd.d'));
    writeFileSync(join(dir, 'icd.d', 'nvidia_icd.json'), '{}');
    const found = findVulkan({ VK_DRIVER_FILES: join(dir, 'icd.d') });
    expect(found.drivers).toEqual([join(dir, 'icd.d', 'nvidia_icd.json')]);
    expect(vulkanAdvice(found)).toMatch(/nvidia_icd\.json; none gave Dawn an adapter/);
    const none = findVulkan({ VK_DRIVER_FILES: join(dir, 'missing.json') });
    expect(none.drivers).toEqual([]);
    expect(vulkanAdvice(none)).toMatch(/no Vulkan driver manifest \(ICD \.json\) in VK_DRIVER_FILES=/);
  });

  test('says what to install when the loader is missing', () => {
    expect(vulkanAdvice({ loader: null, drivers: [], driverSource: '/usr/share/vulkan/icd.d' })).toMatch(/libvulkan\.so\.1 is missing \(Debian: apt-get install libvulkan1/);
  });
});
