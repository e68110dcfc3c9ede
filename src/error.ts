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
 * The one error type of the library. The message names the call and the offending value,
 * for example `kmap: page 7 is beyond the buffer's 3 pages`.
 */
export class DmaBufError extends Error {
  /** What went wrong, as an errno name. */
  readonly code: DmaBufErrorCode;

  constructor(code: DmaBufErrorCode, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.name = 'DmaBufError';
    this.code = code;
  }
}
