/**
 * The payload bytes one end of a connection copies with the CPU (`FdSocket.cpuBytesCopied`):
 * every copy of a byte RPC's bytes that the realm layer makes, counted where it is made:
 * into a ring slot, out of one into an array, into an array transferred with a message,
 * between the exporter's pages and an array, into a proxy's pages, into a padded word at a
 * mirror's end. What the devices do with the bytes (`writeBuffer`, GPU copies, mapping) is
 * not counted: that is the WebGPU exporter's (`GpuHeap.stats().bytesCopied`).
 */

/** Adds `bytes` copied by the CPU to an end's count. */
export type CountCopy = (bytes: number) => void;

/** Counts nothing: for a part made without a counter (its tests). */
export const uncounted: CountCopy = () => undefined;
