import { FdTable, type DmaBuf, type FdSocket, type MessageEndpoint } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';
import { FrameEvent } from '../frame/frame-event.js';
import type { FrameInfo, FrameLease } from '../frame/frame-info.js';
import { lendFrame } from '../frame/lend-frame.js';
import { fromSharedClock, frameLinkMessage } from './frame-link.js';

interface Received {
  readonly fd: number;
  /** This end's own reference, to know a lease's fd still names the frame's buffer. */
  readonly buf: DmaBuf;
  readonly revoke: AbortController;
  holders: number;
  dispatched: boolean;
}

/**
 * The importing end of a frame link from another realm: for each `offer` of a
 * {@link FrameSender} it receives the fd that follows on the `FdSocket` and dispatches a
 * `FrameEvent` of this realm on {@link target}, so that importers here (a `FilterModule`, a
 * `ViewRenderer`, another sender) take it as from a local exporter. Once every lease taken
 * is released (at once when nobody took it) it closes the fd, which gives the buffer's
 * reference back across, and then says `done`, so the sender's lease goes after the
 * reference. A `revoke` aborts the leases' signal.
 *
 * Realm: any realm, the page or a worker (it needs no DOM and no device).
 */
export class FrameReceiver {
  /** Where it dispatches the frames it receives. */
  readonly target: EventTarget;
  readonly #table = new FdTable();
  readonly #endpoint: MessageEndpoint;
  readonly #socket: FdSocket;
  readonly #frames = new Map<number, Received>();
  #order: Promise<void> = Promise.resolve();
  #closed = false;

  /** Listens on `endpoint` for offers; `socket` is this realm's end on the same channel. */
  constructor(endpoint: MessageEndpoint, socket: FdSocket, target: EventTarget = new EventTarget()) {
    this.#endpoint = endpoint;
    this.#socket = socket;
    this.target = target;
    endpoint.addEventListener('message', this.#onMessage);
  }

  /** Frames received and not yet given back. */
  get outstanding(): number {
    return this.#frames.size;
  }

  /**
   * Takes no more offers and asks importers for every frame back; each is given back to the
   * sender once released (a frame whose fd is still on its way, as soon as it comes).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endpoint.removeEventListener('message', this.#onMessage);
    for (const received of this.#frames.values()) received.revoke.abort(new DmabufElementError('ENOTRUNNING', 'FrameReceiver', 'the link is closing'));
  }

  readonly #onMessage = (event: MessageEvent) => {
    const message = frameLinkMessage(event.data);
    if (!message || message.dmabufFrame === 'done') return;
    const { id } = message;
    // In the order they came: an offer's fd is the next on the socket, and a revoke follows its offer.
    if (message.dmabufFrame === 'offer') {
      const frame = fromSharedClock(message.frame);
      this.#order = this.#order.then(() => this.#take(id, frame));
    }
    else this.#order = this.#order.then(() => { this.#frames.get(id)?.revoke.abort(new DmabufElementError('ENOTRUNNING', 'FrameReceiver', 'the exporter is stopping')); });
  };

  async #take(id: number, frame: FrameInfo): Promise<void> {
    let fd: number;
    try {
      fd = await this.#socket.receive(this.#table);
    } catch {
      // The socket is closed or the other realm gone: no frame will come.
      return;
    }
    const received: Received = { fd, buf: this.#table.get(fd), revoke: new AbortController(), holders: 0, dispatched: false };
    this.#frames.set(id, received);
    if (this.#closed) received.revoke.abort(new DmabufElementError('ENOTRUNNING', 'FrameReceiver', 'the link is closing'));
    else {
      const event = new FrameEvent(frame, (table) => this.#lease(id, received, frame, table));
      try {
        this.target.dispatchEvent(event);
      } finally {
        event.close();
      }
    }
    received.dispatched = true;
    this.#maybeDone(id, received);
  }

  #lease(id: number, received: Received, frame: FrameInfo, table: FdTable): FrameLease {
    const lease = lendFrame(this.#table, received.fd, received.buf, table, frame, received.revoke.signal, () => {
      received.holders -= 1;
      this.#maybeDone(id, received);
    });
    received.holders += 1;
    return lease;
  }

  #maybeDone(id: number, received: Received): void {
    if (!received.dispatched || received.holders > 0 || !this.#frames.has(id)) return;
    this.#frames.delete(id);
    // Last reference here first: its drop travels ahead of `done` on the same channel.
    received.buf.put();
    this.#table.close(received.fd);
    this.#endpoint.postMessage({ dmabufFrame: 'done', id }, []);
  }
}
