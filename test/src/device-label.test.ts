// How a device is named in listings (src/device-label.ts): its own label, else a number of
// its own, counted up from 1 as devices are first seen and kept for as long as it lives.
import { describe, expect, test } from 'vitest';
import { deviceLabel } from '../../src/device-label.js';

const device = (label: unknown) => ({ label }) as unknown as GPUDevice;
const numberOf = (name: string) => Number(/^device #(\d+)$/.exec(name)?.[1]);

describe('deviceLabel', () => {
  test('a device with a label is named by it', () => {
    expect(deviceLabel(device('display'))).toBe('display');
  });

  test('a device without a label, or whose label is not a string, gets a number of its own, the same every time', () => {
    const unlabelled = [device(''), device(undefined), device(7)];
    const names = unlabelled.map((d) => deviceLabel(d));
    for (const name of names) expect(name).toMatch(/^device #[1-9]\d*$/);
    expect(new Set(names).size).toBe(3);
    expect(unlabelled.map((d) => deviceLabel(d))).toEqual(names);
  });

  test('numbers count up as devices are first seen', () => {
    const first = numberOf(deviceLabel(device('')));
    const second = numberOf(deviceLabel(device('')));
    expect(first).toBeGreaterThanOrEqual(1);
    expect(second).toBe(first + 1);
  });
});
