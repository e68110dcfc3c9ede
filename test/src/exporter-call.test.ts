// What an exporter op's failure becomes for the caller (src/exporter-call.ts): a DmaBufError
// is the exporter's answer and passes unchanged; anything else is EIO naming the call and
// the op, with what was thrown as its cause.
import { describe, expect, test } from 'vitest';
import { DmaBufError } from '../../src/error.js';
import { awaitExporter, callExporter, exporterError } from '../../src/exporter-call.js';

describe('exporter errors', () => {
  test("an exporter's DmaBufError passes unchanged", () => {
    const refusal = new DmaBufError('ENOMEM', 'attach', 'no room');
    expect(exporterError('attach', 'attach', refusal)).toBe(refusal);
    expect(() => callExporter('attach', 'attach', () => { throw refusal; })).toThrow(refusal);
  });

  test('anything else becomes EIO naming the call and the op, with what was thrown as its cause', () => {
    const failure = new TypeError('bad state');
    const error = exporterError('map', 'mapDmaBuf', failure);
    expect(error).toMatchObject({ code: 'EIO', call: 'map', reason: "the exporter's mapDmaBuf op failed: bad state" });
    expect(error.cause).toBe(failure);
    const odd = exporterError('kmap', 'kmap', 42);
    expect(odd).toMatchObject({ code: 'EIO', call: 'kmap', reason: "the exporter's kmap op failed: 42" });
    expect(odd.cause).toBe(42);
  });

  test('callExporter and awaitExporter return what the op gives, and convert what it throws or rejects with', async () => {
    expect(callExporter('vmap', 'vmap', () => 7)).toBe(7);
    await expect(awaitExporter('map', 'mapDmaBuf', () => Promise.resolve(8))).resolves.toBe(8);
    await expect(awaitExporter('map', 'mapDmaBuf', () => Promise.reject(new Error('lost')))).rejects.toMatchObject({ code: 'EIO', call: 'map', reason: "the exporter's mapDmaBuf op failed: lost" });
    await expect(awaitExporter('map', 'mapDmaBuf', () => { throw new Error('sync'); })).rejects.toMatchObject({ code: 'EIO', reason: "the exporter's mapDmaBuf op failed: sync" });
  });
});
