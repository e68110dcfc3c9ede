// A stand-in exporter for the importer components' tests: a plain element that offers frames
// of known bytes from a heap on the test's own device, through the same FrameRing and
// FrameEvent protocol as <dmabuf-camera>.
import { FdTable, GpuHeap } from 'webgpu-dmabuf';
import { rgbaFrameLayout, type FrameLayout } from '../../elements/kernels/frame-layout.js';
import { FrameRing } from '../../elements/frame/frame-ring.js';
import { newDevice } from '../gpu/gpu-helpers.js';

export interface TestSource {
  readonly element: HTMLElement;
  readonly device: GPUDevice;
  readonly heap: GpuHeap;
  readonly layout: FrameLayout;
  /** Offers `rgba` as the next frame; resolves with how many importers took it. */
  publish(rgba: Uint8Array): Promise<number>;
  /** Takes every frame back, frees the ring, destroys the heap and the device. */
  close(): Promise<void>;
}

/** A deterministic, busy RGBA picture: gradients, a bright square and a dark stripe. */
export function testPicture(width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const square = x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2;
      const stripe = y % 16 < 3;
      out.set([square ? 250 : (x * 255) / width, stripe ? 10 : (y * 255) / height, (x * y * 7) % 256, 255], i);
    }
  }
  return out;
}

/** Mounts `<div id=…>` and its ring of `width` x `height` frames on a device of the test's own. */
export async function testSource(id: string, width: number, height: number): Promise<TestSource> {
  const element = document.createElement('div');
  element.id = id;
  document.body.append(element);
  const device = await newDevice(`${id} device`);
  const heap = new GpuHeap(device, { name: id });
  const table = new FdTable();
  const layout = rgbaFrameLayout(width, height);
  const ring = new FrameRing(heap, table, layout, 3, `${id} frame`);
  let sequence = 0;
  return {
    element,
    device,
    heap,
    layout,
    async publish(rgba) {
      const slot = await ring.acquire();
      const segment = slot?.sgt.segments[0];
      if (!slot || !segment) throw new Error('testSource: no free slot');
      device.queue.writeBuffer(segment.buffer, segment.offset, rgba);
      await device.queue.onSubmittedWorkDone();
      sequence += 1;
      return ring.publish(slot, { layout, sequence, origin: sequence, capturedAt: performance.now(), exporter: id }, element);
    },
    async close() {
      ring.revoke();
      await ring.idle();
      ring.dispose();
      table.closeAll();
      heap.destroy();
      element.remove();
      device.destroy();
    },
  };
}
