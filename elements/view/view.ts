import { DmabufView } from './view.component.js';

export { DmabufView };

customElements.define('dmabuf-view', DmabufView);

declare global {
  interface HTMLElementTagNameMap {
    'dmabuf-view': DmabufView;
  }
}
