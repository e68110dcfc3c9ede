// A Worker for Node tests of spawnWorker, where there is none: its messages go over a
// MessageChannel whose other port is the child's global scope, and it records how it was made.
// Like a browser's Worker, its onmessage getter answers only for a worker itself: a Proxy or
// Object.create of one throws there.

/** The stand-in Workers made so far, and what the next constructor throws, if anything. */
export const standIns: { made: StandInWorker[]; refuse: Error | undefined } = { made: [], refuse: undefined };

/** A Worker over a MessageChannel: its other port, `child`, is the child's global scope. */
export class StandInWorker extends EventTarget {
  readonly url: string | URL;
  readonly options: WorkerOptions | undefined;
  readonly port: MessagePort;
  readonly child: MessagePort;
  terminated = false;
  readonly #made = true;

  constructor(url: string | URL, options?: WorkerOptions) {
    super();
    if (standIns.refuse) throw standIns.refuse;
    this.url = url;
    this.options = options;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.child = port2;
    standIns.made.push(this);
  }

  /** As a Worker's: throws a TypeError when read on anything but a worker itself. */
  get onmessage(): null {
    if (!(#made in this)) throw new TypeError('Illegal invocation');
    return null;
  }

  postMessage(message: unknown, transfer: Transferable[]): void {
    this.port.postMessage(message, transfer);
  }

  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions | boolean): void {
    if (type === 'message') {
      this.port.addEventListener(type, listener as (event: MessageEvent) => void);
      this.port.start();
    } else {
      super.addEventListener(type, listener, options);
    }
  }

  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    if (type === 'message') this.port.removeEventListener(type, listener as (event: MessageEvent) => void);
    else super.removeEventListener(type, listener);
  }

  terminate(): void {
    this.terminated = true;
    this.port.close();
  }
}

/** Ends every stand-in made and forgets them; the next constructor throws nothing. */
export function endStandIns(): void {
  for (const worker of standIns.made) worker.terminate();
  standIns.made = [];
  standIns.refuse = undefined;
}
