// The package as an app gets it: `npm pack` once (which runs `prepare`, the build a git
// install runs too), what the tarball holds, and its types in throwaway strict consumers
// (no skipLibCheck) for TypeScript 5.9, 6 and 7, each with and without @webgpu/types: the
// same app file type-checks with no more errors when it imports and uses 'webgpu-dmabuf',
// 'webgpu-dmabuf/elements' and 'webgpu-dmabuf/elements/define' than without, no error is
// in the package's files, and the set-ups docs/typescript.md recommends are clean.
//
// Offline: the compilers are the project's own devDependencies (aliased by version), and
// @webgpu/types and lit are linked from the project's node_modules, not fetched. npm installs
// the tarball once; each consumer gets a copy of what it installed, and the app with and
// without the package are checked at once, in two like consumers.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const modules = join(root, 'node_modules');

/** The compilers, by the devDependency that holds each. */
const COMPILERS = [
  { version: '5.9', pkg: 'typescript-5.9' },
  { version: '6', pkg: 'typescript' },
  { version: '7', pkg: 'typescript-7' },
] as const;

/** An app's own WebGPU code, using nothing of the package: what the "without" file holds. */
const APP = `const adapter = await navigator.gpu.requestAdapter();
if (!adapter) throw new Error('no WebGPU adapter');
const device = await adapter.requestDevice();
const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
export {};
`;

/** The same app importing and using the package's three entry points. */
const APP_WITH_PACKAGE = `${APP}
import { DmaBufError, FdTable, GpuHeap, PAGE_SIZE, requestGpuDevice, type SgTable } from 'webgpu-dmabuf';
import { DmabufCamera, DmabufView, FrameEvent, type FrameLease } from 'webgpu-dmabuf/elements';
import 'webgpu-dmabuf/elements/define';

const exporterDevice = await requestGpuDevice({ label: 'exporter' });
const importerDevice = await requestGpuDevice({ label: 'importer' });
const heap = new GpuHeap(exporterDevice);
const exporter = new FdTable();
const importer = new FdTable();
const fd = exporter.install(heap.allocate(PAGE_SIZE));
const buf = importer.get(exporter.send(fd, importer));
const attachment = buf.attach(importerDevice);
const sgt: SgTable = await attachment.map('to-device');
for (const segment of sgt.segments) console.log(segment.buffer.size, segment.offset, segment.length);
await attachment.unmap(sgt, 'to-device');
buf.detach(attachment);
buf.put();
try {
  heap.allocate(-1);
} catch (error) {
  if (error instanceof DmaBufError) console.log(error.code);
}
const camera: DmabufCamera = document.createElement('dmabuf-camera');
const view: DmabufView = document.createElement('dmabuf-view');
view.source = camera.id;
camera.addEventListener(FrameEvent.type, (event) => {
  const lease: FrameLease = event.accept(importer);
  lease.release();
});
document.body.append(camera, view);
`;

/**
 * The answer of docs/typescript.md for TypeScript 6 and 7 without @webgpu/types: their lib.dom has the
 * WebGPU interfaces but not these five namespaces of flag constants.
 */
const WEBGPU_FLAGS = `declare var GPUBufferUsage: {
  readonly MAP_READ: 0x0001; readonly MAP_WRITE: 0x0002; readonly COPY_SRC: 0x0004; readonly COPY_DST: 0x0008; readonly INDEX: 0x0010;
  readonly VERTEX: 0x0020; readonly UNIFORM: 0x0040; readonly STORAGE: 0x0080; readonly INDIRECT: 0x0100; readonly QUERY_RESOLVE: 0x0200;
};
declare var GPUMapMode: { readonly READ: 0x0001; readonly WRITE: 0x0002 };
declare var GPUTextureUsage: {
  readonly COPY_SRC: 0x01; readonly COPY_DST: 0x02; readonly TEXTURE_BINDING: 0x04; readonly STORAGE_BINDING: 0x08; readonly RENDER_ATTACHMENT: 0x10;
};
declare var GPUShaderStage: { readonly VERTEX: 0x1; readonly FRAGMENT: 0x2; readonly COMPUTE: 0x4 };
declare var GPUColorWrite: { readonly RED: 0x1; readonly GREEN: 0x2; readonly BLUE: 0x4; readonly ALPHA: 0x8; readonly ALL: 0xf };
`;

let work = '';
let tarball = '';
let packed: string[] = [];
/** The package as npm installed it from the tarball, once: every consumer gets a copy. */
let installed = '';

/** Runs a command; its standard output, or a thrown error with all its output when it fails. */
function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** Type-checks a consumer; its error lines (a failed check is what this counts, not a throw). */
function typeCheck(consumer: string, compiler: string): Promise<string[]> {
  const tsc = join(modules, compiler, 'bin', 'tsc');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: consumer });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', () => { resolve(Buffer.concat(chunks).toString().split('\n').filter((line) => /error TS\d+/.test(line))); });
  });
}

/** A folder with @webgpu/types where npm puts a peer dependency, linked from the project's. */
function folderWithPeer(dir: string, name: string): void {
  mkdirSync(join(dir, 'node_modules', '@webgpu'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  symlinkSync(join(modules, '@webgpu', 'types'), join(dir, 'node_modules', '@webgpu', 'types'), 'dir');
}

/**
 * A consumer folder with the package as npm installed it from the tarball (a copy of the one
 * install). @webgpu/types is there in every set-up, as npm puts a peer dependency; "with"
 * means the app's tsconfig names it.
 */
function consumer(name: string, options: { webgpuTypes: boolean; flags: boolean }): string {
  const dir = join(work, name);
  folderWithPeer(dir, name);
  mkdirSync(join(dir, 'src'));
  cpSync(installed, join(dir, 'node_modules', 'webgpu-dmabuf'), { recursive: true });
  // lit, the optional peer of the elements.
  symlinkSync(join(modules, 'lit'), join(dir, 'node_modules', 'lit'), 'dir');
  const include = options.flags ? ['src/main.ts', 'src/webgpu-flags.d.ts'] : ['src/main.ts'];
  if (options.flags) writeFileSync(join(dir, 'src', 'webgpu-flags.d.ts'), WEBGPU_FLAGS);
  // Strict, as a Vite app's tsconfig is, and stricter; never skipLibCheck: the package's
  // declarations and @webgpu/types are checked. TypeScript's own lib files are not
  // (skipDefaultLibCheck): they are the compiler's, and checking them took half the time.
  const compilerOptions = {
    target: 'ES2022',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    module: 'ESNext',
    moduleResolution: 'bundler',
    types: options.webgpuTypes ? ['@webgpu/types'] : [],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: false,
    skipDefaultLibCheck: true,
    noEmit: true,
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include }, null, 2));
  return dir;
}

/** The errors of the app alone and of the app with the package, in two like consumers checked at once. */
async function compare(name: string, options: { webgpuTypes: boolean; flags: boolean }, compiler: string): Promise<{ alone: string[]; withPackage: string[] }> {
  const [bare, using] = [consumer(`${name}-alone`, options), consumer(`${name}-with`, options)];
  writeFileSync(join(bare, 'src', 'main.ts'), APP);
  writeFileSync(join(using, 'src', 'main.ts'), APP_WITH_PACKAGE);
  const [alone, withPackage] = await Promise.all([typeCheck(bare, compiler), typeCheck(using, compiler)]);
  return { alone, withPackage };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'webgpu-dmabuf-consumers-'));
  const output = run('npm', ['pack', '--json', '--pack-destination', work], root);
  // What the prepare script prints comes first; the JSON starts at a line that is '['.
  const [info] = JSON.parse(output.slice(output.search(/^\[$/m))) as [{ filename: string; files: { path: string }[] }];
  tarball = join(work, info.filename);
  packed = info.files.map((file) => file.path);
  // The one npm install (offline), with the peer dependency already in place.
  const template = join(work, 'installed-by-npm');
  folderWithPeer(template, 'installed-by-npm');
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], template);
  installed = join(template, 'node_modules', 'webgpu-dmabuf');
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the built package and nothing of the project', () => {
  for (const file of packed) expect(file, file).toMatch(/^(dist\/.+\.(js|js\.map|d\.ts)|dist\/custom-elements\.json|package\.json|README\.md|LICENSE)$/);
  expect(packed.filter((file) => file.startsWith('dist/site/'))).toEqual([]);
  for (const file of ['dist/webgpu-dmabuf.js', 'dist/elements.js', 'dist/elements-define.js', 'dist/index.d.ts', 'dist/elements/elements.d.ts', 'dist/elements/define.d.ts', 'dist/ts5/index.d.ts', 'dist/ts5/elements.d.ts', 'dist/ts5/define.d.ts', 'dist/custom-elements.json', 'README.md']) {
    expect(packed).toContain(file);
  }
  // Only the define entry registers elements: 'webgpu-dmabuf/elements' and the chunks it
  // shares with it define none (the package.json's sideEffects keeps the define calls).
  const code = (file: string) => readFileSync(join(root, file), 'utf8');
  const defines = code('dist/elements-define.js');
  for (const tag of ['adapter-info', 'camera', 'filter', 'inspector', 'view']) expect(defines).toContain(`customElements.define("dmabuf-${tag}"`);
  for (const file of packed.filter((path) => path.endsWith('.js') && path !== 'dist/elements-define.js')) expect(code(file), file).not.toContain('customElements.define(');
  // The applications (demo/, bench/) are the project's, not the package's: no file of it
  // holds their elements, so an entry that reached one would fail here.
  for (const file of packed.filter((path) => /\.(js|d\.ts)$/.test(path))) expect(code(file), file).not.toMatch(/dmabuf-(demo|bench)|Dmabuf(Demo|Bench)/);
  // The core reaches no Lit: its modules and every chunk they import, transitively.
  const seen = new Set<string>();
  const reach = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, specifier = ''] of code(file).matchAll(/\bfrom\s*"([^"]+)"/g)) {
      expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\.?\//);
      reach(join(dirname(file), specifier));
    }
  };
  reach('dist/webgpu-dmabuf.js');
  const manifest = JSON.parse(code('package.json')) as { dependencies?: object; customElements: string };
  // The core needs nothing at run time; lit is the elements' optional peer.
  expect(manifest.dependencies ?? {}).toEqual({});
  expect(packed).toContain(manifest.customElements);
});

describe.each(COMPILERS)('TypeScript $version, strict, without skipLibCheck', ({ version, pkg }) => {
  test('is the version its devDependency says', () => {
    const output = run(process.execPath, [join(modules, pkg, 'bin', 'tsc'), '--version'], root);
    expect(output).toMatch(new RegExp(String.raw`Version ${version.replace('.', String.raw`\.`)}\b`));
  });

  test.each([true, false])('@webgpu/types named by the app: %s; the package adds no error', async (webgpuTypes) => {
    const { alone, withPackage } = await compare(`ts${version}-${webgpuTypes ? 'with' : 'without'}`, { webgpuTypes, flags: false }, pkg);
    console.log(`TypeScript ${version}, ${webgpuTypes ? 'with' : 'without'} @webgpu/types: ${alone.length} errors without the package, ${withPackage.length} with it`);
    expect(withPackage.filter((line) => line.includes('node_modules/webgpu-dmabuf/'))).toEqual([]);
    expect(withPackage.length).toBeLessThanOrEqual(alone.length);
    // A clean app stays clean. On 5.9 every set-up is: the package brings @webgpu/types.
    if (alone.length === 0 || version === '5.9') expect(withPackage).toEqual([]);
  }, 120_000);

  if (version !== '5.9') {
    test("the recommended set-up (lib.dom's WebGPU and the flag constants it lacks) is clean", async () => {
      const { alone, withPackage } = await compare(`ts${version}-flags`, { webgpuTypes: false, flags: true }, pkg);
      expect(alone).toEqual([]);
      expect(withPackage).toEqual([]);
    }, 120_000);
  }
});
