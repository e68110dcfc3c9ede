import { DmaBufError, FdTable, type FdSocket, type MessageEndpoint } from 'webgpu-dmabuf';
import { FrameEvent } from '../frame/frame-event.js';
import type { FrameLease } from '../frame/frame-info.js';
import { frameLinkMessage, toSharedClock, type FrameLinkMessage } from './frame-link.js';

/**
 * The exporting end of a frame link to another realm: it takes every `FrameEvent` of its
 * source like any importer (into a table of its own), sends the fd over an `FdSocket` with the
 * frame's info as an `offer`, and keeps the lease until the other realm says `done`. When the
 * exporter wants its frames back (the lease's signal aborts) it passes that on as `revoke`.
 * The importer at the other end (a {@link FrameReceiver}) decides what to keep and drop.
 *
 * Realm: any realm, the page or a worker (it needs no DOM and no device).
 */
export class FrameSender {
  readonly #table = new FdTable();
  readonly #endpoint: MessageEndpoint;
  readonly #socket: FdSocket;
  readonly #leases = new Map<number, FrameLease>();
  #source: EventTarget | undefined;
  #nextId = 1;
  #gone = false;

  readonly #onGone: (() => void) | undefined;

  /**
   * Listens on `endpoint` for the other end's `done`; `socket` is this realm's end on the
   * same channel. `onGone` is called once a send finds the other realm gone (every frame
   * it held is given back then).
   */
  constructor(endpoint: MessageEndpoint, socket: FdSocket, onGone?: () => void) {
    this.#endpoint = endpoint;
    this.#socket = socket;
    this.#onGone = onGone;
    endpoint.addEventListener('message', this.#onMessage);
  }

  /** Frames sent and not yet given back. */
  get outstanding(): number {
    return this.#leases.size;
  }

  /** Starts taking `source`'s frames. */
  listen(source: EventTarget): void {
    this.#source = source;
    source.addEventListener(FrameEvent.type, this.#onFrame);
  }

  /** Takes no more frames; what was sent stays out until `done` or {@link close}. */
  stop(): void {
    this.#source?.removeEventListener(FrameEvent.type, this.#onFrame);
    this.#source = undefined;
  }

  /**
   * Stops and gives back every frame still out, as if the other end had said `done`: call it
   * once the other realm has stopped (its `done`s came first) or is gone.
   */
  close(): void {
    this.stop();
    this.#endpoint.removeEventListener('message', this.#onMessage);
    for (const id of [...this.#leases.keys()]) this.#release(id);
    this.#table.closeAll();
  }

  readonly #onFrame = (event: Event) => {
    if (!(event instanceof FrameEvent)) return;
    const lease = event.accept(this.#table);
    const id = this.#nextId++;
    this.#leases.set(id, lease);
    this.#post({ dmabufFrame: 'offer', id, frame: toSharedClock(lease.frame) });
    this.#socket.send(this.#table, lease.fd).catch((error: unknown) => { this.#notSent(id, error); });
    const revoke = () => { if (this.#leases.has(id)) this.#post({ dmabufFrame: 'revoke', id }); };
    if (lease.signal.aborted) revoke();
    else lease.signal.addEventListener('abort', revoke, { once: true });
  };

  readonly #onMessage = (event: MessageEvent) => {
    const message = frameLinkMessage(event.data);
    if (message?.dmabufFrame === 'done') this.#release(message.id);
  };

  /** A send failed: nobody will say done for it, nor, when the realm is gone, for any other. */
  #notSent(id: number, error: unknown): void {
    this.#release(id);
    if (!(error instanceof DmaBufError && error.code === 'ENODEV') || this.#gone) return;
    this.#gone = true;
    this.close();
    this.#onGone?.();
  }

  #release(id: number): void {
    const lease = this.#leases.get(id);
    this.#leases.delete(id);
    lease?.release();
  }

  #post(message: FrameLinkMessage): void {
    this.#endpoint.postMessage(message, []);
  }
}
