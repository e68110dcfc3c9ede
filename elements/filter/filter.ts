import { DmabufFilter } from './filter.component.js';

export { DmabufFilter };

customElements.define('dmabuf-filter', DmabufFilter);

declare global {
  interface HTMLElementTagNameMap {
    'dmabuf-filter': DmabufFilter;
  }
}
