// TypeDoc: the API reference of both entry points, 'webgpu-dmabuf' and
// 'webgpu-dmabuf/elements', from the doc comments, into the site (dist/site/api) by
// `npm run build`. Warnings name every exported symbol without a doc comment. It works opened
// from files (dist/site/api/index.html) as well as served: its plugins (scripts/typedoc-*.mjs)
// draw the icons from the page itself, list a type's own members, not those it inherits from
// the platform or Lit, and link the web platform's types to MDN.
import { OptionDefaults } from 'typedoc';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'webgpu-dmabuf',
  entryPoints: ['index.ts', 'elements/elements.ts'],
  tsconfig: 'tsconfig.build.json',
  out: 'dist/site/api',
  // It opens with the README; the guides it links to (docs/*.md, CONTRIBUTING.md) are pages of
  // the site, so its links lead to them.
  readme: 'README.md',
  projectDocuments: ['docs/*.md', 'CONTRIBUTING.md'],
  plugin: ['./scripts/typedoc-web-api-links.mjs', './scripts/typedoc-own-members.mjs', './scripts/typedoc-inline-icons.mjs'],
  includeVersion: true,
  // No public repository to link the sources to.
  disableSources: true,
  excludePrivate: true,
  excludeProtected: true,
  excludeInternal: true,
  // The custom-elements manifest's tags: TypeDoc shows @fires, @csspart and @cssprop under
  // the element's description; @summary repeats its first paragraph for the manifest.
  blockTags: [...OptionDefaults.blockTags, '@fires', '@csspart', '@cssprop', '@attr', '@slot'],
  excludeTags: [...OptionDefaults.excludeTags, '@summary'],
  // What the elements inherit from Lit is documented by Lit.
  externalSymbolLinkMappings: {
    '@lit/reactive-element': { '*': 'https://lit.dev/docs/api/ReactiveElement/' },
    'lit-element': { '*': 'https://lit.dev/docs/api/LitElement/' },
    'lit-html': { '*': 'https://lit.dev/docs/api/templates/' },
  },
  validation: { notExported: true, invalidLink: true, invalidPath: true, rewrittenLink: true, notDocumented: true, unusedMergeModuleWith: true },
};
