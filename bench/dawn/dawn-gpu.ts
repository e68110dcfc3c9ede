/**
 * WebGPU in Node from Dawn (the `webgpu` npm package's `dawn.node`): its globals
 * (`GPUBufferUsage`, `GPUDevice`...) and `navigator.gpu`, set up for the benchmark, and the
 * adapter it would give checked first, so that a machine without one stops with what is missing.
 */
import { findVulkan, vulkanAdvice } from './vulkan-check.js';

/** Dawn in this process; {@link DawnGpu.release} lets the process end. */
export interface DawnGpu {
  /** What ran it, for the report's `userAgent`: Node, the package, the backend. */
  readonly userAgent: string;
  /** The adapter Dawn offers, as `vendor / architecture (description)`. */
  readonly adapterName: string;
  /** Drops `navigator.gpu`: Dawn keeps Node alive while it is referenced. */
  release(): void;
}

/** Why Dawn cannot run here: a message meant for a person, one paragraph. */
export class DawnUnavailableError extends Error {
  override readonly name = 'DawnUnavailableError';
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads Dawn with `backend` (`vulkan`, `null`...), installs its globals and `navigator.gpu`,
 * and asks for an adapter once. `packageVersion` is the `webgpu` package's version, for
 * the user agent.
 * @throws {DawnUnavailableError} when `dawn.node` cannot be loaded or Dawn offers no adapter.
 */
export async function installDawn(backend: string, packageVersion: string): Promise<DawnGpu> {
  let dawn: DawnModule;
  try {
    dawn = await import('webgpu');
  } catch (error) {
    throw new DawnUnavailableError(`cannot load Dawn (dawn.node of the webgpu npm package, built for ${process.platform}-${process.arch}): ${errorText(error)}`);
  }
  Object.assign(globalThis, dawn.globals);
  let gpu: GPU;
  let adapter: GPUAdapter | null;
  try {
    gpu = dawn.create([`backend=${backend}`]);
    adapter = await gpu.requestAdapter();
  } catch (error) {
    throw new DawnUnavailableError(`Dawn (backend ${backend}) could not look for an adapter: ${errorText(error)}`);
  }
  if (!adapter) {
    const advice = process.platform === 'linux' && backend === 'vulkan' ? ` ${vulkanAdvice(findVulkan())}` : '';
    throw new DawnUnavailableError(`Dawn (backend ${backend}) found no WebGPU adapter:${advice}`);
  }
  // Node 20 has no navigator; Node 21 on has one without `gpu`.
  if (typeof globalThis.navigator === 'undefined') Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
  const { vendor, architecture, description } = adapter.info;
  return {
    userAgent: `Node ${process.version}, Dawn via the webgpu npm package ${packageVersion}, backend ${backend}`,
    adapterName: `${vendor || '?'} / ${architecture || '?'}${description ? ` (${description})` : ''}`,
    release() {
      Reflect.deleteProperty(navigator, 'gpu');
    },
  };
}
