/**
 * Running code when TensorFlow.js's WebGPU backend lets go of a tensor's data: the last tensor
 * that shares it (clones, reshapes) disposed, by `dispose()`, `tf.dispose` or `tf.tidy`, or the
 * data moved to another backend, or the backend itself disposed. TensorFlow.js has no event
 * for it; its engine calls the backend's `disposeData(dataId)` for each tensor disposed, which
 * returns `true` once the data is gone. The adapter wraps that method (and `dispose`) on the
 * backend instance, once, and changes nothing of what they do.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

type DataId = object;
type Release = () => void;

const watched = new WeakMap<WebGPUBackend, Map<DataId, Release>>();

function releasesOf(backend: WebGPUBackend): Map<DataId, Release> {
  let releases = watched.get(backend);
  if (releases) return releases;
  const mine = new Map<DataId, Release>();
  releases = mine;
  watched.set(backend, mine);
  const disposeData = backend.disposeData.bind(backend);
  const dispose = backend.dispose.bind(backend);
  backend.disposeData = (dataId: DataId, force?: boolean): boolean => {
    const gone = disposeData(dataId, force);
    const release = gone ? mine.get(dataId) : undefined;
    if (release) {
      mine.delete(dataId);
      release();
    }
    return gone;
  };
  backend.dispose = (): void => {
    const all = [...mine.values()];
    mine.clear();
    for (const release of all) release();
    dispose();
  };
  return mine;
}

/**
 * Calls `release` once, synchronously, when `backend` lets go of the data `dataId` (see the
 * file's header), before the backend frees anything of its own at `dispose`.
 */
export function onDataReleased(backend: WebGPUBackend, dataId: DataId, release: Release): void {
  releasesOf(backend).set(dataId, release);
}
