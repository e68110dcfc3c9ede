import type { FrameLayout } from './frame-layout.js';

/** Threads a workgroup side: every frame kernel runs one invocation a pixel, in 8 x 8 groups. */
export const FRAME_WORKGROUP = 8;

/**
 * A compute pipeline run once per pixel of a frame, its resources at bindings 0, 1, … and a
 * uniform buffer of parameters at the binding after them: what the frame kernels share.
 * The kernel that makes it owns it and destroys it with itself.
 */
export class FramePass {
  readonly device: GPUDevice;
  readonly #label: string;
  readonly #pipeline: GPUComputePipeline;
  readonly #params: GPUBuffer;

  constructor(device: GPUDevice, label: string, code: string, paramsBytes: number) {
    this.device = device;
    this.#label = label;
    const module = device.createShaderModule({ label, code });
    this.#pipeline = device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
    this.#params = device.createBuffer({ label: `${label} params`, size: paramsBytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  }

  /**
   * Queues `params` and records, into `encoder`, the pass over `layout`'s pixels with
   * `resources` bound in order. The parameters are written on the queue now, so record one
   * pass of a kernel per submit.
   */
  encode(encoder: GPUCommandEncoder, layout: FrameLayout, params: GPUAllowSharedBufferSource, resources: readonly GPUBindingResource[]): void {
    this.device.queue.writeBuffer(this.#params, 0, params);
    const bindGroup = this.device.createBindGroup({
      layout: this.#pipeline.getBindGroupLayout(0),
      entries: [...resources, { buffer: this.#params }].map((resource, binding) => ({ binding, resource })),
    });
    const pass = encoder.beginComputePass({ label: this.#label });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(layout.width / FRAME_WORKGROUP), Math.ceil(layout.height / FRAME_WORKGROUP));
    pass.end();
  }

  /** Frees the parameters buffer. */
  destroy(): void {
    this.#params.destroy();
  }
}
