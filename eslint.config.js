// Lint: typescript-eslint's strict type-aware rules, the folder layering of the design card,
// no import cycles, and no focused or skipped tests.
import vitest from '@vitest/eslint-plugin';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The applications: they import the library by its package names only ('webgpu-dmabuf',
 * 'webgpu-dmabuf/elements', 'webgpu-dmabuf/elements/define', 'webgpu-dmabuf/tfjs',
 * 'webgpu-dmabuf/onnxruntime'), never a
 * library file by path, and not each other.
 */
const apps = ['./demo', './bench', './examples'];

/**
 * Folder layering: each zone lists what a folder must not import. The library's layers are
 * src/ -> remote/ -> gpu/ -> elements/, each on those before it; adapters/ (the optional
 * entries for other libraries) sit beside elements/, on the core's package name only, and
 * no layer below imports them; the applications sit on top. The package names resolve to the
 * entry files (index.ts, elements/elements.ts, elements/define.ts, adapters/tfjs/tfjs.ts,
 * adapters/onnxruntime/onnxruntime.ts),
 * so those stay importable where the package is; a relative path to them is
 * no-restricted-imports' to refuse (below).
 */
const layering = [
  { target: './src', from: ['./remote', './gpu', './elements', './adapters', ...apps, './index.ts'], message: 'src/ is the WebGPU-free contract: it imports no layer above it (remote/, gpu/, elements/, adapters/) and no application.' },
  { target: './remote', from: ['./gpu', './elements', './adapters', ...apps, './index.ts'], message: 'remote/ (realms) builds on src/ only: it imports neither gpu/ nor elements/ nor adapters/ nor an application.' },
  { target: './gpu', from: ['./elements', './adapters', ...apps, './index.ts'], message: 'gpu/ builds on src/ and remote/: it imports neither elements/ nor adapters/ nor an application.' },
  { target: './elements', from: ['./src', './remote', './gpu', './adapters', ...apps], message: "elements/ reach the core by its package name only: import from 'webgpu-dmabuf'; they import no adapter and no application." },
  { target: './adapters', from: ['./src', './remote', './gpu', './elements', ...apps], message: "adapters/ (the optional entries for other libraries, 'webgpu-dmabuf/tfjs', 'webgpu-dmabuf/onnxruntime') reach the core by its package name only: import from 'webgpu-dmabuf'; they import no element and no application." },
  ...apps.map((app) => ({
    target: app,
    from: ['./src', './remote', './gpu', ...apps.filter((other) => other !== app)],
    message: "demo/, bench/ and examples/ are applications: they import the library by its package names ('webgpu-dmabuf', 'webgpu-dmabuf/elements', 'webgpu-dmabuf/elements/define'), and not each other.",
  })),
  ...apps.map((app) => ({
    target: app,
    from: './elements',
    except: ['./elements.ts', './define.ts'],
    message: "applications use the elements' public entries only: import from 'webgpu-dmabuf/elements' or 'webgpu-dmabuf/elements/define'.",
  })),
  ...apps.map((app) => ({
    target: app,
    from: './adapters',
    except: ['./tfjs/tfjs.ts', './onnxruntime/onnxruntime.ts'],
    message: "applications use the adapters' public entries only: import from 'webgpu-dmabuf/tfjs' or 'webgpu-dmabuf/onnxruntime'.",
  })),
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'reports/', '.stryker-tmp/', '**/*.d.ts'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-cycle': 'error',
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layering }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    // The public API is reached by the package names, never by a relative path to an entry.
    files: ['elements/**/*.ts', 'adapters/**/*.ts', 'demo/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: String.raw`^(\.\./)+index(\.[jt]s)?$`, message: "Import from 'webgpu-dmabuf'." },
            { regex: String.raw`^(\.\./)+elements/(elements|define)(\.[jt]s)?$`, message: "Import from 'webgpu-dmabuf/elements' or 'webgpu-dmabuf/elements/define'." },
            { regex: String.raw`^(\.\./)+adapters/tfjs/tfjs(\.[jt]s)?$`, message: "Import from 'webgpu-dmabuf/tfjs'." },
            { regex: String.raw`^(\.\./)+adapters/onnxruntime/onnxruntime(\.[jt]s)?$`, message: "Import from 'webgpu-dmabuf/onnxruntime'." },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { vitest },
    rules: {
      'vitest/no-focused-tests': 'error',
      'vitest/no-disabled-tests': 'error',
      'vitest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'assert*'] }],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
