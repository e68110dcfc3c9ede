import { describe } from './checks.js';
import { DmaBufError } from './error.js';

/**
 * The direction of a transfer, from the device's point of view, as the kernel's
 * `enum dma_data_direction`. For device access: `'to-device'` means the device reads what
 * the exporter holds, `'from-device'` means the device writes and the exporter gets it back.
 * For CPU access: `'from-device'` means the CPU reads what devices wrote, `'to-device'` that
 * the CPU writes for devices. `'bidirectional'` is both; `'none'` is neither.
 */
export type DmaDirection = 'bidirectional' | 'to-device' | 'from-device' | 'none';

const DIRECTIONS: ReadonlySet<unknown> = new Set<DmaDirection>(['bidirectional', 'to-device', 'from-device', 'none']);

/** Whether `value` is one of the four directions. */
export function isDmaDirection(value: unknown): value is DmaDirection {
  return DIRECTIONS.has(value);
}

/**
 * Throws `EINVAL` naming `call` unless `value` is a direction.
 * @throws {DmaBufError} `EINVAL`
 */
export function checkDirection(call: string, value: unknown): asserts value is DmaDirection {
  if (!isDmaDirection(value)) {
    throw new DmaBufError('EINVAL', call, `unknown direction ${describe(value)} (expected 'bidirectional', 'to-device', 'from-device' or 'none')`);
  }
}

/** Whether a transfer in `dir` carries bytes towards the device (the importer reads them). */
export function movesToDevice(dir: DmaDirection): boolean {
  return dir === 'to-device' || dir === 'bidirectional';
}

/** Whether a transfer in `dir` carries bytes back from the device (the importer wrote them). */
export function movesFromDevice(dir: DmaDirection): boolean {
  return dir === 'from-device' || dir === 'bidirectional';
}
