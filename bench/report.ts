/**
 * A benchmark run's results as plain data (what `npm run bench` writes to JSON), and the
 * ratios taken from them.
 */
import type { GpuHeapStats } from 'webgpu-dmabuf';
import type { Figure, MeasureSettings } from './measure.js';
import type { RatioBasis, ScenarioId, VariantInfo } from './scenario.js';
import type { TargetResult } from './targets.js';

/** One variant at one size. */
export interface VariantResult {
  readonly variant: string;
  /** Milliseconds per operation. */
  readonly ms: Figure;
  /** Bytes per second at the median, the fastest and the slowest sample (GB/s, 1e9 bytes). */
  readonly gbps: { readonly median: number; readonly min: number; readonly max: number };
  /**
   * Speed against this variant's basis (see the scenario's `ratio`): the basis' median time
   * over this variant's; above 1 is faster. `null` where there is no basis.
   */
  readonly ratio: number | null;
}

/** One size of a scenario. */
export interface PointResult {
  readonly size: number;
  readonly bytesPerOp: number;
  readonly results: readonly VariantResult[];
  /** Counts recorded beside the timings. */
  readonly extras: Readonly<Record<string, number>>;
}

/** One scenario's results. */
export interface ScenarioResult {
  readonly id: ScenarioId;
  readonly title: string;
  readonly measures: string;
  readonly metric: 'throughput' | 'latency';
  readonly ratio: RatioBasis;
  readonly variants: readonly VariantInfo[];
  readonly points: readonly PointResult[];
}

/** One variant of a pipeline scenario (`camera-pipeline`, `frame-pipeline`), over its timed windows. */
export interface PipelineVariantResult {
  readonly variant: string;
  /** Frames shown per second, one sample per window (`batch` is 1). */
  readonly fps: Figure;
  /** Frames the camera (or the pattern) made per second in the same windows (it makes none while its ring is full). */
  readonly cameraFps: Figure;
  /** Frames per second the camera delivers (its track's settings): the rate to keep up with; `null` for the test pattern. */
  readonly cameraSourceFps: number | null;
  /**
   * Main-thread ms per frame shown, one sample per window that showed frames, beyond the
   * page's own main-thread time with every pipeline paused; `null` when the page had no
   * main-thread clock (or no window showed a frame).
   */
  readonly mainThreadMsPerFrame: Figure | null;
  /**
   * Capture-to-screen ms of the frames shown in the timed windows (one sample per frame): from
   * the camera's capture to the view's draw submitted; `null` when no frame was shown. Absent
   * in runs saved before it was measured.
   */
  readonly captureToScreenMs?: Figure | null;
  readonly framesShown: number;
  /** Frames let go anywhere on the way, over the timed windows. */
  readonly framesDropped: number;
  /** Bytes moved between devices per frame shown. */
  readonly bytesCopiedPerFrame: number;
  /** Median frames shown per second over the camera's source rate; `null` without one. */
  readonly ofCamera: number | null;
  /** Median frames shown per second over the naive baseline's. */
  readonly vsNaive: number | null;
}

/** A pipeline scenario's results: `camera-pipeline`'s, or `frame-pipeline`'s at one frame size. */
export interface PipelineResult {
  readonly id: 'camera-pipeline' | 'frame-pipeline';
  readonly title: string;
  readonly measures: string;
  readonly variants: readonly VariantInfo[];
  /** The camera's frame size, once it made a frame. */
  readonly frame: { readonly width: number; readonly height: number } | null;
  /** How frames got from the camera into a buffer (`external-texture`, …, or `pattern` without a camera). */
  readonly cameraPath: string | null;
  readonly windowMs: number;
  /** Whether main-thread time was measured (it needs the DevTools protocol: `npm run bench`). */
  readonly mainThreadMeasured: boolean;
  /** The page's main-thread ms per second with every pipeline paused (median), taken off the per-frame figures. */
  readonly restingMainThreadMsPerSecond: number;
  readonly results: readonly PipelineVariantResult[];
  /**
   * Dma-bufs of the pipelines still alive after teardown: 0 when nothing leaked. Their heaps'
   * live buffers; with a worker per module, also what each worker still held when it stopped
   * (one for a worker terminated without saying) and the page's proxies of its buffers.
   */
  readonly buffersLeftAlive: number;
  /**
   * The scenario's targets judged on these figures (see `pipelineTargets`); absent in runs
   * saved before targets were judged.
   */
  readonly targets?: readonly TargetResult[];
}

/** A scenario that did not run, and why. */
export interface SkippedScenario {
  readonly id: ScenarioId;
  readonly reason: string;
}

/** What a run ran on. */
export interface BenchAdapter {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** A whole run. */
export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly quick: boolean;
  readonly adapter: BenchAdapter;
  readonly userAgent: string;
  /** Whether the page was cross-origin isolated (fine-grained timers). */
  readonly crossOriginIsolated: boolean;
  /** The smallest step `performance.now()` was seen to take, in ms. */
  readonly timerResolutionMs: number;
  readonly settings: MeasureSettings;
  readonly scenarios: readonly ScenarioResult[];
  /** The `camera-pipeline` scenario, when it was chosen and ran. */
  readonly pipeline: PipelineResult | null;
  /**
   * The `frame-pipeline` scenario, one result per frame size measured (smallest first);
   * empty when it was not chosen. Absent in runs saved before the scenario existed.
   */
  readonly framePipeline?: readonly PipelineResult[];
  readonly skipped: readonly SkippedScenario[];
  /** The bench heap's counts after the run: zero live buffers, storage and mirrors when nothing leaked. */
  readonly heapAfter: GpuHeapStats;
}

/** Throughput figures of a time figure for `bytes` per operation. */
export function throughput(ms: Figure, bytes: number): VariantResult['gbps'] {
  const gbps = (t: number) => bytes / (t * 1e6);
  return { median: gbps(ms.median), min: gbps(ms.max), max: gbps(ms.min) };
}

/**
 * Fills in each result's ratio. `baseline`: the fastest median of the variant's `against`
 * at the same size over its own. `first-size`: the same variant's median at the first size
 * over its own.
 */
export function withRatios(basis: RatioBasis, variants: readonly VariantInfo[], points: readonly Omit<PointResult, 'results'>[], figures: readonly ReadonlyMap<string, Figure>[]): PointResult[] {
  return points.map((point, index) => {
    const here = figures[index] ?? new Map<string, Figure>();
    const first = figures[0] ?? new Map<string, Figure>();
    const results = variants.flatMap((variant): VariantResult[] => {
      const ms = here.get(variant.id);
      if (!ms) return [];
      let base: number | undefined;
      if (basis === 'first-size') base = first.get(variant.id)?.median;
      else {
        const medians = (variant.against ?? []).flatMap((id) => here.get(id)?.median ?? []);
        base = medians.length > 0 ? Math.min(...medians) : undefined;
      }
      return [{ variant: variant.id, ms, gbps: throughput(ms, point.bytesPerOp), ratio: base === undefined ? null : base / ms.median }];
    });
    return { ...point, results };
  });
}
