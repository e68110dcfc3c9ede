/**
 * Errors of the elements and their modules. The contract's own failures (a bad fd, a device
 * lost under a map) stay `DmaBufError`s of the core; what fails in an element, its frame
 * protocol or its module workers is a {@link DmabufElementError} whose `code` callers can
 * branch on.
 */

/**
 * The codes a {@link DmabufElementError} carries:
 * - `EINVAL`: a bad argument (a frame size that is not a positive integer, a frame buffer in
 *   several segments where one is needed) or a call out of its order (a ring slot written
 *   that was not taken);
 * - `ENOSOURCE`: an importer's `source` names no element in its document or shadow root;
 * - `ENOCONTEXT`: a canvas gives no WebGPU context;
 * - `ENOTRUNNING`: the module, exporter, renderer or worker asked is not running (stopped,
 *   stopping or not started);
 * - `ENOFRAME`: nothing to read back: no frame is on screen;
 * - `EEXPIRED`: a frame is no longer on offer (accepted after its dispatch), or its import was
 *   used or cancelled already;
 * - `EBUSY`: a frame ring is freed while leases on it are still out;
 * - `ECAPTURE`: the camera gives no frame the module can take (no video track, no capture
 *   path that works, a `VideoFrame` format no kernel reads);
 * - `EGPU`: WebGPU reported an uncaptured error on the module's device;
 * - `ENOWORKER`: the module cannot run in a worker (no worker entry, or the worker entry hosts
 *   no module of that role);
 * - `EWORKER`: a module's worker failed to load, died or is gone, or its module failed there
 *   (then its `cause` is the worker's own typed error, rebuilt in the page);
 * - `EPROTO`: a module worker answered with a message that does not parse;
 * - `EINTERNAL`: an error of no typed class (an exception of the platform, or a bug) stopped
 *   a module; its `cause` is that error.
 */
export type DmabufElementErrorCode =
  | 'EINVAL'
  | 'ENOSOURCE'
  | 'ENOCONTEXT'
  | 'ENOTRUNNING'
  | 'ENOFRAME'
  | 'EEXPIRED'
  | 'EBUSY'
  | 'ECAPTURE'
  | 'EGPU'
  | 'ENOWORKER'
  | 'EWORKER'
  | 'EPROTO'
  | 'EINTERNAL';

/** Every {@link DmabufElementErrorCode}, for parsers that must refuse any other. */
export const DMABUF_ELEMENT_ERROR_CODES: readonly DmabufElementErrorCode[] = [
  'EINVAL', 'ENOSOURCE', 'ENOCONTEXT', 'ENOTRUNNING', 'ENOFRAME', 'EEXPIRED', 'EBUSY', 'ECAPTURE', 'EGPU', 'ENOWORKER', 'EWORKER', 'EPROTO', 'EINTERNAL',
];

/** Whether `value` is a {@link DmabufElementErrorCode}. */
export function isDmabufElementErrorCode(value: unknown): value is DmabufElementErrorCode {
  return typeof value === 'string' && (DMABUF_ELEMENT_ERROR_CODES as readonly string[]).includes(value);
}

/**
 * The error type of the elements, as `DmaBufError` is the core's: `call` names what failed
 * (`'<dmabuf-view>.capture'`, `'FrameEvent.accept'`, `'worker filter'`) and `reason` says
 * what was wrong, so callers branch on fields and never parse the message; the message is
 * built from them, for example `ENOSOURCE: <dmabuf-view>: source="cam" names no element in
 * its document or shadow root`.
 */
export class DmabufElementError extends Error {
  /** What went wrong. */
  readonly code: DmabufElementErrorCode;
  /** The call, element or worker that failed, as the API names it. */
  readonly call: string;
  /** What was wrong, naming the offending value: the message without its code and call. */
  readonly reason: string;

  constructor(code: DmabufElementErrorCode, call: string, reason: string, options?: ErrorOptions) {
    super(`${code}: ${call}: ${reason}`, options);
    this.name = 'DmabufElementError';
    this.code = code;
    this.call = call;
    this.reason = reason;
  }
}
