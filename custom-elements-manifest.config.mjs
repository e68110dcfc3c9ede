// @custom-elements-manifest/analyzer: the manifest of the elements the package ships
// (dist/custom-elements.json, named by package.json's `customElements`), run by
// `npm run build`. Not the kernels (no elements there).
//
// One plugin corrects what the analyzer infers from Lit's `static properties` and from
// `dispatchEvent` calls, so that editors and framework wrappers see only the real API.

/**
 * @typedef {{ name: string, description?: string, attribute?: string, fieldName?: string }} Entry
 * @typedef {{ kind: string, name: string, superclass?: { name: string }, attributes?: Entry[], members?: Entry[], events?: Entry[] }} Declaration
 * @typedef {{ modules: { declarations?: Declaration[] }[] }} Manifest
 * @typedef {import('typescript')} TS
 */

/**
 * Names of the `static properties` entries declared `{ state: true }` in a class: Lit
 * gives them no attribute, but the analyzer lists one for each.
 * @param {TS} ts
 * @param {import('typescript').ClassDeclaration} node
 * @returns {Set<string>}
 */
function stateProperties(ts, node) {
  const names = new Set();
  for (const member of node.members) {
    if (!ts.isPropertyDeclaration(member) || member.name.getText() !== 'properties') continue;
    const init = member.initializer;
    if (!init || !ts.isObjectLiteralExpression(init)) continue;
    for (const property of init.properties) {
      if (!ts.isPropertyAssignment(property) || !ts.isObjectLiteralExpression(property.initializer)) continue;
      const isState = property.initializer.properties.some(
        (option) => ts.isPropertyAssignment(option) && option.name.getText() === 'state' && option.initializer.kind === ts.SyntaxKind.TrueKeyword,
      );
      if (isState) names.add(property.name.getText());
    }
  }
  return names;
}

/** @returns {import('@custom-elements-manifest/analyzer').Plugin} */
function litStateAndEvents() {
  /** @type {Map<string, Set<string>>} class name → its state properties */
  const states = new Map();
  return {
    name: 'webgpu-dmabuf:lit-state-and-events',
    /** @param {{ ts: TS, node: import('typescript').Node }} context */
    collectPhase({ ts, node }) {
      if (ts.isClassDeclaration(node) && node.name) states.set(node.name.getText(), stateProperties(ts, node));
    },
    /** @param {{ customElementsManifest: Manifest }} context */
    packageLinkPhase({ customElementsManifest }) {
      const declarations = customElementsManifest.modules.flatMap((module) => module.declarations ?? []);
      const byName = new Map(declarations.map((declaration) => [declaration.name, declaration]));
      /** A class's state properties and its bases'. */
      const stateOf = (/** @type {string | undefined} */ name) => {
        const names = new Set();
        for (let current = name ? byName.get(name) : undefined; current; current = current.superclass ? byName.get(current.superclass.name) : undefined) {
          for (const state of states.get(current.name) ?? []) names.add(state);
        }
        return names;
      };
      for (const declaration of declarations) {
        if (declaration.kind !== 'class') continue;
        const state = stateOf(declaration.name);
        if (declaration.attributes) {
          declaration.attributes = declaration.attributes.filter((attribute) => !state.has(attribute.fieldName ?? attribute.name));
        }
        for (const member of declaration.members ?? []) {
          if (member.attribute !== undefined && state.has(member.name)) delete member.attribute;
        }
        // `@fires` tags name the events (with a description); the analyzer also adds one per
        // `dispatchEvent(new SomeEvent(value))`, named after the argument: keep the former.
        if (declaration.events?.some((event) => event.description !== undefined)) {
          declaration.events = declaration.events.filter((event) => event.description !== undefined);
        }
      }
    },
  };
}

export default {
  globs: ['elements/**/*.ts'],
  exclude: ['elements/kernels/**'],
  outdir: 'dist',
  litelement: true,
  plugins: [litStateAndEvents()],
};
