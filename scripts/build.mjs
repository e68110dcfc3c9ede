// `npm run build`: the library (Vite library mode, JavaScript into dist/), its declarations
// (tsc, .d.ts into dist/) and the demo site (dist/site).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePackages, root, run } from './bootstrap.mjs';

ensurePackages();
/** @param {string} name */
const bin = (name) => join(root, 'node_modules', '.bin', name);
rmSync(join(root, 'dist'), { recursive: true, force: true });
run(bin('vite'), ['build', '--mode', 'lib']);
run(bin('tsc'), ['-p', 'tsconfig.build.json']);
run(bin('vite'), ['build']);
