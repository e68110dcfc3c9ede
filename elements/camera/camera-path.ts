/**
 * How `<dmabuf-camera>` gets a picture into its dma-buf, fastest first:
 * - `external-texture`: `importExternalTexture` of the `VideoFrame`, and a compute shader
 *   that writes the buffer on the GPU;
 * - `copy-external-image`: `copyExternalImageToTexture` into a texture, then the same shader;
 * - `copy-to`: `VideoFrame.copyTo` into memory, `writeBuffer`, and a shader that converts
 *   the planes (NV12, I420, RGBA) to RGBA;
 * - `pattern`: no camera; a test pattern drawn by a compute shader.
 */
export type CameraPath = 'external-texture' | 'copy-external-image' | 'copy-to' | 'pattern';

/** The camera paths in the order they are tried. */
export const CAMERA_PATHS = ['external-texture', 'copy-external-image', 'copy-to'] as const satisfies readonly CameraPath[];

/** Whether `value` is one of {@link CAMERA_PATHS}. */
export function isCameraPath(value: unknown): value is (typeof CAMERA_PATHS)[number] {
  return (CAMERA_PATHS as readonly unknown[]).includes(value);
}
