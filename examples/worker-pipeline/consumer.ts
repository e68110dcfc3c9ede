// The consumer worker: started by spawnWorker, it begins with the page's fd in its own table,
// gets a device of its own, and on the page's request maps the buffer 'bidirectional' on
// that device (the page's bytes come over at map), inverts it in a shader, and unmaps (the
// result goes back to the page's buffer) before it answers.
import { inheritedFdTable, requestGpuDevice } from 'webgpu-dmabuf';
import { invertOnDevice } from './invert.js';
import { isInvertRequest, type ConsumerReply, type InvertRequest } from './messages.js';

interface Scope {
  postMessage(message: ConsumerReply): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}
const scope = globalThis as unknown as Scope;

// Listening before the first await: a request that comes while the device is being made waits for it.
const ready = Promise.all([requestGpuDevice({ label: 'consumer device' }), inheritedFdTable()]);
scope.addEventListener('message', (event) => {
  if (isInvertRequest(event.data)) void answer(event.data);
});

async function invert({ fd }: InvertRequest): Promise<ConsumerReply> {
  const [device, { table }] = await ready;
  const buf = table.get(fd);
  const attachment = buf.attach(device);
  try {
    const sgt = await attachment.map('bidirectional');
    try {
      await invertOnDevice(device, sgt);
    } finally {
      await attachment.unmap(sgt, 'bidirectional');
    }
    return { kind: 'inverted', segments: sgt.segments.length, device: device.label };
  } finally {
    buf.detach(attachment);
    buf.put();
    // The page's buffer is not held here any more: its last reference is the page's own.
    table.close(fd);
  }
}

async function answer(request: InvertRequest): Promise<void> {
  let reply: ConsumerReply;
  try {
    reply = await invert(request);
  } catch (error) {
    reply = { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
  scope.postMessage(reply);
}
