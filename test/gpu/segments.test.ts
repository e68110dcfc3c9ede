import { describe, expect, test } from 'vitest';
import { alignDown, alignUp, segmentPieces, segmentRanges, type Segment } from '../../gpu/segments.js';

// Pure layout arithmetic: stand-in buffers carry only the size the code reads.
const segment = (start: number, length: number): Segment => ({
  buffer: { size: alignUp(length, 4), label: `@${start}` } as GPUBuffer,
  start,
  length,
});

describe('segment layout', () => {
  test('alignUp and alignDown round to the unit on both sides of a boundary', () => {
    expect([alignUp(255, 256), alignUp(256, 256), alignUp(257, 256)]).toEqual([256, 256, 512]);
    expect([alignDown(255, 256), alignDown(256, 256), alignDown(257, 256)]).toEqual([0, 256, 256]);
  });

  test('segmentRanges cuts a size into full segments and a shorter last one', () => {
    expect(segmentRanges(1023, 512)).toEqual([[0, 512], [512, 511]]);
    expect(segmentRanges(1024, 512)).toEqual([[0, 512], [512, 512]]);
    expect(segmentRanges(1025, 512)).toEqual([[0, 512], [512, 512], [1024, 1]]);
  });

  test('segmentPieces splits a range at segment boundaries, in order, with offsets inside each buffer', () => {
    const segments = [segment(0, 512), segment(512, 512), segment(1024, 3)];
    const pieces = [...segmentPieces(segments, 508, 520)].map(({ buffer, offset, at, length }) => [buffer.label, offset, at, length]);
    expect(pieces).toEqual([
      ['@0', 508, 508, 4],
      ['@512', 0, 512, 512],
      ['@1024', 0, 1024, 4],
    ]);
  });

  test('segmentPieces of a range inside one segment is one piece', () => {
    expect([...segmentPieces([segment(0, 512), segment(512, 512)], 600, 8)]).toHaveLength(1);
  });
});
