/**
 * webgpu-dmabuf: Linux's dma-buf buffer-sharing contract on WebGPU.
 *
 * The public API. `src/` holds the WebGPU-free contract, `gpu/` the WebGPU exporter;
 * apps, components and examples import from here (as `'webgpu-dmabuf'`) and nowhere else.
 */
export { MAX_ATOMIC_KMAPS } from './src/atomic-kmap-slots.js';
export type { DmaBufAttachment } from './src/attachment.js';
export { bufinfo, bufinfoEntries } from './src/bufinfo.js';
export type { BufInfoAttachment, BufInfoCpuAccess, BufInfoEntry, BufInfoFence } from './src/bufinfo-entry.js';
export { isDmaDirection, type DmaDirection } from './src/direction.js';
export { DMA_BUF_NAME_MAX, DmaBuf, exportDmaBuf, type DmaBufExportOptions, type SyncFileFlags } from './src/dma-buf.js';
export { DmaResv, type DmaResvUsage, type ResvTurn, type ResvUsage } from './src/dma-resv.js';
export { DmaFence, type DmaFenceCallback } from './src/dma-fence.js';
export { mergeFences } from './src/dma-fence-array.js';
export { DmaFenceTimeline } from './src/dma-fence-timeline.js';
export { DmaBufError, type DmaBufErrorCode } from './src/error.js';
export { FdTable, type FdOptions } from './src/fd-table.js';
export type { DmaBufOps } from './src/ops.js';
export { PAGE_SIZE } from './src/page.js';
export type { SgSegment, SgTable } from './src/sg-table.js';
export { GpuHeap, type GpuAllocateOptions, type GpuDmaBuf, type GpuHeapOptions, type GpuHeapStats, type GpuStorage } from './gpu/gpu-heap.js';
export { requestGpuDevice } from './gpu/request-device.js';
export { gpuFence } from './gpu/gpu-fence.js';
export { frameBinding } from './gpu/kernels/frame-buffer.js';
export { rgbaFrameLayout, type FrameLayout } from './gpu/kernels/frame-layout.js';
export { TextureToFrame, type TextureSourceKind } from './gpu/kernels/texture-to-frame.js';
export { PlanesToFrame, PLANE_FORMATS, type PlaneFormat, type PlaneLayoutLike } from './gpu/kernels/planes-to-frame.js';
export { FRAME_EFFECTS, FrameEffectKernel, isFrameEffect, type FrameEffect } from './gpu/kernels/frame-effect.js';
export { TestPatternKernel } from './gpu/kernels/test-pattern.js';
export { FrameBlit } from './gpu/kernels/frame-blit.js';
