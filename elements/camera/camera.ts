import { DmabufCamera } from './camera.component.js';

export { DmabufCamera };

customElements.define('dmabuf-camera', DmabufCamera);

declare global {
  interface HTMLElementTagNameMap {
    'dmabuf-camera': DmabufCamera;
  }
}
