/**
 * The page's side of the `map-cross-realm` worker: spawns it with the exported buffer's fd,
 * sets it up, and sends it one request per operation, resolving with its reply.
 */
import { FdTable, spawnWorker, type DmaBuf, type FdSocket } from 'webgpu-dmabuf';
import { isCrossRealmReply, type CrossRealmRequest } from './protocol.js';
// Vite's worker URL: bundled in the built site, served as it is by the dev server.
import workerUrl from './worker.ts?worker&url';

/** A request without its number, which the client gives. */
type Request = CrossRealmRequest extends infer R ? R extends CrossRealmRequest ? Omit<R, 'id'> : never : never;

/** The worker of one `map-cross-realm` size, set up and ready for operations. */
export class CrossRealmWorker {
  readonly #worker: Worker;
  readonly #socket: FdSocket;
  readonly #waiting = new Map<number, { resolve: (bytes: ArrayBuffer | undefined) => void; reject: (error: Error) => void }>();
  #next = 1;
  #failure: Error | undefined;

  private constructor(worker: Worker, socket: FdSocket) {
    this.#worker = worker;
    this.#socket = socket;
    worker.addEventListener('message', (event: MessageEvent) => {
      const reply = event.data as unknown;
      if (!isCrossRealmReply(reply)) return;
      const pending = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (reply.ok) pending?.resolve(reply.bytes);
      else pending?.reject(new Error(`map-cross-realm worker: ${reply.message}`));
    });
    worker.addEventListener('error', (event) => { this.#fail(new Error(`map-cross-realm worker failed: ${event.message}`)); });
  }

  /**
   * Starts the worker with `buf` at an inherited fd, its own device and plain buffers of
   * `size` bytes, and `shared` for the shared-memory baseline.
   * @throws {Error} when the worker fails to start or to set up.
   */
  static async start(buf: DmaBuf, size: number, shared: SharedArrayBuffer): Promise<CrossRealmWorker> {
    const table = new FdTable();
    const fd = table.install(buf, { cloexec: false });
    let spawned;
    try {
      spawned = spawnWorker(workerUrl, table, { name: 'bench map-cross-realm' });
    } finally {
      // The worker's fds were taken at the spawn, each with its own reference.
      table.closeAll();
    }
    const client = new CrossRealmWorker(spawned.worker, spawned.socket);
    try {
      await client.call({ op: 'setup', fd, size, shared });
    } catch (error) {
      client.terminate();
      throw error;
    }
    return client;
  }

  /** How the buffer's bytes travel between the page and the worker. */
  get transport(): FdSocket['transport'] {
    return this.#socket.transport;
  }

  /** Sends `request` (transferring `transfer`); resolves with the reply's bytes, if any, once the worker's work is complete. */
  call(request: Request, transfer: Transferable[] = []): Promise<ArrayBuffer | undefined> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  /** Frees the worker's device and buffers and lets go of its fd, then ends the worker and the socket. */
  async close(): Promise<void> {
    try {
      await this.call({ op: 'close' });
    } finally {
      this.terminate();
    }
  }

  /** Ends the worker (its death closes its fds) and the page's end of the socket. */
  terminate(): void {
    this.#worker.terminate();
    if (!this.#socket.closed) this.#socket.close();
    this.#fail(new Error('map-cross-realm worker: terminated'));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#waiting.values()) pending.reject(error);
    this.#waiting.clear();
  }
}
