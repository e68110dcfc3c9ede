// Device access for remote buffers in Node tests: a "mirror" per attachment is plain memory
// behind a stand-in GPUBuffer, filled at a map that moves bytes to the device and sent back
// at an unmap that moves them back, through the same RemoteBytes the WebGPU one uses.
import type { DmaBufAttachment } from '../../src/attachment.js';
import { movesFromDevice, movesToDevice } from '../../src/direction.js';
import type { RemoteDeviceAccess } from '../../remote/device-access.js';

const mirrors = new WeakMap<object, Uint8Array>();

/** The bytes behind a stand-in GPUBuffer of a mapped table: what a test's "device" reads and writes. */
export function mirrorBytes(buffer: GPUBuffer): Uint8Array {
  const bytes = mirrors.get(buffer);
  if (!bytes) throw new Error('mirrorBytes: not a memory mirror');
  return bytes;
}

/** Device access whose mirrors are memory. */
export function memoryDeviceAccess(): RemoteDeviceAccess {
  return {
    forBuffer: (bytes) => {
      const byAttachment = new Map<DmaBufAttachment, GPUBuffer>();
      const mirror = (attachment: DmaBufAttachment) => {
        let buffer = byAttachment.get(attachment);
        if (!buffer) {
          buffer = { label: 'memory mirror' } as GPUBuffer;
          mirrors.set(buffer, new Uint8Array(bytes.size));
          byAttachment.set(attachment, buffer);
        }
        return buffer;
      };
      return {
        attach: () => undefined,
        map: async (attachment, dir) => {
          const buffer = mirror(attachment);
          if (movesToDevice(dir)) {
            const mirror = mirrorBytes(buffer);
            await bytes.read(0, bytes.size, (at, chunk) => { mirror.set(chunk, at); });
          }
          return { segments: [{ buffer, offset: 0, start: 0, length: bytes.size }], bytesMoved: movesToDevice(dir) ? bytes.size : 0 };
        },
        unmap: async (attachment, _sgt, dir) => {
          const buffer = byAttachment.get(attachment);
          if (!buffer || !movesFromDevice(dir)) return 0;
          await bytes.reserveWrite().write(0, mirrorBytes(buffer).slice());
          return bytes.size;
        },
        detach: (attachment) => { byAttachment.delete(attachment); },
        release: () => { byAttachment.clear(); },
      };
    },
  };
}
