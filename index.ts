/**
 * webgpu-dmabuf: Linux's dma-buf buffer-sharing contract on WebGPU.
 *
 * The public API: the contract (`src/`, WebGPU-free), the WebGPU exporter `GpuHeap` and the
 * device helpers (`gpu/`). The elements, the applications and the examples import it as
 * `'webgpu-dmabuf'` and nothing else of the library. The Lit elements and the frame kernels
 * they run are another entry, `'webgpu-dmabuf/elements'` (elements/elements.ts), so the core
 * needs no Lit.
 *
 * @module webgpu-dmabuf
 */
export { MAX_ATOMIC_KMAPS } from './src/atomic-kmap-slots.js';
export type { DmaBufAttachment, DmaBufAttachmentStats, DmaBufAttachOptions, DmaBufUnmapOptions } from './src/attachment.js';
export { bufinfo, bufinfoEntries } from './src/bufinfo.js';
export type { BufInfoAttachment, BufInfoCpuAccess, BufInfoEntry, BufInfoFence, BufInfoSource } from './src/bufinfo-entry.js';
export { isDmaDirection, type DmaDirection } from './src/direction.js';
export { DMA_BUF_NAME_MAX, DmaBuf, exportDmaBuf, type DmaBufExportOptions, type SyncFileFlags } from './src/dma-buf.js';
export type { DmaBufTypedArray, DmaBufTypedArrayType } from './src/typed-array.js';
export type { SegmentLayout } from './src/segment-layout.js';
export { DmaResv, type DmaResvUsage, type ResvTurn, type ResvUsage } from './src/dma-resv.js';
export { DmaFence, type DmaFenceCallback } from './src/dma-fence.js';
export { mergeFences } from './src/dma-fence-array.js';
export { DmaFenceTimeline } from './src/dma-fence-timeline.js';
export { DmaBufError, type DmaBufErrorCode } from './src/error.js';
export { FdTable, type FdOptions } from './src/fd-table.js';
// eslint-disable-next-line @typescript-eslint/no-deprecated -- FdSocketEndpoint stays public, as a deprecated name of MessageEndpoint.
export type { FdReceiveOptions, FdSocketEndpoint, FdSocketOptions, FdSocketTransport, MessageEndpoint } from './remote/fd-socket.js';
export type { RealmLiveness } from './remote/liveness.js';
export type { RemoteBytes, RemoteDeviceAccess, RemoteDeviceOps, RemoteWrite } from './remote/device-access.js';
export type { InheritedFdTable, SpawnedWorker, SpawnWorkerOptions, WorkerSource } from './remote/spawn-worker.js';
export type { DmaBufOps } from './src/ops.js';
export { PAGE_SIZE } from './src/page.js';
export type { SgList, SgSegment, SgTable } from './src/sg-table.js';
export { GPU_HEAP_USAGE, GpuHeap, type GpuAllocateOptions, type GpuDmaBuf, type GpuHeapOptions, type GpuHeapStats, type GpuStorage, type GpuWrapOptions } from './gpu/gpu-heap.js';
export type { Segment as GpuSegment } from './gpu/segments.js';
export { requestGpuDevice, type GpuDeviceRequest } from './gpu/request-device.js';
export { gpuFence } from './gpu/gpu-fence.js';
export { setUploadMeasurement, UPLOAD_CLASS_BYTES, uploadMeasurementDone, uploadPaths, type UploadMeasurement, type UploadPath, type UploadPathReport, type UploadPathSource } from './gpu/upload-path.js';
export { FdSocket, inheritedFdTable, spawnWorker } from './gpu/workers.js';
