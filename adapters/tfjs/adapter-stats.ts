/** What the TensorFlow.js adapter did on a backend: how many tensors it imported and exported, and what it copied. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** Counts of the adapter's work on one backend, since the backend was first used with it. */
export interface TfjsAdapterStats {
  /** Tensors made by `importTensor`. */
  readonly imported: number;
  /** Of those, tensors made from a copy (the dma-buf's one buffer did not start at offset 0). */
  readonly importCopies: number;
  /** Dma-bufs made by `exportTensor`. */
  readonly exported: number;
  /** Of those, dma-bufs holding a copy (TensorFlow.js's buffer lacked a flag of `GPU_HEAP_USAGE`). */
  readonly exportCopies: number;
  /** Bytes the adapter copied on the GPU for those copies; the heap's own copies are `heap.stats()`'s. */
  readonly bytesCopied: number;
}

type Counts = { -readonly [K in keyof TfjsAdapterStats]: number };

const counts = new WeakMap<WebGPUBackend, Counts>();

/** The counts of `backend`, changed in place by the adapter. */
export function countsOf(backend: WebGPUBackend): Counts {
  let mine = counts.get(backend);
  if (!mine) {
    mine = { imported: 0, importCopies: 0, exported: 0, exportCopies: 0, bytesCopied: 0 };
    counts.set(backend, mine);
  }
  return mine;
}

/** The adapter's counts on `backend`, as a new object (all zero before its first use there). */
export function tfjsAdapterStats(backend: WebGPUBackend): TfjsAdapterStats {
  return { ...countsOf(backend) };
}
