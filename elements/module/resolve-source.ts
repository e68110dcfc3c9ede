import { DmabufElementError } from '../element-error.js';

/**
 * The element whose frames `importer` takes: the one with id `source` in the importer's
 * own tree (its document, or the shadow root it lives in).
 * @throws {DmabufElementError} `ENOSOURCE` when `source` is empty or names no element there.
 */
export function resolveSource(importer: Element, source: string): EventTarget {
  const root = importer.getRootNode();
  const found = source && (root instanceof Document || root instanceof ShadowRoot) ? root.getElementById(source) : null;
  if (!found) throw new DmabufElementError('ENOSOURCE', `<${importer.localName}>`, `source="${source}" names no element in its document or shadow root`);
  return found;
}
