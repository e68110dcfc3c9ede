/** Fired by `<dmabuf-demo>` when every module runs in the new device mode. */
export class DeviceModeEvent extends Event {
  /** The event's name. */
  static readonly type = 'dmabuf-device-mode';
  /** `true`: one `GPUDevice` shared by every module (zero-copy); `false`: a device each. */
  readonly shared: boolean;

  constructor(shared: boolean) {
    super(DeviceModeEvent.type, { bubbles: true, composed: true });
    this.shared = shared;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'dmabuf-device-mode': DeviceModeEvent;
  }
}
