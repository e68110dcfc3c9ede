// Mounting <dmabuf-camera> in a test, and the teardown every camera test ends with: each
// camera removed and settled without failing, mocks restored, no dma-buf left.
import { afterEach, expect, vi } from 'vitest';
import type { DmabufCamera } from '../../elements/camera/camera.component.js';
import '../../elements/camera/camera.js';
import { expectNoBuffers } from './frame-helpers.js';

/**
 * Registers the teardown for the calling test file and returns its `mount`: a camera of
 * `width` x `height`, set up by `setup` before it is connected.
 */
export function cameraMounts(width: number, height: number): (setup?: (camera: DmabufCamera) => void) => DmabufCamera {
  const cameras: DmabufCamera[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const camera of cameras.splice(0)) {
      camera.remove();
      await camera.settled;
      expect(camera.status).not.toBe('failed');
    }
    expectNoBuffers();
  });
  return (setup = () => undefined) => {
    const camera = document.createElement('dmabuf-camera');
    camera.width = width;
    camera.height = height;
    setup(camera);
    document.body.append(camera);
    cameras.push(camera);
    return camera;
  };
}
