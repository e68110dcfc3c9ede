// `npm run build`: the package (its JavaScript by Vite library mode, its declarations by tsc,
// the custom-elements manifest by @custom-elements-manifest/analyzer, all into dist/), then
// the demo site (dist/site) with the API reference (TypeDoc, dist/site/api).
//
// `--lib` builds the package only: what `npm pack` and an install from a git URL run
// (the `prepare` script), where the site is not wanted. It leaves dist/site as it was.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePackages, root, run } from './bootstrap.mjs';

const { values } = parseArgs({ options: { lib: { type: 'boolean', default: false } } });

if (process.env.npm_lifecycle_event === 'prepare') {
  // Under `prepare` npm has just installed the packages itself. `npm ci` in the project
  // (what `npm test`, `npm start` and CI run first) only installs: a tree whose types are
  // broken mid-change must still install, and nothing there needs dist/. `npm pack`,
  // `npm install` and the `npm install` npm runs in its clone of a git dependency build.
  if (process.env.npm_command === 'ci') process.exit(0);
} else {
  ensurePackages();
}

/** @param {string} name */
const bin = (name) => join(root, 'node_modules', '.bin', name);
const dist = join(root, 'dist');

for (const entry of existsSync(dist) ? readdirSync(dist) : []) {
  if (!(values.lib && entry === 'site')) rmSync(join(dist, entry), { recursive: true, force: true });
}

run(bin('vite'), ['build', '--mode', 'lib', '--logLevel', 'warn']);
run(bin('tsc'), ['-p', 'tsconfig.build.json']);
writeTs5Entries();
// What it analyzes and how: custom-elements-manifest.config.mjs. package.json already names
// dist/custom-elements.json, so the analyzer, which would write it there, leaves it alone.
run(bin('custom-elements-manifest'), ['analyze', '--quiet', '--config', 'custom-elements-manifest.config.mjs']);
if (values.lib) process.exit(0);

run(bin('vite'), ['build']);
run(bin('typedoc'), ['--options', 'typedoc.config.mjs', '--logLevel', 'Warn']);

/**
 * The declarations TypeScript before 6.0 reads (package.json's `types@<6.0` conditions):
 * each entry's, plus the WebGPU types those compilers' `lib.dom` lacks, from the
 * `@webgpu/types` peer dependency. TypeScript 6 and later read the entries themselves,
 * which name none: their `lib.dom` has WebGPU, and `@webgpu/types` beside it would clash.
 */
function writeTs5Entries() {
  const dir = join(dist, 'ts5');
  mkdirSync(dir, { recursive: true });
  /** @type {[string, string][]} */
  const entries = [['index', '../index.js'], ['elements', '../elements/elements.js'], ['define', '../elements/define.js'], ['tfjs', '../adapters/tfjs/tfjs.js'], ['onnxruntime', '../adapters/onnxruntime/onnxruntime.js']];
  for (const [name, target] of entries) {
    const text = `/// <reference types="@webgpu/types" />\nexport * from '${target}';\n`;
    writeFileSync(join(dir, `${name}.d.ts`), text);
  }
}
