// Set-up shared by `npm start`, `npm test` and `npm run bench`, on a machine that may have
// nothing but Node: install npm packages when missing or stale, and find (or install)
// Chromium. Node built-ins only: this runs before `node_modules` exists.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium } from './chromium.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Prints a one-line reason and exits: the one clear message docs/testing.md promises.
 * @param {string} message
 * @returns {never}
 */
export function fail(message) {
  console.error(`\nwebgpu-dmabuf: ${message}\n`);
  process.exit(1);
}

/**
 * Runs a command with inherited output; exits with its status if it fails.
 * @param {string} command
 * @param {readonly string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [options]
 */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/**
 * `npm ci` in `dir` (the project, unless told) when its `node_modules` is missing or older
 * than its `package-lock.json`. `what` names the packages in the message.
 * @param {string} [dir]
 * @param {string} [what]
 */
export function ensurePackages(dir = root, what = 'npm packages') {
  const lock = join(dir, 'package-lock.json');
  const stamp = join(dir, 'node_modules', '.package-lock.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log(`webgpu-dmabuf: installing ${what} (npm ci${dir === root ? '' : ` in ${dir.slice(root.length + 1)}`})...`);
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
}

/**
 * Returns the path of a Chromium to drive. When none is found and this is Debian-like
 * and root, installs Debian's `chromium`; otherwise stops with what to install.
 * Never downloads a browser build of its own.
 */
export function ensureChromium() {
  const found = findChromium();
  if (found) return found;
  if (process.env.CHROME_PATH) fail(`CHROME_PATH is set to ${process.env.CHROME_PATH}, which does not exist.`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    console.log("webgpu-dmabuf: no Chromium found; installing Debian's chromium (apt-get)...");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update'], { env });
    run('apt-get', ['install', '-y', 'chromium'], { env });
    const installed = findChromium();
    if (installed) return installed;
  }
  fail(
    'no Chromium found. Install Debian\'s chromium (sudo apt-get install chromium), ' +
      'or set CHROME_PATH to a Chromium or Chrome executable.',
  );
}
