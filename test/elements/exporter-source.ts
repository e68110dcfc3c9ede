// A stand-in exporter with no element, for the module classes' tests: a FrameExporter on a
// device of the test's own that offers frames of known bytes on a plain EventTarget, as a
// module in a worker would have to.
import { FrameExporter } from '../../elements/frame/frame-exporter.js';
import { rgbaFrameLayout, type FrameLayout } from '../../elements/kernels/frame-layout.js';
import type { ModuleHost } from '../../elements/module/module-host.js';
import { newDevice } from '../gpu/gpu-helpers.js';

export interface ExporterSource {
  readonly target: EventTarget;
  readonly device: GPUDevice;
  readonly exporter: FrameExporter;
  readonly layout: FrameLayout;
  /** Offers `rgba` as the next frame; resolves with how many importers took it. */
  publish(rgba: Uint8Array): Promise<number>;
  /** Takes every frame back, frees the ring and the heap, destroys the device. */
  close(): Promise<void>;
}

/** A ring of three `width` x `height` frames named `name`, offered on a plain `EventTarget`. */
export async function exporterSource(name: string, width: number, height: number): Promise<ExporterSource> {
  const device = await newDevice(`${name} device`);
  const target = new EventTarget();
  const exporter = new FrameExporter(device, { name, slots: 3, target });
  const layout = rgbaFrameLayout(width, height);
  return {
    target,
    device,
    exporter,
    layout,
    async publish(rgba) {
      const offered = await exporter.produce(layout, (dst) => { device.queue.writeBuffer(dst.buffer, dst.offset ?? 0, rgba); });
      if (!offered) throw new Error('exporterSource: no free slot');
      return offered.taken;
    },
    async close() {
      await exporter.close();
      device.destroy();
    },
  };
}

/** What a module reported to its host. */
export interface HostRecord {
  readonly host: ModuleHost;
  readonly done: { readonly frameMs: number; readonly detail: string; readonly liveBuffers: number | undefined }[];
  readonly errors: unknown[];
  dropped: number;
}

/** A {@link ModuleHost} that records what it is told. */
export function recordingHost(): HostRecord {
  const record: HostRecord = {
    done: [],
    errors: [],
    dropped: 0,
    host: {
      frameDone: (frameMs, heap, detail) => { record.done.push({ frameMs, detail, liveBuffers: heap?.liveBuffers }); },
      frameDropped: () => { record.dropped += 1; },
      fail: (error) => { record.errors.push(error); },
    },
  };
  return record;
}
