import { DmabufBench } from './bench.component.js';

export { DmabufBench };

customElements.define('dmabuf-bench', DmabufBench);

declare global {
  interface HTMLElementTagNameMap {
    'dmabuf-bench': DmabufBench;
  }
}
