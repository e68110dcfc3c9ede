/** What the ONNX Runtime adapter did in this realm: how many tensors it imported and exported, and what it copied. */

/** Counts of the adapter's work, since the entry was loaded. */
export interface OnnxruntimeAdapterStats {
  /** Tensors made by `importTensor`. */
  readonly imported: number;
  /** Of those, tensors made from a copy (the dma-buf's one buffer did not start at offset 0). */
  readonly importCopies: number;
  /** Dma-bufs made by `exportTensor`. */
  readonly exported: number;
  /** Of those, dma-bufs holding a copy (ONNX Runtime's buffer was larger than the tensor, or lacked a flag of `GPU_HEAP_USAGE`). */
  readonly exportCopies: number;
  /** Bytes the adapter copied on the GPU for those copies; the heap's own copies are `heap.stats()`'s. */
  readonly bytesCopied: number;
}

type Counts = { -readonly [K in keyof OnnxruntimeAdapterStats]: number };

/** The counts, changed in place by the adapter. */
export const counts: Counts = { imported: 0, importCopies: 0, exported: 0, exportCopies: 0, bytesCopied: 0 };

/** The adapter's counts, as a new object. */
export function onnxruntimeAdapterStats(): OnnxruntimeAdapterStats {
  return { ...counts };
}
