// Where Chromium lives on this machine and the flags that give it real WebGPU.
// The one place these are kept: the test runner, the bootstrap and the benchmark all
// read them from here. Node built-ins only, because the bootstrap runs before `npm ci`.
import { existsSync } from 'node:fs';

/**
 * Flags for headless Chromium with WebGPU on SwiftShader (see shared/webgpu-in-chromium.md):
 * WebGPU itself; the Vulkan/ANGLE SwiftShader group, without which canvases stay blank and
 * external textures throw; a fake camera without a prompt; and no dialling out.
 */
export const CHROMIUM_FLAGS = Object.freeze([
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]);

/** Places looked at, in order, after `CHROME_PATH`. */
export const CHROMIUM_CANDIDATES = Object.freeze([
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
]);

/**
 * The Chromium executable to drive: `CHROME_PATH` when set (it must exist), else the
 * first usual place that exists. Returns `undefined` when there is none.
 */
export function findChromium(env = process.env) {
  if (env.CHROME_PATH) return existsSync(env.CHROME_PATH) ? env.CHROME_PATH : undefined;
  return CHROMIUM_CANDIDATES.find((path) => existsSync(path));
}
