import { DmaBufError, FdTable, type DmaBuf, type FdSocket, type MessageEndpoint } from 'webgpu-dmabuf';
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
 * It receives every fd the socket brings as soon as it comes, each one paired with the next
 * offer in order, so that a receive is always pending: the other realm's death is seen at
 * once (`onGone`), even while no frame comes.
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
  readonly #onGone: (() => void) | undefined;
  /** Fds received before their offer was taken. */
  readonly #fds: number[] = [];
  /** Offers waiting for their fd, in order; `undefined` when the socket ended. */
  readonly #waiting: ((fd: number | undefined) => void)[] = [];
  /** Offers taken in and not yet paired with their fd. */
  #expected = 0;
  #ended = false;
  #order: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Listens on `endpoint` for offers; `socket` is this realm's end on the same channel, and
   * every fd it brings is this receiver's. `onGone` is called once the socket finds the
   * other realm gone (`ENODEV`).
   */
  constructor(endpoint: MessageEndpoint, socket: FdSocket, target: EventTarget = new EventTarget(), onGone?: () => void) {
    this.#endpoint = endpoint;
    this.#socket = socket;
    this.target = target;
    this.#onGone = onGone;
    endpoint.addEventListener('message', this.#onMessage);
    this.#pump();
  }

  /** Receives the next fd, hands it to the offer waiting for it (or keeps it for the next), and again. */
  #pump(): void {
    this.#socket.receive(this.#table).then((fd) => {
      const waiting = this.#waiting.shift();
      if (waiting) waiting(fd);
      // No offer will take it (closed, all taken in were served): the sender gets its frame back when its link closes.
      else if (this.#closed && this.#fds.length >= this.#expected) this.#table.close(fd);
      else this.#fds.push(fd);
      this.#pump();
    }, (error: unknown) => {
      this.#ended = true;
      for (const waiting of this.#waiting.splice(0)) waiting(undefined);
      if (error instanceof DmaBufError && error.code === 'ENODEV') this.#onGone?.();
    });
  }

  /** The fd of the next offer, or `undefined` when the socket ended first. */
  #nextFd(): Promise<number | undefined> {
    this.#expected -= 1;
    const fd = this.#fds.shift();
    if (fd !== undefined) return Promise.resolve(fd);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => { this.#waiting.push(resolve); });
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
    // Fds beyond the offers taken in: their offers will not be taken now.
    for (const fd of this.#fds.splice(Math.max(this.#expected, 0))) this.#table.close(fd);
    for (const received of this.#frames.values()) received.revoke.abort(new DmabufElementError('ENOTRUNNING', 'FrameReceiver', 'the link is closing'));
  }

  readonly #onMessage = (event: MessageEvent) => {
    const message = frameLinkMessage(event.data);
    if (!message || message.dmabufFrame === 'done') return;
    const { id } = message;
    // In the order they came: an offer's fd is the next on the socket, and a revoke follows its offer.
    if (message.dmabufFrame === 'offer') {
      const frame = fromSharedClock(message.frame);
      this.#expected += 1;
      this.#order = this.#order.then(() => this.#take(id, frame));
    }
    else this.#order = this.#order.then(() => { this.#frames.get(id)?.revoke.abort(new DmabufElementError('ENOTRUNNING', 'FrameReceiver', 'the exporter is stopping')); });
  };

  async #take(id: number, frame: FrameInfo): Promise<void> {
    const fd = await this.#nextFd();
    // The socket is closed or the other realm gone: no frame will come.
    if (fd === undefined) return;
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
