import { expect, test } from 'vitest';
import '../../elements/adapter-info/adapter-info.js';

test('<dmabuf-adapter-info> shows the vendor and architecture of the real adapter', async () => {
  const element = document.createElement('dmabuf-adapter-info');
  document.body.append(element);
  try {
    await expect.poll(() => element.shadowRoot?.querySelector('[data-state="ready"]'), { timeout: 30_000 }).toBeTruthy();
    const adapter = await navigator.gpu.requestAdapter();
    expect(adapter).not.toBeNull();
    const text = element.shadowRoot?.textContent ?? '';
    expect(text).toContain(adapter?.info.vendor);
    expect(text).toContain(adapter?.info.architecture);
  } finally {
    element.remove();
  }
});
