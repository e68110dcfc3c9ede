import { describe, expect, test } from 'vitest';
import { wordPatch } from '../../gpu/word-patch.js';

describe('wordPatch', () => {
  test('sets only the bytes in [from, to), little-endian', () => {
    expect(wordPatch(5, 1, 3, [0xaa, 0xbb])).toEqual({ word: 5, mask: 0x00ffff00, value: 0x00bbaa00 });
  });

  test('a whole word has a full mask, kept unsigned', () => {
    expect(wordPatch(0, 0, 4, [1, 2, 3, 0xff])).toEqual({ word: 0, mask: 0xffffffff, value: 0xff030201 });
  });

  test('the last byte alone', () => {
    expect(wordPatch(2, 3, 4, [0x80])).toEqual({ word: 2, mask: 0xff000000, value: 0x80000000 });
  });
});
