// Uncaptured WebGPU errors of every device a browser test makes, itself or inside a
// component: test/browser-setup.ts hooks `requestDevice` to collect them, and every browser
// test ends by checking that there were none.
import { expect } from 'vitest';

const uncaptured: string[] = [];

/** Records an uncaptured error of `device`. */
export function recordGpuError(device: GPUDevice, error: GPUError): void {
  uncaptured.push(`${device.label || 'unlabelled device'}: ${error.message}`);
}

/** Fails when any device reported an uncaptured WebGPU error since the last check; clears the list. */
export function expectNoGpuErrors(): void {
  const errors = uncaptured.splice(0);
  expect(errors, 'uncaptured WebGPU errors').toEqual([]);
}
