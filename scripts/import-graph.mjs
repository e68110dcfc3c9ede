// `node scripts/import-graph.mjs`: the project's import graph between folders, from the
// import and export statements of every source file, and whether it keeps the layers: the
// library src/ -> remote/ -> gpu/ -> elements/ and adapters/ (each imports only those before
// it), the applications demo/, bench/, examples/ (each imports the library only through the
// package's public entries). Prints the edges and a Mermaid graph; exits 1 when an arrow runs
// up or an application reaches into library files. `--write` also puts the graph in
// docs/layers.md. ESLint enforces the same rules file by file (eslint.config.js).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The library's layers, lowest first: a folder may import those of a lower rank (and its own). */
const LAYERS = { src: 0, remote: 1, gpu: 2, elements: 3, adapters: 3 };
const APPS = ['demo', 'bench', 'examples'];
/** What the package's public entries are, as files, and the names apps import them by. */
const ENTRIES = { 'index.ts': "'webgpu-dmabuf'", 'elements/elements.ts': "'webgpu-dmabuf/elements'", 'elements/define.ts': "'webgpu-dmabuf/elements/define'" };
const PACKAGE = { 'webgpu-dmabuf': 'index.ts', 'webgpu-dmabuf/elements': 'elements/elements.ts', 'webgpu-dmabuf/elements/define': 'elements/define.ts' };

/** @param {string} dir @returns {string[]} */
function sources(dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * The top-level folder of a repository path (`index.ts` stands for the package's entry).
 * @param {string} path
 */
const folderOf = (path) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);

const folders = [...Object.keys(LAYERS), ...APPS].filter((dir) => {
  try {
    return statSync(join(root, dir)).isDirectory();
  } catch {
    return false;
  }
});
const files = ['index.ts', ...folders.flatMap((dir) => sources(dir))];
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** @type {Map<string, number>} */
const edges = new Map();
/** @type {string[]} */
const problems = [];
for (const file of files) {
  const text = readFileSync(join(root, file), 'utf8');
  const from = folderOf(file);
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3] ?? '';
    let target;
    if (spec.startsWith('.')) {
      target = relative(root, resolve(root, dirname(file), spec.replace(/\?.*$/, ''))).replace(/\.js$/, '.ts');
    } else if (spec in PACKAGE) {
      target = PACKAGE[/** @type {keyof typeof PACKAGE} */ (spec)];
    } else {
      continue;
    }
    const to = target === 'index.ts' ? 'index.ts' : folderOf(target);
    if (to === from || to.startsWith('..')) continue;
    const key = `${from} -> ${to}`;
    edges.set(key, (edges.get(key) ?? 0) + 1);
    const fromRank = LAYERS[/** @type {keyof typeof LAYERS} */ (from)];
    const toRank = to === 'index.ts' ? 2.5 : LAYERS[/** @type {keyof typeof LAYERS} */ (to)];
    if (fromRank !== undefined && toRank !== undefined && toRank >= fromRank && from !== 'elements' && from !== 'adapters') {
      problems.push(`${file}: ${spec} runs up from ${from}/ to ${to}`);
    }
    if ((from === 'elements' || from === 'adapters') && !spec.startsWith('webgpu-dmabuf') && LAYERS[/** @type {keyof typeof LAYERS} */ (to)] !== undefined && to !== from) {
      problems.push(`${file}: ${spec} reaches into ${to}/ by path, not through 'webgpu-dmabuf'`);
    }
    if (APPS.includes(from) && !spec.startsWith('webgpu-dmabuf') && (to === 'index.ts' || LAYERS[/** @type {keyof typeof LAYERS} */ (to)] !== undefined)) {
      const entry = ENTRIES[/** @type {keyof typeof ENTRIES} */ (target)];
      problems.push(`${file}: ${spec} reaches into library files${entry ? ` (import ${entry})` : ''}`);
    }
    if (APPS.includes(from) && APPS.includes(to)) problems.push(`${file}: ${spec}: one application imports another`);
  }
}

const sorted = [...edges].sort(([a], [b]) => a.localeCompare(b));
/** @param {string} folder */
const name = (folder) => (folder === 'index.ts' ? 'entry' : folder);
const mermaid = ['```mermaid', 'graph TD', ...sorted.map(([key, count]) => {
  const [from, to] = key.split(' -> ');
  return `  ${name(from ?? '')} -->|${count}| ${name(to ?? '')}`;
}), '```'].join('\n');
const table = ['| from | to | imports |', '| --- | --- | ---: |', ...sorted.map(([key, count]) => {
  const [from, to] = key.split(' -> ');
  return `| ${from === 'index.ts' ? "`index.ts` ('webgpu-dmabuf')" : `${from}/`} | ${to === 'index.ts' ? "`index.ts` ('webgpu-dmabuf')" : `${to}/`} | ${count} |`;
})].join('\n');

console.log(table);
console.log(`\n${mermaid}\n`);
if (process.argv.includes('--write')) {
  const page = `# Layers: the import graph

Every import between top-level folders, counted from the source files by
\`node scripts/import-graph.mjs --write\`, which also checks the rules below (and exits 1 when
one is broken); ESLint enforces the same rules file by file (\`eslint.config.js\`).

- The library: \`src/\` (the WebGPU-free contract) -> \`remote/\` (realms) -> \`gpu/\` (the
  WebGPU exporter), gathered by \`index.ts\`, the package's entry \`'webgpu-dmabuf'\`; then
  \`elements/\` (\`'webgpu-dmabuf/elements'\`) and the adapters, which import the core only
  through \`'webgpu-dmabuf'\`. No arrow runs up.
- The applications: \`demo/\`, \`bench/\`, \`examples/\` import the library only through the
  package's public entries (here \`entry\` and \`elements\`), never its files, and never each
  other.

${mermaid}

${table}
`;
  writeFileSync(join(root, 'docs', 'layers.md'), page);
}
if (problems.length > 0) {
  console.error(`The layers are broken:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${files.length} files: no arrow runs up, and no application reaches into library files.`);
