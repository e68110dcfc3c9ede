/**
 * The Lit elements of webgpu-dmabuf: a camera, a filter and a view that pass video frames to
 * each other as dma-buf fds, each on its own `GPUDevice` or one shared; the inspector that
 * lists every buffer; and the card that shows the page's WebGPU adapter.
 *
 * Importing this module defines no custom element: register the classes under names of your
 * choosing with `customElements.define`, or import `'webgpu-dmabuf/elements/define'`, which
 * registers all of them under their `dmabuf-*` names. Needs `lit` (an optional peer
 * dependency of the package: the core `'webgpu-dmabuf'` does not).
 *
 * The frame protocol is exported too, for modules of your own: an exporter fires a
 * {@link FrameEvent} on itself for each frame, an importer accepts it into its own fd table
 * and gets a {@link FrameLease}. A {@link FrameExporter} is the exporting half the camera and
 * the filter share (fd table, heap, ring of frame buffers, teardown), for an exporter of your
 * own. The kernels the elements run (`FrameEffectKernel`, `FrameBlit`, `frameBinding`) and
 * their frame mailboxes (`FrameInbox`, `NewestMailbox`) are exported for modules of your own
 * too: the benchmark's naive baseline runs the very same ones.
 *
 * What fails in the elements is a {@link DmabufElementError} (a `code`, the `call` and the
 * `reason`); a module that fails fires a {@link ModuleErrorEvent} with the typed error.
 *
 * @module webgpu-dmabuf/elements
 */
export { DmabufAdapterInfo } from './adapter-info/adapter-info.component.js';
export { DmabufCamera } from './camera/camera.component.js';
export { DMABUF_ELEMENT_ERROR_CODES, DmabufElementError, isDmabufElementErrorCode, type DmabufElementErrorCode } from './element-error.js';
export { CameraPathEvent } from './camera/camera-path-event.js';
export { CAMERA_PATHS, isCameraPath, type CameraPath } from './camera/camera-path.js';
export type { CameraFeed } from './camera/camera-worker-wire.js';
export { DmabufFilter } from './filter/filter.component.js';
export { FrameEvent } from './frame/frame-event.js';
export { FrameExporter, type FrameExporterOptions, type FrameOrigin, type OfferedFrame } from './frame/frame-exporter.js';
export type { FrameInfo, FrameLease } from './frame/frame-info.js';
export { DmabufModule, type ModuleStatus } from './module/module-element.js';
export { ModuleErrorEvent } from './module/module-error-event.js';
export { ModuleStatsEvent } from './module/module-stats-event.js';
export type { ModuleStats } from './module/module-stats.js';
export { DmabufInspector, type InspectorTotals, type ModuleRow } from './inspector/inspector.component.js';
export type { RealmListing } from './worker/worker-realms.js';
export { FRAME_EFFECTS, FrameEffectKernel, isFrameEffect, type FrameEffect } from './kernels/frame-effect.js';
export { FrameBlit } from './kernels/frame-blit.js';
export { frameBinding } from './kernels/frame-buffer.js';
export { FrameInbox, type InboxFrame } from './frame/frame-inbox.js';
export { NewestMailbox, type NewestMailboxHooks } from './frame/newest-mailbox.js';
export { rgbaFrameLayout, type FrameLayout } from './kernels/frame-layout.js';
export type { ViewCapture } from './view/view-capture.js';
export { DmabufView } from './view/view.component.js';
