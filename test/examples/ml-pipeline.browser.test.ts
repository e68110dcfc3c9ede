// The ML pipeline example: the camera's test pattern, by fd, into TensorFlow.js's WebGPU
// backend on the ML module's own device, and the masked frames out to a view. Real WebGPU
// (SwiftShader without a GPU), the real elements, TensorFlow.js's CPU backend as reference.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { bufinfoEntries, FdTable } from 'webgpu-dmabuf';
import 'webgpu-dmabuf/elements/define';
import { FrameEvent, type DmabufCamera, type DmabufModule } from 'webgpu-dmabuf/elements';
import { maskOverFrame } from '../../examples/ml-pipeline/mask-model.js';
import { MlMask } from '../../examples/ml-pipeline/ml-mask.js';

if (!customElements.get('ml-mask')) customElements.define('ml-mask', MlMask);

const WIDTH = 64;
const HEIGHT = 48;

/** Takes every frame `source` offers into `table` and hands its bytes (read through CPU access) and its info to `seen`. */
function readFrames(source: EventTarget, table: FdTable, seen: (frame: { origin: number; words: Uint32Array }) => void): () => void {
  const listener = (event: Event) => {
    if (!(event instanceof FrameEvent)) return;
    const lease = event.accept(table);
    const buf = table.get(lease.fd);
    void buf.read(Uint32Array).then((words) => { seen({ origin: lease.frame.origin, words }); }).finally(() => {
      buf.put();
      lease.release();
    });
  };
  source.addEventListener('dmabuf-frame', listener);
  return () => { source.removeEventListener('dmabuf-frame', listener); };
}

/** The largest difference between two packed RGBA frames, channel by channel. */
function largestChannelDifference(a: Uint32Array, b: Uint32Array): number {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let i = 0; i < a.length; i++) {
    for (let shift = 0; shift < 32; shift += 8) largest = Math.max(largest, Math.abs((((a[i] ?? 0) >>> shift) & 0xff) - (((b[i] ?? 0) >>> shift) & 0xff)));
  }
  return largest;
}

test('the ML module masks a camera frame as the same model on the CPU backend does (within one level per channel), the view draws its frames, and stopping leaves no buffer', async () => {
  const stage = document.body.appendChild(document.createElement('div'));
  stage.innerHTML = `
    <dmabuf-camera id="ml-test-cam" source="pattern" width="${WIDTH}" height="${HEIGHT}"></dmabuf-camera>
    <ml-mask id="ml-test-mask" source="ml-test-cam"></ml-mask>
    <dmabuf-view id="ml-test-view" source="ml-test-mask" label="masked"></dmabuf-view>`;
  const camera = stage.querySelector<DmabufCamera>('#ml-test-cam');
  const mask = stage.querySelector<MlMask>('#ml-test-mask');
  const view = stage.querySelector<DmabufModule>('#ml-test-view');
  if (!camera || !mask || !view) throw new Error('the pipeline did not render');
  const table = new FdTable();
  const inputs = new Map<number, Uint32Array>();
  let pair: { input: Uint32Array; output: Uint32Array } | undefined;
  const stopInputs = readFrames(camera, table, ({ origin, words }) => { inputs.set(origin, words); });
  const stopOutputs = readFrames(mask, table, ({ origin, words }) => {
    const input = inputs.get(origin);
    if (input && !pair) pair = { input, output: words };
  });
  try {
    await expect.poll(() => pair !== undefined && view.frames > 0, { timeout: 60_000, interval: 50 }).toBe(true);
  } finally {
    stopInputs();
    stopOutputs();
    camera.paused = true;
    stage.remove();
  }
  await Promise.all([camera.settled, mask.settled, view.settled]);
  expect(mask.status).toBe('idle');
  expect(mask.failure).toBeUndefined();
  await expect.poll(() => bufinfoEntries(), { timeout: 10_000, interval: 50 }).toEqual([]);
  if (!pair) throw new Error('no frame came out of the ML module');

  await tf.setBackend('cpu');
  const reference = maskOverFrame(tf.tensor2d(new Int32Array(pair.input.buffer, pair.input.byteOffset, WIDTH * HEIGHT), [HEIGHT, WIDTH], 'int32'));
  const expected = new Uint32Array((await reference.composite.data()).buffer);
  const masked = (await reference.mask.data()) as Float32Array;
  tf.dispose([reference.mask, reference.composite]);

  // Rounding at .5 may differ between the backends' float arithmetic: one level at most.
  expect(largestChannelDifference(pair.output, expected)).toBeLessThanOrEqual(1);
  // The model finds something in the pattern, and not everything: the mask is not constant.
  expect(masked.some((m) => m > 0.9)).toBe(true);
  expect(masked.some((m) => m < 0.1)).toBe(true);
  // Every output pixel is opaque, as the frame layout says.
  expect(pair.output.every((word) => word >>> 24 === 0xff)).toBe(true);
});
