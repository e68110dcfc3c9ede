// TypeDoc plugin: links to the web platform's own types (GPUDevice, GPUBuffer, AbortSignal,
// ...: TypeScript's lib.dom and @webgpu/types) go to their MDN pages, as a reader expects,
// instead of warning that they are not part of this package's documentation.

const WEB_TYPES = new Set(['typescript', '@webgpu/types']);

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.addUnknownSymbolResolver((ref, _reflection, _part, symbolId) => {
    // A `{@link}` that TypeScript resolved carries the symbol's id; a type in a signature,
    // the declaration reference.
    const source = symbolId?.packageName ?? ref.moduleSource;
    if (source === undefined || !WEB_TYPES.has(source)) return undefined;
    const path = symbolId ? symbolId.qualifiedName.split('.') : ref.symbolReference?.path?.map((part) => part.path);
    if (!path || path.length === 0) return undefined;
    return `https://developer.mozilla.org/docs/Web/API/${path.join('/')}`;
  });
}
