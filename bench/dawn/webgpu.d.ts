// The part of the `webgpu` package (Dawn for Node) that dawn-gpu.ts uses, so that the
// project type-checks before `npm run bench:dawn` has installed the package into
// bench/dawn/node_modules. Once it is there, TypeScript reads the package's own types.
declare module 'webgpu' {
  /** Dawn's `navigator.gpu`, made with Dawn's toggles (`backend=vulkan`...). */
  export function create(options: string[]): GPU;
  /** `GPUBufferUsage`, `GPUDevice` and the other WebGPU globals, to put on `globalThis`. */
  export const globals: object;
}
