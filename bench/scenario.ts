/**
 * What a benchmark scenario is: named variants of one operation (ours, raw WebGPU by hand,
 * TypeGPU), measured at each of a list of sizes, interleaved in the same page.
 */
import type { GpuHeap } from 'webgpu-dmabuf';
import type { TgpuRoot } from 'typegpu';

/** The scenarios, in the order they run. */
export const SCENARIO_IDS = ['cpu-read', 'cpu-write', 'page-latency', 'map-same-device', 'map-cross-device', 'map-cross-realm', 'ml-import', 'camera-pipeline', 'frame-pipeline'] as const;

/** One scenario's name. */
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** Who wrote a variant: this library, raw WebGPU by hand, or another library. */
export type VariantRole = 'ours' | 'raw' | 'library';

/** One way of doing a scenario's operation. */
export interface VariantInfo {
  readonly id: string;
  readonly label: string;
  readonly role: VariantRole;
  /**
   * The variants this one's ratio is taken against: the fastest of them at the same size.
   * May name the variant itself (then the fastest raw baseline scores 1).
   */
  readonly against?: readonly string[];
}

/** The devices and exporter a benchmark run shares between its scenarios. */
export interface BenchEnv {
  /** The exporter's device: the heap's storage lives here. */
  readonly exporter: GPUDevice;
  /** A second, independent device (another module's). */
  readonly importer: GPUDevice;
  /** The stock exporter on `exporter`. */
  readonly heap: GpuHeap;
  /** TypeGPU on `exporter`, for its baselines. */
  readonly root: TgpuRoot;
}

/** One operation of a variant; resolves when its effect is complete (bytes in place, GPU done). */
export type BenchOp = () => Promise<void>;

/** A scenario set up at one size, ready to be timed; the runner disposes of it. */
export interface PreparedPoint {
  /** One operation per variant id. */
  readonly ops: ReadonlyMap<string, BenchOp>;
  /** Bytes one operation moves, for throughput. */
  readonly bytesPerOp: number;
  /** Called between warm-up and the timed runs. */
  readonly afterWarmup?: () => void;
  /** Counts to record beside the timings (staging buffers created, bytes copied...). */
  readonly extras?: () => Readonly<Record<string, number>>;
  /** Frees everything the point made. */
  readonly dispose: () => Promise<void>;
}

/** How a scenario's ratios are taken. */
export type RatioBasis =
  /** Each variant against the fastest of its `against` variants at the same size (speed ratio). */
  | 'baseline'
  /** Each size against the same variant at the scenario's first size (speed ratio). */
  | 'first-size';

/** A benchmark scenario. */
export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** One sentence: what one operation is. */
  readonly measures: string;
  /** Whether the table shows GB/s (`throughput`) or time per operation (`latency`). */
  readonly metric: 'throughput' | 'latency';
  readonly ratio: RatioBasis;
  /** Whether it needs a page (a worker with WebGPU, which Node lacks): Node on Dawn lists it as skipped. */
  readonly pageOnly?: boolean;
  readonly variants: readonly VariantInfo[];
  /** Sizes in bytes, the short list when `quick`. */
  sizes(quick: boolean): readonly number[];
  prepare(env: BenchEnv, size: number): Promise<PreparedPoint>;
}

/** Multiples of 4 from `from` to `to` (inclusive), bytes. */
export function powersOfFour(from: number, to: number): number[] {
  const sizes: number[] = [];
  for (let size = from; size <= to; size *= 4) sizes.push(size);
  return sizes;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
