import type { SgTable } from 'webgpu-dmabuf';
import { DmabufElementError } from '../element-error.js';

/**
 * The one `GPUBuffer` range that holds a mapped frame, for binding it whole in a shader.
 * Frames are far smaller than `maxStorageBufferBindingSize`, so a heap gives them one segment.
 * @throws {DmabufElementError} `EINVAL` when the table has more than one segment (a frame too big to bind).
 */
export function frameBinding(sgt: SgTable): GPUBufferBinding {
  const [segment, ...rest] = sgt.segments;
  if (!segment || rest.length > 0) {
    throw new DmabufElementError('EINVAL', 'frameBinding', `a frame must be one segment to bind whole, got ${sgt.segments.length}`);
  }
  return { buffer: segment.buffer, offset: segment.offset, size: Math.ceil(segment.length / 4) * 4 };
}
