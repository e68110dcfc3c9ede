import 'webgpu-dmabuf/elements/define';
import { DmabufDemo } from './demo.component.js';

export { DmabufDemo };

customElements.define('dmabuf-demo', DmabufDemo);

declare global {
  interface HTMLElementTagNameMap {
    'dmabuf-demo': DmabufDemo;
  }
}
