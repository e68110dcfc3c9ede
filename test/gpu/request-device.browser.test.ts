// requestGpuDevice on the real adapter: adapter options and the device descriptor pass
// through, what the adapter cannot give is a DmaBufError naming it (not a bare rejection),
// and options of the wrong type are EINVAL before anything is requested.
import { afterEach, describe, expect, test } from 'vitest';
import { DmaBufError, requestGpuDevice } from 'webgpu-dmabuf';
import { expectNoGpuErrors } from '../gpu-errors.js';

const devices: GPUDevice[] = [];

afterEach(() => {
  for (const device of devices.splice(0)) device.destroy();
  expectNoGpuErrors();
});

async function adapter(): Promise<GPUAdapter> {
  const found = await navigator.gpu.requestAdapter();
  if (!found) throw new Error('no WebGPU adapter: see scripts/chromium.mjs for the flags');
  return found;
}

async function rejection(promise: Promise<unknown>): Promise<DmaBufError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof DmaBufError)) throw new Error(`expected a DmaBufError, got ${String(error)}`);
  return error;
}

describe('requestGpuDevice', () => {
  test('without options gives a default device, as before', async () => {
    const device = await requestGpuDevice();
    devices.push(device);
    expect(device).toBeInstanceOf(GPUDevice);
    // No feature asked for, none granted: the spec's default device.
    expect([...device.features].filter((name) => name !== 'core-features-and-limits')).toEqual([]);
  });

  test('passes the adapter options and the device descriptor through: label, features and limits the adapter has', async () => {
    const offered = await adapter();
    const feature = [...offered.features].sort()[0];
    const limit = offered.limits.maxStorageBufferBindingSize;
    const device = await requestGpuDevice({
      powerPreference: 'high-performance',
      forceFallbackAdapter: false,
      featureLevel: 'core',
      label: 'asked for',
      requiredFeatures: feature === undefined ? [] : [feature as GPUFeatureName],
      requiredLimits: { maxStorageBufferBindingSize: limit },
    });
    devices.push(device);
    expect(device.label).toBe('asked for');
    if (feature !== undefined) expect(device.features.has(feature)).toBe(true);
    expect(device.limits.maxStorageBufferBindingSize).toBe(limit);
  });

  test('a feature the adapter lacks is ENODEV naming it, not a bare rejection', async () => {
    const offered = await adapter();
    const candidates = ['texture-compression-astc', 'texture-compression-etc2', 'shader-f16', 'timestamp-query', 'float32-blendable', 'clip-distances', 'dual-source-blending', 'subgroups'];
    const missing = candidates.find((name) => !offered.features.has(name)) ?? 'no-such-feature';
    const error = await rejection(requestGpuDevice({ requiredFeatures: [missing as GPUFeatureName] }));
    expect(error.code).toBe('ENODEV');
    expect(error.message).toMatch(new RegExp(`^ENODEV: requestGpuDevice: .* lacks the required feature\\(s\\) ${missing}; it has `));
  });

  test('a limit beyond the adapter is ENODEV naming it and both values', async () => {
    const offered = await adapter();
    const beyond = offered.limits.maxBindGroups + 1;
    const error = await rejection(requestGpuDevice({ requiredLimits: { maxBindGroups: beyond } }));
    expect(error.message).toMatch(new RegExp(`^ENODEV: requestGpuDevice: requiredLimits.maxBindGroups is ${beyond}, beyond what .* offers \\(${offered.limits.maxBindGroups}\\)`));
    const alignment = await rejection(requestGpuDevice({ requiredLimits: { minStorageBufferOffsetAlignment: offered.limits.minStorageBufferOffsetAlignment / 2 } }));
    expect(alignment.message).toMatch(/^ENODEV: requestGpuDevice: requiredLimits.minStorageBufferOffsetAlignment is \d+, beyond what/);
    const unknown = await rejection(requestGpuDevice({ requiredLimits: { maxWarpDrive: 1 } }));
    expect(unknown.message).toMatch(/^ENODEV: requestGpuDevice: .* has no limit named maxWarpDrive/);
  });

  test.each([
    ['options that are not an object', 7, /options must be an object/],
    ['an unknown powerPreference', { powerPreference: 'fast' }, /powerPreference must be 'low-power' or 'high-performance', got "fast"/],
    ['forceFallbackAdapter not a boolean', { forceFallbackAdapter: 'yes' }, /forceFallbackAdapter must be a boolean/],
    ['featureLevel not a string', { featureLevel: 1 }, /featureLevel must be a string/],
    ['label not a string', { label: 3 }, /label must be a string/],
    ['requiredFeatures not an array of names', { requiredFeatures: 'shader-f16' }, /requiredFeatures must be an array \(or other iterable\) of feature names/],
    ['requiredLimits not an object', { requiredLimits: [] }, /requiredLimits must be an object of limit values/],
    ['a limit that is not an integer', { requiredLimits: { maxBindGroups: 1.5 } }, /requiredLimits.maxBindGroups must be a non-negative integer, got 1.5/],
  ])('%s is EINVAL', async (_, options, message) => {
    const error = await rejection(requestGpuDevice(options as never));
    expect(error.code).toBe('EINVAL');
    expect(error.message).toMatch(message);
  });
});
