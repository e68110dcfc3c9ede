// The importer's inbox between two devices: the next frame's bytes move while the importer
// still works on the one before, a frame that comes while one waits is dropped (not the one
// already on its way), and stopping or failing ends every import and gives every lease back.
import { afterEach, expect, test } from 'vitest';
import { FdTable } from 'webgpu-dmabuf';
import { FrameInbox, type InboxFrame } from '../../elements/frame/frame-inbox.js';
import { expectNoLeaks, newDevice, readTable } from '../gpu/gpu-helpers.js';
import { expectNoBuffers } from './frame-helpers.js';
import { testPicture, testSource, type TestSource } from './test-source.js';

const WIDTH = 64;
const HEIGHT = 64;

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  expectNoBuffers();
});

/** A promise the test resolves itself, to hold the importer's work on a frame. */
function gate(): { readonly opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

interface Importer {
  readonly source: TestSource;
  readonly inbox: FrameInbox;
  /** Frame sequences in the order `process` was called with them. */
  readonly started: number[];
  /** Each processed frame's bytes, as the importer's device read them through its mapping. */
  readonly bytes: Map<number, Uint8Array>;
  /** The gate `process` waits at, per frame sequence, before it uses the frame's import. */
  readonly gates: Map<number, ReturnType<typeof gate>>;
  dropped: number;
  errors: unknown[];
}

/** A source on one device and an inbox on another whose `process` holds each frame at its gate, then reads it through its import. */
async function importer(fail?: (frame: InboxFrame) => boolean): Promise<Importer> {
  const source = await testSource('src', WIDTH, HEIGHT);
  const device = await newDevice('inbox importer');
  const table = new FdTable();
  const state = { started: [] as number[], bytes: new Map<number, Uint8Array>(), gates: new Map<number, ReturnType<typeof gate>>(), dropped: 0, errors: [] as unknown[] };
  const process = async (frame: InboxFrame) => {
    const { sequence } = frame.lease.frame;
    state.started.push(sequence);
    const held = gate();
    state.gates.set(sequence, held);
    await held.opened;
    if (fail?.(frame)) throw new Error(`process failed on frame ${sequence}`);
    state.bytes.set(sequence, await frame.import.use((sgt) => readTable(device, sgt)));
    return false;
  };
  const inbox = new FrameInbox(table, device, process, () => { state.dropped += 1; }, (error) => { state.errors.push(error); });
  inbox.listen(source.element);
  cleanup = async () => {
    for (const held of state.gates.values()) held.open();
    await inbox.stop();
    expect(table.openFds()).toEqual([]);
    await source.close();
    expectNoLeaks(source.heap);
    device.destroy();
  };
  return Object.assign(state, { source, inbox });
}

/** Frame `n`'s picture: the test picture with its first byte set to `n`, so frames differ. */
function picture(n: number): Uint8Array {
  const rgba = testPicture(WIDTH, HEIGHT);
  rgba[0] = n;
  return rgba;
}

test("the next frame's bytes move to the importer's device while it still works on the frame before", async () => {
  const it = await importer();
  const frameBytes = it.source.layout.byteLength;
  expect(await it.source.publish(picture(1))).toBe(1);
  await expect.poll(() => it.started).toEqual([1]);
  // Frame 1's import began when it came: its bytes crossed while process waits at the gate.
  await expect.poll(() => it.source.heap.stats().bytesCopied).toBe(frameBytes);

  expect(await it.source.publish(picture(2))).toBe(1);
  // Frame 2 crosses too, with the importer still held at frame 1's gate.
  await expect.poll(() => it.source.heap.stats().bytesCopied).toBe(2 * frameBytes);
  expect(it.started).toEqual([1]);

  it.gates.get(1)?.open();
  await expect.poll(() => it.started).toEqual([1, 2]);
  it.gates.get(2)?.open();
  await expect.poll(() => it.bytes.size).toBe(2);
  expect(it.bytes.get(1)).toEqual(picture(1));
  expect(it.bytes.get(2)).toEqual(picture(2));
  // Nothing moved twice: each frame crossed once, at its prefetch.
  expect(it.source.heap.stats().bytesCopied).toBe(2 * frameBytes);
  expect(it.dropped).toBe(0);
});

test('a frame that comes while another waits is dropped at once, and the waiting one is processed next', async () => {
  const it = await importer();
  await it.source.publish(picture(1));
  await expect.poll(() => it.started).toEqual([1]);
  await it.source.publish(picture(2));
  // Frames 3 and 4 are taken and given back within their dispatch (no holder left), and
  // the ring's three slots suffice only because each dropped lease is back before the next.
  expect(await it.source.publish(picture(3))).toBe(0);
  expect(await it.source.publish(picture(4))).toBe(0);
  expect(it.dropped).toBe(2);

  it.gates.get(1)?.open();
  await expect.poll(() => it.started).toEqual([1, 2]);
  it.gates.get(2)?.open();
  await expect.poll(() => it.bytes.size).toBe(2);
  expect(it.bytes.get(2)).toEqual(picture(2));
  expect(it.started).toEqual([1, 2]);
});

test('stop gives up the waiting frame: its import is ended and every lease is given back', async () => {
  const it = await importer();
  await it.source.publish(picture(1));
  await expect.poll(() => it.started).toEqual([1]);
  await it.source.publish(picture(2));
  const stopped = it.inbox.stop();
  it.gates.get(1)?.open();
  await stopped;
  expect(it.started).toEqual([1]);
  expect(it.bytes.get(1)).toEqual(picture(1));
  // Every slot is free again: the ring takes three frames in a row, none of them taken.
  for (const n of [3, 4, 5]) expect(await it.source.publish(picture(n))).toBe(0);
  expect(it.source.heap.stats().mirrorBytes).toBe(0);
});

test('a failing importer stops taking frames and gives up the one waiting, ending its import', async () => {
  const it = await importer((frame) => frame.lease.frame.sequence === 1);
  await it.source.publish(picture(1));
  await expect.poll(() => it.started).toEqual([1]);
  await it.source.publish(picture(2));
  it.gates.get(1)?.open();
  await expect.poll(() => it.errors.length).toBe(1);
  expect(String(it.errors[0])).toMatch(/process failed on frame 1/);
  expect(it.started).toEqual([1]);
  for (const n of [3, 4, 5]) expect(await it.source.publish(picture(n))).toBe(0);
  expect(it.source.heap.stats().mirrorBytes).toBe(0);
});
