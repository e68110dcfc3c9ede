// `npm run bench:dawn`: the benchmark's per-operation scenarios (cpu-read, cpu-write,
// page-latency, map-same-device, map-cross-device) in Node on Dawn, Chromium's WebGPU, from
// the `webgpu` npm package: no browser. Same measuring code, same table, same JSON as
// `npm run bench`; the pipelines and map-cross-realm (a worker with WebGPU) need a page and
// are listed as skipped.
//
//   npm run bench:dawn [-- --quick] [--out FILE] [--scenarios a,b] [--runs N] [--max-size MIB]
//                      [--save] [--compare FILE] [--noise N] [--backend NAME]
//   npm run bench:dawn -- --show FILE [--compare FILE] [--save]
//   npm run bench:dawn -- --bundle DIR
//
// It bundles bench/dawn/main.ts with every npm package into one ESM file (Vite's
// SSR build) and runs that with this Node. --bundle DIR writes the bundle instead:
// DIR/bench.mjs and DIR/dist/<platform>-<arch>/dawn.node, which run anywhere with Node 20 and
// a Vulkan loader and driver (`node DIR/bench.mjs --help`). Options: bench/dawn/options.ts.
// --out defaults to bench-dawn-results.json; --save keeps full runs as
// docs/bench/runs/<date>-<vendor>-<architecture>-dawn-node.json.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensurePackages, fail, root } from './bootstrap.mjs';

/**
 * Where Dawn for Node (the `webgpu` package, binaries for every platform: about 130 MB) is
 * installed, from its own package-lock.json, the first time this runs: `npm test` and
 * `npm start` never need it.
 */
const DAWN_PACKAGES = join(root, 'bench', 'dawn');

/** Where a run from the repository keeps its bundle between runs. */
const CACHE = join(root, 'node_modules', '.cache', 'webgpu-dmabuf-bench-dawn');

/**
 * Splits `--bundle DIR` (or `--bundle=DIR`) from the options meant for the bundle.
 * @throws {Error} when --bundle has no folder after it
 * @param {readonly string[]} argv
 * @returns {{ bundle: string | undefined, rest: string[] }}
 */
export function splitBundleOption(argv) {
  const rest = [...argv];
  const at = rest.findIndex((arg) => arg === '--bundle' || arg.startsWith('--bundle='));
  if (at < 0) return { bundle: undefined, rest };
  const [arg = ''] = rest.splice(at, 1);
  const bundle = arg.startsWith('--bundle=') ? arg.slice('--bundle='.length) : rest.splice(at, 1)[0];
  if (!bundle || bundle.startsWith('--')) throw new Error('--bundle wants a folder: --bundle DIR');
  return { bundle, rest };
}

/**
 * Builds the bundle into `dir`: bench.mjs (everything but Node's built-ins inlined) and
 * dawn.node where the `webgpu` package's loader looks for it, beside bench.mjs.
 * Returns the paths written.
 * @param {string} dir
 * @returns {Promise<string[]>}
 */
export async function buildBundle(dir) {
  const webgpu = join(DAWN_PACKAGES, 'node_modules', 'webgpu');
  /** @type {{ version: string }} */
  const webgpuPackage = JSON.parse(readFileSync(join(webgpu, 'package.json'), 'utf8'));
  const platform = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  const { build, loadConfigFromFile } = await import('vite');
  // The project's aliases ('webgpu-dmabuf' and its subpaths), nothing else of its config.
  const loaded = await loadConfigFromFile({ command: 'build', mode: 'production' }, join(root, 'vite.config.ts'), root, 'silent');
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false,
    resolve: { alias: loaded?.config.resolve?.alias ?? {} },
    define: { __WEBGPU_PACKAGE_VERSION__: JSON.stringify(webgpuPackage.version) },
    ssr: { noExternal: true, target: 'node' },
    build: {
      ssr: join(root, 'bench', 'dawn', 'main.ts'),
      outDir: dir,
      emptyOutDir: false,
      target: 'node20',
      minify: false,
      copyPublicDir: false,
      // One file: the scenarios are imported once Dawn's globals are in place, not split off.
      rolldownOptions: { output: { entryFileNames: 'bench.mjs', format: 'es', codeSplitting: false } },
    },
  });
  const dawnDir = join(dir, 'dist', platform);
  mkdirSync(dawnDir, { recursive: true });
  copyFileSync(join(webgpu, 'dist', platform, 'dawn.node'), join(dawnDir, 'dawn.node'));
  return [join(dir, 'bench.mjs'), join(dawnDir, 'dawn.node')];
}

/** `npm run bench:dawn`: builds, then runs the bundle (or only writes it, with --bundle). */
async function main() {
  let split;
  try {
    split = splitBundleOption(process.argv.slice(2));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { bundle, rest } = split;
  ensurePackages();
  ensurePackages(DAWN_PACKAGES, 'Dawn for Node (the webgpu npm package)');
  const dir = resolve(bundle ?? CACHE);
  let files;
  try {
    files = await buildBundle(dir);
  } catch (error) {
    fail(`could not build the Dawn bundle: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (bundle) {
    for (const file of files) console.log(`webgpu-dmabuf: ${relative(process.cwd(), file)} (${(statSync(file).size / 2 ** 20).toFixed(1)} MiB)`);
    console.log(`webgpu-dmabuf: run it with \`node ${relative(process.cwd(), join(dir, 'bench.mjs'))} --help\`; it needs Node 20 and a Vulkan loader and driver.`);
    return 0;
  }
  // A run from the repository saves where `npm run bench` does, whatever the working directory.
  const runsDir = rest.some((arg) => arg === '--runs-dir' || arg.startsWith('--runs-dir=')) ? [] : ['--runs-dir', join(root, 'docs', 'bench', 'runs')];
  const result = spawnSync(process.execPath, [join(dir, 'bench.mjs'), ...rest, ...runsDir], { stdio: 'inherit' });
  if (result.error) fail(`could not run the Dawn bundle: ${result.error.message}`);
  return result.status ?? 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = await main();
