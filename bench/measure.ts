/**
 * Timing: every figure is the median of repeated runs after warm-up, with min and max, and
 * the variants of one point run interleaved (in a rotating order) so that they share the
 * page's load. Small operations are timed in batches so a sample is long enough for the
 * timer.
 */
import type { BenchOp } from './scenario.js';

/** How much to repeat. */
export interface MeasureSettings {
  /**
   * Untimed runs of each variant before timing, each repeating the operation for at least
   * `sampleMs`; the fastest operation seen sizes the batch.
   */
  readonly warmup: number;
  /** Timed samples of each variant; the figures are over these. */
  readonly runs: number;
  /** Aimed-for length of one sample, in ms: short operations are repeated to reach it. */
  readonly sampleMs: number;
  /** Most operations in one sample. */
  readonly maxBatch: number;
  /** Length of one window of the camera pipeline, in ms: a sample of its frame rate. */
  readonly windowMs: number;
  /**
   * The frame size every pipeline runs at in place of its own (the camera's 640 x 480, the
   * frame pipeline's sizes): the smoke run's small frames, which only check that each
   * variant runs. Unset: each pipeline's own sizes.
   */
  readonly pipelineFrame?: { readonly width: number; readonly height: number };
}

/** Full runs, the short ones of `--quick`, and the smoke run (every scenario once, for the tests: its figures say nothing). */
export const FULL_SETTINGS: MeasureSettings = { warmup: 2, runs: 9, sampleMs: 25, maxBatch: 200, windowMs: 1000 };
export const QUICK_SETTINGS: MeasureSettings = { warmup: 1, runs: 3, sampleMs: 5, maxBatch: 20, windowMs: 300 };
export const SMOKE_SETTINGS: MeasureSettings = { warmup: 0, runs: 1, sampleMs: 2, maxBatch: 4, windowMs: 250, pipelineFrame: { width: 160, height: 120 } };

/** Median, min and max of one variant's samples, in ms per operation. */
export interface Figure {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** The samples, in ms per operation, in the order they were taken. */
  readonly samples: readonly number[];
  /** Operations per sample. */
  readonly batch: number;
}

/** Median, min and max of `samples` (at least one). */
export function summarize(samples: readonly number[], batch: number): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, samples: [...samples], batch };
}

/** Hooks of {@link measureInterleaved}. */
export interface MeasureHooks {
  /** After each warm-up run and each sample: one step of progress. */
  readonly step: () => void;
  /** Between warm-up and timing. */
  readonly afterWarmup?: () => void;
}

/**
 * Warms up every variant, then takes `runs` samples of each, one variant after the other in
 * a rotating order, each sample after one untimed run of its variant. Returns each
 * variant's figure.
 */
export async function measureInterleaved(ops: ReadonlyMap<string, BenchOp>, settings: MeasureSettings, hooks: MeasureHooks): Promise<Map<string, Figure>> {
  const entries = [...ops];
  const fastest = new Map<string, number>();
  for (let w = 0; w < settings.warmup; w++) {
    for (const [id, op] of entries) {
      // A warm-up run lasts at least one sample's length, so short operations are warm (JIT, pools) too.
      const t0 = performance.now();
      let count = 0;
      let best = fastest.get(id) ?? Infinity;
      do {
        const t = performance.now();
        await op();
        best = Math.min(best, performance.now() - t);
        count += 1;
      } while (performance.now() - t0 < settings.sampleMs && count < settings.maxBatch);
      fastest.set(id, best);
      hooks.step();
    }
  }
  hooks.afterWarmup?.();
  const batches = new Map(entries.map(([id]) => {
    const ms = Math.max(fastest.get(id) ?? settings.sampleMs, 0.001);
    return [id, Math.min(settings.maxBatch, Math.max(1, Math.ceil(settings.sampleMs / ms)))];
  }));
  const samples = new Map<string, number[]>(entries.map(([id]) => [id, []]));
  for (let run = 0; run < settings.runs; run++) {
    for (let k = 0; k < entries.length; k++) {
      const [id, op] = entries[(k + run) % entries.length] ?? entries[0] ?? ['', async () => {}];
      const batch = batches.get(id) ?? 1;
      // One untimed run first: what the variant before left behind (garbage to collect,
      // mappings to tear down) is charged to it, not to this one.
      await op();
      const t0 = performance.now();
      for (let n = 0; n < batch; n++) await op();
      samples.get(id)?.push((performance.now() - t0) / batch);
      hooks.step();
    }
  }
  return new Map(entries.map(([id]) => [id, summarize(samples.get(id) ?? [], batches.get(id) ?? 1)]));
}
