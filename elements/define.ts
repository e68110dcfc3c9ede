/**
 * Registers every element of `'webgpu-dmabuf/elements'` under its `dmabuf-*` name:
 * `<dmabuf-camera>`, `<dmabuf-filter>`, `<dmabuf-view>`, `<dmabuf-inspector>` and
 * `<dmabuf-adapter-info>`. Import it once, for its effect; it also re-exports the classes.
 *
 * @module webgpu-dmabuf/elements/define
 */
import './adapter-info/adapter-info.js';
import './camera/camera.js';
import './filter/filter.js';
import './inspector/inspector.js';
import './view/view.js';

export * from './elements.js';
