/**
 * What a Linux machine has of Vulkan, for the one message given when Dawn finds no adapter:
 * the loader (`libvulkan.so.1`, which Dawn opens at run time, so `ldd` does not show it) and
 * the drivers' manifests (ICD files) the loader would read.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What was found; paths are absolute. */
export interface VulkanFindings {
  /** Where `libvulkan.so.1` is; `null` when nowhere. */
  readonly loader: string | null;
  /** The driver manifests the loader would read. */
  readonly drivers: readonly string[];
  /** Where the drivers were looked for (`VK_DRIVER_FILES` or `VK_ICD_FILENAMES` when set). */
  readonly driverSource: string;
}

const LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib'];

function findLoader(env: NodeJS.ProcessEnv): string | null {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  const found = dirs.map((dir) => join(dir, 'libvulkan.so.1')).find((file) => existsSync(file));
  if (found) return found;
  // The linker's cache may name it elsewhere; only a file that is still there counts.
  try {
    const cache = readFileSync('/etc/ld.so.cache', 'latin1');
    return cache.match(/\/[\x21-\x7e]*\/libvulkan\.so\.1(?=\0)/g)?.find((file) => existsSync(file)) ?? null;
  } catch {
    return null;
  }
}

function jsonFiles(path: string): string[] {
  try {
    if (path.endsWith('.json')) return existsSync(path) ? [path] : [];
    return readdirSync(path).filter((name) => name.endsWith('.json')).map((name) => join(path, name));
  } catch {
    return [];
  }
}

/** Looks for the Vulkan loader and drivers as the loader itself would (its environment variables first). */
export function findVulkan(env: NodeJS.ProcessEnv = process.env): VulkanFindings {
  const chosen = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  const dataDirs = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const configDirs = (env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':').filter(Boolean);
  const places = chosen !== undefined
    ? chosen.split(':').filter(Boolean)
    : [...configDirs, '/etc', ...dataDirs, '/usr/local/share', '/usr/share'].map((dir) => join(dir, 'vulkan', 'icd.d'));
  const drivers = [...new Set(places.flatMap(jsonFiles))];
  const driverSource = chosen !== undefined ? `${env.VK_DRIVER_FILES !== undefined ? 'VK_DRIVER_FILES' : 'VK_ICD_FILENAMES'}=${chosen}` : [...new Set(places)].join(', ');
  return { loader: findLoader(env), drivers, driverSource };
}

/** Why there may be no Vulkan adapter, and what to install: one paragraph. */
export function vulkanAdvice(found: VulkanFindings): string {
  const loader = found.loader
    ? `the Vulkan loader is there (${found.loader})`
    : 'the Vulkan loader libvulkan.so.1 is missing (Debian: apt-get install libvulkan1; or unpack its .deb with dpkg -x and run ldconfig)';
  const drivers = found.drivers.length > 0
    ? `Vulkan drivers: ${found.drivers.join(', ')}; none gave Dawn an adapter (VK_LOADER_DEBUG=error,warn says why; Dawn needs Vulkan 1.1 and features that Mesa's lavapipe before 23 lacks)`
    : `no Vulkan driver manifest (ICD .json) in ${found.driverSource} (install the GPU's Vulkan driver, e.g. NVIDIA's, whose manifest is nvidia_icd.json, and point VK_DRIVER_FILES at it if it is elsewhere; without a GPU: mesa-vulkan-drivers for lavapipe, or Chromium's vk_swiftshader_icd.json)`;
  return `${loader}; ${drivers}.`;
}
