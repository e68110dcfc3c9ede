import { checkOptions, describe } from '../src/checks.js';
import { DmaBufError } from '../src/error.js';

/**
 * What a page needs for WebGPU in Chromium, for messages that tell a person how to get it.
 * The flags are those of shared/webgpu-in-chromium.md.
 */
const HOW_TO_ENABLE =
  'use a browser with WebGPU (Chrome or Edge 113+, or Chromium started with --enable-unsafe-webgpu; ' +
  'without a GPU also --enable-features=Vulkan --use-vulkan=swiftshader --use-angle=swiftshader --enable-unsafe-swiftshader)';

/**
 * What {@link requestGpuDevice} takes, in one bag: the adapter's options
 * (`powerPreference`, `featureLevel`, `forceFallbackAdapter`, `xrCompatible`), passed to
 * `navigator.gpu.requestAdapter`, and the device's descriptor (`label`, `requiredFeatures`,
 * `requiredLimits`, `defaultQueue`), passed to `adapter.requestDevice`. A plain
 * `GPUDeviceDescriptor` is one.
 */
export interface GpuDeviceRequest extends GPURequestAdapterOptions, GPUDeviceDescriptor {}

const ADAPTER_KEYS = ['featureLevel', 'powerPreference', 'forceFallbackAdapter', 'xrCompatible'] as const;

/** Whether `value` is an iterable (not a string) of strings, as `requiredFeatures` must be. */
function isNameList(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') return false;
  return [...(value as Iterable<unknown>)].every((name) => typeof name === 'string');
}

/** Throws `EINVAL` naming the option when one has the wrong type. */
function checkRequest(call: string, bag: Readonly<Record<string, unknown>>): void {
  const bad = (key: string, expected: string) => new DmaBufError('EINVAL', call, `${key} must be ${expected}, got ${describe(bag[key])}`);
  const { powerPreference, featureLevel, forceFallbackAdapter, xrCompatible, label, requiredFeatures, requiredLimits } = bag;
  if (powerPreference !== undefined && powerPreference !== 'low-power' && powerPreference !== 'high-performance') throw bad('powerPreference', "'low-power' or 'high-performance'");
  if (featureLevel !== undefined && typeof featureLevel !== 'string') throw bad('featureLevel', "a string ('core' or 'compatibility')");
  if (forceFallbackAdapter !== undefined && typeof forceFallbackAdapter !== 'boolean') throw bad('forceFallbackAdapter', 'a boolean');
  if (xrCompatible !== undefined && typeof xrCompatible !== 'boolean') throw bad('xrCompatible', 'a boolean');
  if (label !== undefined && typeof label !== 'string') throw bad('label', 'a string');
  if (requiredFeatures !== undefined && !isNameList(requiredFeatures)) throw bad('requiredFeatures', 'an array (or other iterable) of feature names');
  if (requiredLimits !== undefined) {
    if (typeof requiredLimits !== 'object' || requiredLimits === null || Array.isArray(requiredLimits)) throw bad('requiredLimits', 'an object of limit values');
    for (const [name, value] of Object.entries(requiredLimits)) {
      if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
        throw new DmaBufError('EINVAL', call, `requiredLimits.${name} must be a non-negative integer, got ${describe(value)}`);
      }
    }
  }
}

/** What the adapter is, for messages. */
function adapterName(adapter: GPUAdapter): string {
  // Browsers before adapter.info (Chrome 127) give no names: say "the adapter".
  const info = (adapter as { info?: Partial<GPUAdapterInfo> }).info;
  const name = [info?.vendor, info?.architecture, info?.description].filter((part) => typeof part === 'string' && part !== '').join(' ');
  return name === '' ? 'the adapter' : `the adapter ${name}`;
}

/**
 * Throws `ENODEV` naming every feature and limit `descriptor` asks for that `adapter` cannot
 * give, before `requestDevice` would reject with a bare `TypeError` or `OperationError`.
 */
function checkAdapterCan(call: string, adapter: GPUAdapter, descriptor: GPUDeviceDescriptor): void {
  const missing = [...(descriptor.requiredFeatures ?? [])].filter((feature) => !adapter.features.has(feature));
  if (missing.length > 0) {
    throw new DmaBufError('ENODEV', call, `${adapterName(adapter)} lacks the required feature(s) ${missing.join(', ')}; it has ${[...adapter.features].sort().join(', ') || 'none'}`);
  }
  const limits = adapter.limits as unknown as Readonly<Record<string, unknown>>;
  for (const [name, wanted] of Object.entries(descriptor.requiredLimits ?? {})) {
    if (wanted === undefined) continue;
    const has = limits[name];
    if (typeof has !== 'number') throw new DmaBufError('ENODEV', call, `${adapterName(adapter)} has no limit named ${name}`);
    // Alignment limits are better when smaller; every other limit when larger.
    const better = name.startsWith('min') ? wanted < has : wanted > has;
    if (better) throw new DmaBufError('ENODEV', call, `requiredLimits.${name} is ${wanted}, beyond what ${adapterName(adapter)} offers (${has})`);
  }
}

/**
 * Requests an adapter and a `GPUDevice` of its own, as each independent module does (one
 * adapter gives one device, so every call asks for a new adapter). `options` passes the
 * adapter's options and the device's descriptor through (see {@link GpuDeviceRequest});
 * without them, the browser's default adapter and a default device, as before.
 *
 * The caller owns the device and destroys it when done.
 * @throws {DmaBufError} `EINVAL` for options of the wrong type; `ENODEV` when the page has no
 *   `navigator.gpu`, when no adapter is offered (the message says how to enable WebGPU), when
 *   the adapter lacks a required feature or limit (the message names each one), or when the
 *   device request fails.
 */
export async function requestGpuDevice(options?: GpuDeviceRequest): Promise<GPUDevice> {
  const call = 'requestGpuDevice';
  const bag = checkOptions(call, options);
  checkRequest(call, bag);
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) {
    throw new DmaBufError('ENODEV', call, `this page has no navigator.gpu; ${HOW_TO_ENABLE}`);
  }
  const adapterOptions: Record<string, unknown> = {};
  const descriptor: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(bag)) {
    if (value === undefined) continue;
    ((ADAPTER_KEYS as readonly string[]).includes(key) ? adapterOptions : descriptor)[key] = value;
  }
  const adapter = await navigator.gpu.requestAdapter(adapterOptions);
  if (!adapter) {
    const asked = Object.keys(adapterOptions).length === 0 ? '' : ` for ${JSON.stringify(adapterOptions)}`;
    throw new DmaBufError('ENODEV', call, `navigator.gpu.requestAdapter() gave no adapter${asked}; ${HOW_TO_ENABLE}`);
  }
  checkAdapterCan(call, adapter, descriptor);
  try {
    return await adapter.requestDevice(descriptor);
  } catch (cause) {
    throw new DmaBufError('ENODEV', call, `requestDevice failed: ${String(cause)}`, { cause });
  }
}
