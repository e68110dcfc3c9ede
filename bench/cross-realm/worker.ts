// The worker of `map-cross-realm`: started by spawnWorker with the page's exported buffer at
// an inherited fd, it maps that buffer on a device of its own (ours), or moves the same bytes
// by hand between its own plain buffer and the page (the baselines). Every reply is sent once
// the work is complete on its device.
import { inheritedFdTable, requestGpuDevice, type DmaBufAttachment, type DmaBuf } from 'webgpu-dmabuf';
import { copyAndMap, readStaging } from '../scenarios/exported-buffer.js';
import { isCrossRealmRequest, type CrossRealmReply, type CrossRealmRequest } from './protocol.js';

interface Scope {
  postMessage(message: CrossRealmReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}
const scope = globalThis as unknown as Scope;

interface State {
  readonly device: GPUDevice;
  readonly buf: DmaBuf;
  readonly attachment: DmaBufAttachment;
  /** The worker's own buffer, where the hand-written transfers land and start. */
  readonly own: GPUBuffer;
  readonly staging: GPUBuffer;
  readonly shared: Uint8Array<SharedArrayBuffer>;
  readonly size: number;
}

// Taken before the first await: the socket must listen before the page's fds come.
const inherited = inheritedFdTable();
const deviceMade = requestGpuDevice({ label: 'bench worker' });
let state: State | undefined;

function current(): State {
  if (!state) throw new Error('map-cross-realm worker: not set up');
  return state;
}

async function setUp(fd: number, size: number, shared: SharedArrayBuffer): Promise<void> {
  const [device, { table }] = await Promise.all([deviceMade, inherited]);
  const buf = table.get(fd);
  // The table's reference is not needed beside get's own: the fd closes now.
  table.close(fd);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  state = {
    device,
    buf,
    attachment: buf.attach(device),
    own: device.createBuffer({ size, usage, label: 'bench raw in worker' }),
    staging: readStaging(device, size, 'bench worker staging'),
    shared: new Uint8Array(shared),
    size,
  };
}

async function serve(request: CrossRealmRequest): Promise<{ bytes?: ArrayBuffer }> {
  if (request.op === 'setup') {
    await setUp(request.fd, request.size, request.shared);
    return {};
  }
  const { device, buf, attachment, own, staging, shared, size } = current();
  switch (request.op) {
    case 'map': {
      const sgt = await attachment.map(request.dir);
      await attachment.unmap(sgt, request.dir);
      await device.queue.onSubmittedWorkDone();
      return {};
    }
    case 'write-message':
      device.queue.writeBuffer(own, 0, request.bytes);
      await device.queue.onSubmittedWorkDone();
      return {};
    case 'write-shared':
      device.queue.writeBuffer(own, 0, shared);
      await device.queue.onSubmittedWorkDone();
      return {};
    case 'read-message': {
      const bytes = (await copyAndMap(device, own, 0, staging, size)).slice(0);
      staging.unmap();
      return { bytes };
    }
    case 'read-shared':
      shared.set(new Uint8Array(await copyAndMap(device, own, 0, staging, size)));
      staging.unmap();
      return {};
    case 'close':
      buf.detach(attachment);
      buf.put();
      own.destroy();
      staging.destroy();
      device.destroy();
      state = undefined;
      return {};
  }
}

// Requests are served one at a time, in order, as the page sends them.
let queue = Promise.resolve();
scope.addEventListener('message', (event) => {
  const request = event.data as unknown;
  if (!isCrossRealmRequest(request)) return;
  queue = queue.then(async () => {
    try {
      const { bytes } = await serve(request);
      if (bytes) scope.postMessage({ id: request.id, ok: true, bytes }, [bytes]);
      else scope.postMessage({ id: request.id, ok: true });
    } catch (error) {
      scope.postMessage({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  });
});
