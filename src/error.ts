/**
 * Errors of the dma-buf contract. Where the kernel returns a negative errno or says
 * "undefined", this library throws a {@link DmaBufError} whose `code` callers can branch on.
 */

/**
 * The errno-style codes a {@link DmaBufError} carries:
 * - `EINVAL`: a bad argument, or use of a released buffer;
 * - `EBADF`: an fd that is not open in that table;
 * - `EBUSY`: a resource in use (a third atomic kmap, detach with a mapping outstanding);
 * - `ERANGE`: kmap of a page that no active CPU-access range covers;
 * - `ENOMEM`: allocation failed;
 * - `ENODEV`: the device is gone (or there is no WebGPU);
 * - `EIO`: an exporter op failed unexpectedly.
 */
export type DmaBufErrorCode = 'EINVAL' | 'EBADF' | 'EBUSY' | 'ERANGE' | 'ENOMEM' | 'ENODEV' | 'EIO';

/**
 * The one error type of the library. `call` names the call that failed and `reason` says what
 * was wrong, so callers branch on fields and never parse the message; the message is built from
 * them, for example `ERANGE: kmap: page 7 is beyond the buffer's 3 pages`.
 */
export class DmaBufError extends Error {
  /** What went wrong, as an errno name. */
  readonly code: DmaBufErrorCode;
  /**
   * The call that failed, as the API names it (`'attach'`, `'kmap'`, `'new GpuHeap'`), or the
   * step of the contract that failed under it: `'signal'` for the error a fence signalled with,
   * `'wait'` for an operation whose buffer was released while it waited for fences.
   */
  readonly call: string;
  /** What was wrong, naming the offending value: the message without its code and call. */
  readonly reason: string;

  constructor(code: DmaBufErrorCode, call: string, reason: string, options?: ErrorOptions) {
    super(`${code}: ${call}: ${reason}`, options);
    this.name = 'DmaBufError';
    this.code = code;
    this.call = call;
    this.reason = reason;
  }
}
