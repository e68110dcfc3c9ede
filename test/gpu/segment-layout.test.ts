// layoutSegmentSize in Node, on device limits given by hand: where segment boundaries fall
// for contiguous and segmentAlign, the heap's cap, and the errors naming the limit.
import { describe, expect, test } from 'vitest';
import { FREE_LAYOUT, layoutSegmentSize } from '../../gpu/segment-layout.js';

const MiB = 1024 * 1024;

function device(maxStorageBufferBindingSize: number, maxBufferSize = 256 * MiB): GPUDevice {
  return { label: 'dev', limits: { maxStorageBufferBindingSize, maxBufferSize } } as unknown as GPUDevice;
}

describe('layoutSegmentSize', () => {
  test('without a layout: the binding limit rounded down to 256, or the cap', () => {
    expect(layoutSegmentSize('allocate', device(128 * MiB), 300 * MiB, FREE_LAYOUT)).toBe(128 * MiB);
    expect(layoutSegmentSize('allocate', device(1000), 5000, FREE_LAYOUT)).toBe(768);
    expect(layoutSegmentSize('allocate', device(128 * MiB), 10_000, FREE_LAYOUT, 4096)).toBe(4096);
  });

  test('segmentAlign: segments are multiples of its least common multiple with 256', () => {
    expect(layoutSegmentSize('allocate', device(128 * MiB), 20_000, { contiguous: false, align: 12 }, 4096)).toBe(3840);
    expect(layoutSegmentSize('allocate', device(128 * MiB), 20_000, { contiguous: false, align: 64 }, 4096)).toBe(4096);
    expect(layoutSegmentSize('allocate', device(100_000), 200_000, { contiguous: false, align: 1000 })).toBe(96_000);
  });

  test('segmentAlign whose unit exceeds a segment: EINVAL when the buffer needs several, its size when it fits one', () => {
    expect(() => layoutSegmentSize('allocate', device(4096), 8192, { contiguous: false, align: 5000 })).toThrow(
      /^EINVAL: allocate: segmentAlign 5000 puts segment boundaries on multiples of 160000 bytes .* under the maxStorageBufferBindingSize of dev \(4096\); a buffer of 8192 bytes needs more than one/,
    );
    expect(layoutSegmentSize('allocate', device(4096), 4096, { contiguous: false, align: 5000 })).toBe(4096);
  });

  test('contiguous: the whole size in one segment, whatever the cap; ENOMEM naming the limit that applies beyond it', () => {
    expect(layoutSegmentSize('allocate', device(128 * MiB), 100 * MiB, { contiguous: true, align: 1 }, 4096)).toBe(100 * MiB);
    expect(() => layoutSegmentSize('attach', device(128 * MiB), 128 * MiB + 1, { contiguous: true, align: 1 })).toThrow(
      `ENOMEM: attach: a contiguous buffer of ${128 * MiB + 1} bytes does not fit one segment on dev, whose maxStorageBufferBindingSize is ${128 * MiB}`,
    );
    expect(() => layoutSegmentSize('allocate', device(512 * MiB, 256 * MiB), 300 * MiB, { contiguous: true, align: 1 })).toThrow(/whose maxBufferSize is 268435456$/);
  });
});
