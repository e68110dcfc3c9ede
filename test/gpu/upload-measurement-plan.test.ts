// The upload measurement's schedule (gpu/upload-path.ts): nothing in it favours one path.
import { describe, expect, test } from 'vitest';
import { measurementOf, measurementPlan, uploadClass, type MeasurementBatch } from '../../gpu/upload-path.js';

const plan = measurementPlan();
const counted = plan.filter((batch): batch is MeasurementBatch & { probe: number } => batch.probe !== undefined);
const largest = Math.max(...counted.flatMap((batch) => batch.uploads.map((u) => u.bytes)));

describe('measurementPlan', () => {
  test('the first batch, not counted, uploads the largest probe once by each path', () => {
    expect(plan[0]).toEqual({ probe: undefined, uploads: [{ path: 'write-buffer', bytes: largest, count: 1 }, { path: 'staging', bytes: largest, count: 1 }] });
    expect(plan.filter((batch) => batch.probe === undefined)).toHaveLength(1);
  });

  test('every counted batch times one path alone', () => {
    for (const batch of counted) expect(batch.uploads).toHaveLength(1);
  });

  test('each probe is timed twice by each path, the two paths in alternating order', () => {
    const probes = [...new Set(counted.map((batch) => batch.probe))];
    expect(probes).toEqual([0, 1, 2]);
    for (const probe of probes) {
      const order = counted.filter((batch) => batch.probe === probe).map((batch) => batch.uploads[0]?.path);
      expect(order).toEqual(['write-buffer', 'staging', 'staging', 'write-buffer']);
    }
  });

  test('both paths of a probe upload the same bytes, and the probes measure the classes above the smallest', () => {
    for (const probe of [0, 1, 2]) {
      const uploads = counted.filter((batch) => batch.probe === probe).map((batch) => batch.uploads[0]);
      expect(new Set(uploads.map((u) => `${u?.bytes} x ${u?.count}`)).size).toBe(1);
    }
    const classes = [0, 1, 2].map((probe) => uploadClass(counted.find((batch) => batch.probe === probe)?.uploads[0]?.bytes ?? 0));
    expect(classes).toEqual([0, 1, 2]);
  });
});

describe('measurementOf', () => {
  /** The plan's batch times: `ms(path, probe, round)` for each counted batch, 1000 for the first. */
  function times(ms: (path: string, probe: number, round: number) => number): number[] {
    const seen = new Map<string, number>();
    return plan.map((batch) => {
      const upload = batch.uploads[0];
      if (batch.probe === undefined || !upload) return 1000;
      const key = `${upload.path} ${batch.probe}`;
      const round = seen.get(key) ?? 0;
      seen.set(key, round + 1);
      return ms(upload.path, batch.probe, round);
    });
  }
  const bytesOf = (probe: number) => {
    const upload = counted.find((batch) => batch.probe === probe)?.uploads[0];
    return (upload?.bytes ?? 0) * (upload?.count ?? 0);
  };

  test("each probe's rate comes from its faster sample, whichever round it was; the first batch does not count", () => {
    // writeBuffer is slow in round 0 and fast in round 1, staging the other way round.
    const measurement = measurementOf(times((path, _probe, round) => (path === 'write-buffer' ? [8, 2][round] : [4, 16][round]) ?? 0));
    expect(measurement.writeBuffer).toEqual([0, 1, 2, 2].map((probe) => bytesOf(Math.min(probe, 2)) / 2));
    expect(measurement.staging).toEqual([0, 1, 2, 2].map((probe) => bytesOf(Math.min(probe, 2)) / 4));
  });

  test("the largest class takes the largest probe's rates", () => {
    const measurement = measurementOf(times((path, probe) => (path === 'staging' ? 1 : probe + 1)));
    expect(measurement.writeBuffer).toHaveLength(4);
    expect(measurement.writeBuffer[3]).toBe(measurement.writeBuffer[2]);
    expect(measurement.staging[3]).toBe(measurement.staging[2]);
  });
});
