import { expect, test } from 'vitest';

test('the package root imports where there is no WebGPU, as in Node', async () => {
  const api = await import('../index.js');
  expect(api.PAGE_SIZE).toBe(4096);
  expect(typeof api.GpuHeap).toBe('function');
});
