// A frame link between two realms (FrameSender -> FdSocket -> FrameReceiver), as the demo's
// worker mode runs it between the page and each module worker. Here both realms are stood for
// in one page (a RealmLiveness each, joined by a MessageChannel), so the test sees both ends.
import { afterEach, expect, test } from 'vitest';
import { bufinfoEntries, FdSocket, FdTable, type RealmLiveness } from 'webgpu-dmabuf';
import { FrameEvent } from '../../elements/frame/frame-event.js';
import type { FrameLease } from '../../elements/frame/frame-info.js';
import { FrameReceiver } from '../../elements/worker/frame-receiver.js';
import { FrameSender } from '../../elements/worker/frame-sender.js';
import { exporterSource, type ExporterSource } from './exporter-source.js';
import { expectNoBuffers, readFrame } from './frame-helpers.js';
import { testPicture } from './test-source.js';

const WIDTH = 32;
const HEIGHT = 16;

function realm(name: string): RealmLiveness {
  return { ready: () => Promise.resolve(`${name}-${crypto.randomUUID()}`), watch: () => () => undefined };
}

interface Link {
  readonly source: ExporterSource;
  readonly sender: FrameSender;
  readonly receiver: FrameReceiver;
  readonly sockets: readonly FdSocket[];
}

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
  expectNoBuffers();
});

async function link(): Promise<Link> {
  const source = await exporterSource('linked', WIDTH, HEIGHT);
  const { port1, port2 } = new MessageChannel();
  const near = new FdSocket(port1, { liveness: realm('near'), transport: 'message' });
  const far = new FdSocket(port2, { liveness: realm('far'), transport: 'message' });
  const sender = new FrameSender(port1, near);
  const receiver = new FrameReceiver(port2, far);
  sender.listen(source.target);
  cleanup = async () => {
    receiver.close();
    sender.close();
    await source.close();
    near.close();
    far.close();
    port1.close();
    port2.close();
  };
  return { source, sender, receiver, sockets: [near, far] };
}

/** The next frame the receiver dispatches, accepted into `table`. */
function nextLease(receiver: FrameReceiver, table: FdTable): Promise<FrameLease> {
  return new Promise((resolve) => {
    receiver.target.addEventListener(FrameEvent.type, (event) => { if (event instanceof FrameEvent) resolve(event.accept(table)); }, { once: true });
  });
}

test('a frame crosses a link as an fd: same info, same bytes, and the exporter\'s slot is free again once the far importer releases it', async () => {
  const { source, sender, receiver } = await link();
  const table = new FdTable();
  const picture = testPicture(WIDTH, HEIGHT);
  const offered: number[] = [];
  source.target.addEventListener(FrameEvent.type, (event) => { if (event instanceof FrameEvent) offered.push(event.frame.capturedAt); });
  const arriving = nextLease(receiver, table);
  expect(await source.publish(picture)).toBe(1);
  const lease = await arriving;
  expect(lease.frame).toMatchObject({ sequence: 1, exporter: 'linked', layout: source.layout });
  // One realm stands for both here: the same clock, so the same capture time (to float rounding through the shared clock).
  expect(lease.frame.capturedAt).toBeCloseTo(offered[0] ?? Number.NaN, 3);
  expect(await readFrame(table, lease.fd)).toEqual(picture);
  expect(sender.outstanding).toBe(1);
  lease.release();
  await expect.poll(() => sender.outstanding).toBe(0);
  expect(receiver.outstanding).toBe(0);
  // Back to the ring's own two references: nothing of the far realm holds it.
  await expect.poll(() => bufinfoEntries().find((e) => e.name === 'linked frame 0')?.refCount).toBe(2);
});

test('a frame nobody takes at the far end goes back at once', async () => {
  const { source, sender, receiver } = await link();
  await source.publish(testPicture(WIDTH, HEIGHT));
  await expect.poll(() => sender.outstanding).toBe(0);
  expect(receiver.outstanding).toBe(0);
  expect(bufinfoEntries().filter((e) => e.name.startsWith('linked frame')).map((e) => e.refCount)).toEqual([2, 2, 2]);
});

test('an exporter that stops has its frames revoked across the link, and gets them back when the far importer lets go', async () => {
  const { source, receiver } = await link();
  const table = new FdTable();
  const arriving = nextLease(receiver, table);
  await source.publish(testPicture(WIDTH, HEIGHT));
  const lease = await arriving;
  const revoked = new Promise<void>((resolve) => { lease.signal.addEventListener('abort', () => { resolve(); }); });
  lease.signal.addEventListener('abort', () => { lease.release(); });
  const closing = source.exporter.close();
  await revoked;
  await closing;
  expect(table.openFds()).toEqual([]);
});

test('closing the sender gives back every frame still out, as when the far realm is gone', async () => {
  const { source, sender, receiver } = await link();
  const table = new FdTable();
  const arriving = nextLease(receiver, table);
  await source.publish(testPicture(WIDTH, HEIGHT));
  const lease = await arriving;
  expect(sender.outstanding).toBe(1);
  sender.close();
  expect(sender.outstanding).toBe(0);
  expect(source.exporter.leases).toBe(0);
  // The far end still holds its reference until it lets go; then it comes back across.
  expect(bufinfoEntries().find((e) => e.name === 'linked frame 0')?.refCount).toBe(3);
  lease.release();
  expect(table.openFds()).toEqual([]);
  await expect.poll(() => bufinfoEntries().find((e) => e.name === 'linked frame 0')?.refCount).toBe(2);
});
