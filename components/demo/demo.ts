import '../camera/camera.js';
import '../filter/filter.js';
import '../inspector/inspector.js';
import '../view/view.js';
import { DmabufDemo } from './demo.component.js';

export { DmabufDemo };

customElements.define('dmabuf-demo', DmabufDemo);

declare global {
  interface HTMLElementTagNameMap {
    'dmabuf-demo': DmabufDemo;
  }
}
