import { DmabufAdapterInfo } from './adapter-info.component.js';

export { DmabufAdapterInfo };

customElements.define('dmabuf-adapter-info', DmabufAdapterInfo);

declare global {
  interface HTMLElementTagNameMap {
    'dmabuf-adapter-info': DmabufAdapterInfo;
  }
}
