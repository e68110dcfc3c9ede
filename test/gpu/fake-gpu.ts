// An honest in-memory stand-in for the little of a GPUDevice and GPUBuffer that the staging
// pool and the idle mirrors use, for Node tests (there is no WebGPU in Node). It implements
// only that much: `createBuffer`, `limits.maxBufferSize`, `label` and a `lost` promise the
// test resolves to simulate a device loss; each buffer has `size`, `usage`, `label`,
// `mapState`, `unmap()` and `destroy()`, and records what was done to it. Anything else a
// class under test reaches for is missing here, so the test fails rather than pretends.

/** A stand-in GPUBuffer that records what was done to it. */
export class FakeBuffer {
  readonly size: number;
  readonly usage: number;
  readonly label: string;
  /** As WebGPU's: a test sets `'mapped'` or `'pending'` to stand for a `mapAsync`. */
  mapState: GPUBufferMapState = 'unmapped';
  /** How many times `destroy()` was called. */
  destroyCount = 0;
  /** How many times `unmap()` was called. */
  unmapCount = 0;

  constructor(descriptor: GPUBufferDescriptor) {
    this.size = descriptor.size;
    this.usage = descriptor.usage;
    this.label = descriptor.label ?? '';
  }

  get destroyed(): boolean {
    return this.destroyCount > 0;
  }

  unmap(): void {
    this.unmapCount += 1;
    this.mapState = 'unmapped';
  }

  destroy(): void {
    this.destroyCount += 1;
    // As WebGPU: destroying a mapped buffer unmaps it.
    this.mapState = 'unmapped';
  }
}

/** A stand-in GPUDevice: the device to hand to the code under test, and the test's handle on it. */
export interface FakeDevice {
  /** The stand-in, typed as what the code under test takes. */
  readonly device: GPUDevice;
  /** Every buffer it created, in order. */
  readonly buffers: readonly FakeBuffer[];
  /** Resolves `device.lost`, as a lost device does. */
  lose(): void;
}

/** Options of {@link fakeDevice}. */
export interface FakeDeviceOptions {
  readonly label?: string;
  /** `limits.maxBufferSize`; WebGPU's default limit (256 MiB) unless given. */
  readonly maxBufferSize?: number;
}

/** Makes a stand-in device. */
export function fakeDevice(options: FakeDeviceOptions = {}): FakeDevice {
  const buffers: FakeBuffer[] = [];
  let resolveLost!: (info: GPUDeviceLostInfo) => void;
  const lost = new Promise<GPUDeviceLostInfo>((resolve) => {
    resolveLost = resolve;
  });
  const standIn = {
    label: options.label ?? 'fake device',
    limits: { maxBufferSize: options.maxBufferSize ?? 256 * 1024 * 1024 },
    lost,
    createBuffer(descriptor: GPUBufferDescriptor): FakeBuffer {
      const buffer = new FakeBuffer(descriptor);
      buffers.push(buffer);
      return buffer;
    },
  };
  return {
    // The one cast: the stand-in has only what these classes use of a GPUDevice.
    device: standIn as unknown as GPUDevice,
    buffers,
    lose() {
      resolveLost({ reason: 'unknown', message: 'lost by the test' } as GPUDeviceLostInfo);
    },
  };
}

/** The stand-in behind a GPUBuffer that a {@link fakeDevice} created; throws for anything else. */
export function fake(buffer: GPUBuffer): FakeBuffer {
  const candidate: unknown = buffer;
  if (!(candidate instanceof FakeBuffer)) throw new Error('not a buffer of a fake device');
  return candidate;
}

/** Lets every pending promise callback run (a few rounds of microtasks; no timers). */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}
