import { afterEach, expect, test, vi } from 'vitest';
import { DmaFence, FdTable, GpuHeap } from 'webgpu-dmabuf';
import { ModuleStatsEvent } from '../../elements/module/module-stats-event.js';
import type { DmabufInspector } from '../../elements/inspector/inspector.component.js';
import '../../elements/inspector/inspector.js';
import { expectNoLeaks, newDevice } from '../gpu/gpu-helpers.js';
import { expectNoBuffers } from './frame-helpers.js';

let inspector: DmabufInspector | undefined;

afterEach(() => {
  inspector?.remove();
  expectNoBuffers();
});

test('<dmabuf-inspector> lists every dma-buf with its references, attachments and mappings, live', async () => {
  const device = await newDevice('inspected device');
  const heap = new GpuHeap(device, { name: 'test-heap' });
  const table = new FdTable();
  const el = document.createElement('dmabuf-inspector');
  inspector = el;
  el.interval = 20;
  document.body.append(el);
  const buf = heap.allocate(8192, { name: 'inspected' });
  const fd = table.install(buf);
  const attachment = buf.attach(device);
  const sgt = await attachment.map('to-device');
  try {
    const row = () => el.shadowRoot?.querySelector('[data-table="bufinfo"] tr[data-buffer]')?.textContent.replace(/\s+/g, ' ') ?? '';
    // The inspector may have drawn the row between attach and map, so wait for the mapping itself.
    await expect.poll(row, { timeout: 10_000 }).toContain('inspected device (to-device)');
    expect(row()).toContain('test-heap');
    expect(row()).toContain('8.0 KiB');
    expect(el.entries[0]?.refCount).toBe(2);
    await attachment.unmap(sgt, 'to-device');
    buf.detach(attachment);
    await expect.poll(row, { timeout: 10_000 }).not.toContain('inspected device');
  } finally {
    table.close(fd);
    buf.put();
    await expect.poll(() => el.entries.length, { timeout: 10_000 }).toBe(0);
    device.destroy();
  }
  expectNoLeaks(heap);
});

test('<dmabuf-inspector> shows the figures modules report, with bytes copied per frame', async () => {
  const el = document.createElement('dmabuf-inspector');
  inspector = el;
  const module = document.createElement('div');
  document.body.append(el, module);
  try {
    const heap = { liveBuffers: 3, storageBytes: 3000, mirrorBytes: 0, idleMirrorBytes: 0, mirrorBuffersCreated: 0, stagingBytes: 4096, bytesCopied: 0, stagingBuffersCreated: 1 };
    const report = (frames: number, bytesCopied: number) => {
      module.dispatchEvent(new ModuleStatsEvent({ module: 'cam', kind: 'camera', device: 'dev', sharedDevice: false, frames, dropped: 1, fps: 30, frameMs: 4.5, heap: { ...heap, bytesCopied }, detail: 'external-texture' }));
    };
    report(1, 0);
    report(3, 2000);
    await el.updateComplete;
    expect(el.rows.get('cam')?.copiedPerFrame).toBe(1000);
    expect(el.totals).toMatchObject({ bytesCopied: 2000, stagingBytes: 4096, liveBuffers: 3, copiedPerFrame: 1000 });
    const text = el.shadowRoot?.querySelector('[data-module="cam"]')?.textContent.replace(/\s+/g, ' ') ?? '';
    expect(text).toContain('external-texture');
    expect(text).toContain('2.0 KiB');
  } finally {
    module.remove();
  }
});

test('<dmabuf-inspector> shows the fences pending on a buffer, and drops them once signalled', async () => {
  const device = await newDevice('fenced device');
  const heap = new GpuHeap(device, { name: 'fence-heap' });
  const el = document.createElement('dmabuf-inspector');
  inspector = el;
  el.interval = 20;
  document.body.append(el);
  const buf = heap.allocate(4096, { name: 'fenced' });
  const producer = new DmaFence();
  buf.importSyncFile(producer, 'write');
  try {
    const fences = () => el.shadowRoot?.querySelector('[data-table="bufinfo"] tr[data-buffer] [data-fences]')?.textContent.trim() ?? '';
    await expect.poll(fences, { timeout: 10_000 }).toBe(`write ${producer.context}:1`);
    producer.signal();
    await expect.poll(fences, { timeout: 10_000 }).toBe('–');
  } finally {
    buf.put();
    await expect.poll(() => el.entries.length, { timeout: 10_000 }).toBe(0);
    device.destroy();
  }
  expectNoLeaks(heap);
});

test('<dmabuf-inspector> shows the modules\' figures at each reading, not once per frame of each module', async () => {
  const el = document.createElement('dmabuf-inspector');
  inspector = el;
  el.interval = 1000;
  document.body.append(el);
  await el.updateComplete;
  const render = vi.spyOn(el, 'render');
  const heap = { liveBuffers: 3, storageBytes: 3000, mirrorBytes: 0, idleMirrorBytes: 0, mirrorBuffersCreated: 0, stagingBytes: 0, bytesCopied: 0, stagingBuffersCreated: 0 };
  // Forty frames, each reported in a task of its own, as modules do.
  for (let frames = 1; frames <= 40; frames++) {
    document.body.dispatchEvent(new ModuleStatsEvent({ module: 'cam', kind: 'camera', device: 'dev', sharedDevice: false, frames, dropped: 0, fps: 30, frameMs: 1, heap, detail: '' }));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  expect(el.rows.get('cam')?.frames).toBe(40);
  expect(render.mock.calls.length).toBeLessThan(20);
  el.refresh();
  await el.updateComplete;
  expect(el.shadowRoot?.querySelector('[data-module="cam"]')).not.toBeNull();
});
