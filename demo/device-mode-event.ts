/** Fired by `<dmabuf-demo>` when every module runs in the new device mode. */
export class DeviceModeEvent extends Event {
  /** The event's name. */
  static readonly type = 'dmabuf-device-mode';
  /** `true`: one `GPUDevice` shared by every module (zero-copy); `false`: a device each. */
  readonly shared: boolean;
  /** `true`: every module (camera, filter, views) runs in a module worker of its own, each with its own device. */
  readonly workers: boolean;

  constructor(shared: boolean, workers = false) {
    super(DeviceModeEvent.type, { bubbles: true, composed: true });
    this.shared = shared;
    this.workers = workers;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'dmabuf-device-mode': DeviceModeEvent;
  }
}
