import { DmabufInspector } from './inspector.component.js';

export { DmabufInspector };

customElements.define('dmabuf-inspector', DmabufInspector);

declare global {
  interface HTMLElementTagNameMap {
    'dmabuf-inspector': DmabufInspector;
  }
}
