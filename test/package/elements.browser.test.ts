// The 'webgpu-dmabuf/elements' entry point as an app imports it (by package name): the
// classes without a single custom element defined, then 'webgpu-dmabuf/elements/define',
// which registers each class under its tag. This file runs in a page of its own, where no
// other test has defined an element.
import { expect, test } from 'vitest';
import * as elements from 'webgpu-dmabuf/elements';

const TAGS = {
  'dmabuf-adapter-info': elements.DmabufAdapterInfo,
  'dmabuf-camera': elements.DmabufCamera,
  'dmabuf-filter': elements.DmabufFilter,
  'dmabuf-inspector': elements.DmabufInspector,
  'dmabuf-view': elements.DmabufView,
} as const;

test("importing 'webgpu-dmabuf/elements' defines no element; 'webgpu-dmabuf/elements/define' defines each class under its tag", async () => {
  for (const tag of Object.keys(TAGS)) expect(customElements.get(tag), tag).toBeUndefined();
  const defined = await import('webgpu-dmabuf/elements/define');
  for (const [tag, element] of Object.entries(TAGS)) {
    expect(customElements.get(tag), tag).toBe(element);
    expect(defined[element.name as keyof typeof defined], tag).toBe(element);
  }
});
