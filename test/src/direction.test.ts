// The four transfer directions (src/direction.ts), as the kernel's enum dma_data_direction:
// which are directions, and which way each one carries bytes.
import { describe, expect, test } from 'vitest';
import { checkDirection, isDmaDirection, movesFromDevice, movesToDevice, type DmaDirection } from '../../src/direction.js';

const ALL: readonly DmaDirection[] = ['bidirectional', 'to-device', 'from-device', 'none'];

describe('directions', () => {
  test('the four directions are directions, and nothing else is', () => {
    for (const dir of ALL) expect(isDmaDirection(dir)).toBe(true);
    for (const value of ['', 'to_device', 'TO-DEVICE', 0, null, undefined]) expect(isDmaDirection(value)).toBe(false);
    expect(() => { checkDirection('map', 'sideways'); }).toThrow(
      expect.objectContaining({ code: 'EINVAL', call: 'map', reason: "unknown direction \"sideways\" (expected 'bidirectional', 'to-device', 'from-device' or 'none')" }) as Error,
    );
  });

  test('to-device and bidirectional carry bytes towards the device; from-device and none do not', () => {
    expect(ALL.filter(movesToDevice)).toEqual(['bidirectional', 'to-device']);
  });

  test('from-device and bidirectional carry bytes back from the device; to-device and none do not', () => {
    expect(ALL.filter(movesFromDevice)).toEqual(['bidirectional', 'from-device']);
  });
});
