/**
 * One contiguous piece of a mapped buffer, valid on the attachment's device: `length` bytes
 * of `buffer` starting at `offset`. The kernel's `struct scatterlist` entry.
 */
export interface SgSegment {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly length: number;
}

/**
 * What a map returns: the buffer's bytes as segments in order, valid on the attachment's
 * device; the lengths add up to the buffer's size. The kernel's `struct sg_table`.
 * Owned by the exporter: the importer uses it until it unmaps it, and never destroys its
 * `GPUBuffer`s.
 */
export interface SgTable {
  readonly segments: readonly SgSegment[];
}
