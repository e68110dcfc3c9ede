/**
 * How the runtime writes bytes from the CPU into a `GPUBuffer`: `queue.writeBuffer`, or a
 * `MAP_WRITE` staging buffer mapped at creation, filled, and copied with
 * `copyBufferToBuffer`. Which is faster depends on the browser, the GPU and the size
 * (SwiftShader and Dawn for Node disagree at 1 MiB, and one machine's figures move from run
 * to run), so the choice is made per device and per size class from a short measurement of
 * both paths, taken once, the first time the runtime uploads to the device, and kept while
 * the device lives.
 * Until the measurement is in, every upload goes by `writeBuffer`. A measurement can be
 * given instead ({@link setUploadMeasurement}); {@link uploadPaths} says what each class uses.
 *
 * Both paths are queue operations, so uploads and the GPU work around them take effect in
 * the order they are called, whichever path each takes.
 */
import { describe } from '../src/checks.js';
import { DmaBufError } from '../src/error.js';
import { isLost } from './device-loss.js';

/** `'write-buffer'`: `queue.writeBuffer`; `'staging'`: a `MAP_WRITE` buffer mapped at creation, copied on the GPU. */
export type UploadPath = 'write-buffer' | 'staging';

/**
 * The upper bounds of the upload size classes, in bytes: up to 64 KiB, up to 1 MiB, up to
 * 16 MiB, and larger. An upload's size is the bytes of one call (one transfer chunk, one
 * write-back), all its pieces together.
 */
export const UPLOAD_CLASS_BYTES: readonly number[] = Object.freeze([64 * 1024, 1024 * 1024, 16 * 1024 * 1024, Number.POSITIVE_INFINITY]);

/**
 * What both paths achieved on a device, in bytes per millisecond, one entry per size class
 * (the order of {@link UPLOAD_CLASS_BYTES}). Only the comparison within a class matters.
 */
export interface UploadMeasurement {
  readonly writeBuffer: readonly number[];
  readonly staging: readonly number[];
}

/** Where a device's choice of paths comes from. */
export type UploadPathSource = 'default' | 'measuring' | 'measured' | 'injected';

/** What {@link uploadPaths} reports of one device. */
export interface UploadPathReport {
  /** `'default'` until a measurement starts, `'measuring'` while it runs (or after it failed: the default stays), `'measured'`, or `'injected'`. */
  readonly source: UploadPathSource;
  /** The path of each size class, with its upper bound in bytes (`Infinity` for the last). */
  readonly classes: readonly { readonly maxBytes: number; readonly path: UploadPath }[];
  /** The measurement the paths follow, once there is one. */
  readonly measurement: UploadMeasurement | undefined;
  /** `queue.writeBuffer` calls made by uploads to the device. */
  readonly writeBufferCalls: number;
  /** Staging buffers created by uploads to the device (one per upload that went by staging). */
  readonly stagingBuffersCreated: number;
}

interface DeviceUploads {
  source: UploadPathSource;
  /** Settles once the measurement started at the first upload has ended, well or not. */
  measured: Promise<void>;
  paths: UploadPath[];
  measurement: UploadMeasurement | undefined;
  writeBufferCalls: number;
  stagingBuffersCreated: number;
}

// Per device, held weakly so that a device can be collected (as word-patch.ts keeps pipelines).
const devices = new WeakMap<GPUDevice, DeviceUploads>();

const DEFAULT_PATH: UploadPath = 'write-buffer';
const CLASS_COUNT = UPLOAD_CLASS_BYTES.length;

function stateOf(device: GPUDevice): DeviceUploads {
  let state = devices.get(device);
  if (!state) {
    state = { source: 'default', measured: Promise.resolve(), paths: new Array<UploadPath>(CLASS_COUNT).fill(DEFAULT_PATH), measurement: undefined, writeBufferCalls: 0, stagingBuffersCreated: 0 };
    devices.set(device, state);
  }
  return state;
}

/** The index of the size class of an upload of `bytes` bytes. */
export function uploadClass(bytes: number): number {
  const index = UPLOAD_CLASS_BYTES.findIndex((max) => bytes <= max);
  return index < 0 ? CLASS_COUNT - 1 : index;
}

/**
 * How much faster staging must be than `writeBuffer` in a class to be chosen: a short
 * measurement is noisy, and `writeBuffer` needs no extra buffer and no GPU copy, so a near
 * tie keeps it.
 */
export const STAGING_MARGIN = 1.25;

/** Per class, staging where its rate is at least {@link STAGING_MARGIN} times `writeBuffer`'s, else `writeBuffer`. */
function pathsOf(measurement: UploadMeasurement): UploadPath[] {
  return UPLOAD_CLASS_BYTES.map((_, k) => {
    const staging = measurement.staging[k] ?? 0;
    return staging > 0 && staging >= STAGING_MARGIN * (measurement.writeBuffer[k] ?? 0) ? 'staging' : 'write-buffer';
  });
}

function checkRates(call: string, what: string, rates: unknown): asserts rates is readonly number[] {
  if (!Array.isArray(rates) || rates.length !== CLASS_COUNT || !rates.every((r) => typeof r === 'number' && Number.isFinite(r) && r >= 0)) {
    throw new DmaBufError('EINVAL', call, `measurement.${what} must be ${CLASS_COUNT} finite numbers >= 0 (bytes per millisecond per size class), got ${describe(rates)}`);
  }
}

/**
 * Sets the measurement that `device`'s uploads follow, in place of measuring it: each size
 * class goes by staging where its rate is at least {@link STAGING_MARGIN} times
 * `writeBuffer`'s. Kept while the device lives; a measurement under way when it is called no
 * longer changes the choice. For tests and for applications that measured themselves. The
 * arrays are copied.
 * @throws {DmaBufError} `EINVAL` for something that is not a `GPUDevice`, or rates that are
 *   not one finite number >= 0 per size class.
 */
export function setUploadMeasurement(device: GPUDevice, measurement: UploadMeasurement): void {
  const call = 'setUploadMeasurement';
  const candidate: unknown = device;
  if (!(candidate instanceof GPUDevice)) throw new DmaBufError('EINVAL', call, `device must be a GPUDevice, got ${describe(candidate)}`);
  const given: unknown = measurement;
  if (typeof given !== 'object' || given === null) throw new DmaBufError('EINVAL', call, `measurement must be an object, got ${describe(given)}`);
  const { writeBuffer, staging } = given as Record<string, unknown>;
  checkRates(call, 'writeBuffer', writeBuffer);
  checkRates(call, 'staging', staging);
  const state = stateOf(device);
  state.measurement = Object.freeze({ writeBuffer: Object.freeze([...writeBuffer]), staging: Object.freeze([...staging]) });
  state.paths = pathsOf(state.measurement);
  state.source = 'injected';
}

/**
 * What `device`'s uploads do: the path of each size class, where that choice comes from, and
 * how many `writeBuffer` calls and staging buffers uploads to it have made. Starts nothing.
 * @throws {DmaBufError} `EINVAL` for something that is not a `GPUDevice`.
 */
export function uploadPaths(device: GPUDevice): UploadPathReport {
  const candidate: unknown = device;
  if (!(candidate instanceof GPUDevice)) throw new DmaBufError('EINVAL', 'uploadPaths', `device must be a GPUDevice, got ${describe(candidate)}`);
  const state = devices.get(device);
  const paths = state?.paths ?? new Array<UploadPath>(CLASS_COUNT).fill(DEFAULT_PATH);
  return {
    source: state?.source ?? 'default',
    classes: UPLOAD_CLASS_BYTES.map((maxBytes, k) => ({ maxBytes, path: paths[k] ?? DEFAULT_PATH })),
    measurement: state?.measurement,
    writeBufferCalls: state?.writeBufferCalls ?? 0,
    stagingBuffersCreated: state?.stagingBuffersCreated ?? 0,
  };
}

/** Settles once the measurement of `device` (started at its first upload) has ended, well or not; at once when none runs. Never rejects. */
export function uploadMeasurementDone(device: GPUDevice): Promise<void> {
  return devices.get(device)?.measured ?? Promise.resolve();
}

/**
 * The path an upload of `bytes` bytes to `device` takes now; the device's first upload larger
 * than the smallest class starts its measurement. Small uploads alone never pay for one: most
 * devices only ever move a few pages, where `writeBuffer`, the default, is the path to take.
 */
function pathFor(device: GPUDevice, bytes: number): UploadPath {
  const state = stateOf(device);
  const sizeClass = uploadClass(bytes);
  if (state.source === 'default' && sizeClass > 0) {
    state.source = 'measuring';
    state.measured = measureUploads(device).then(
      (measurement) => {
        if (state.source !== 'measuring') return;
        state.measurement = measurement;
        state.paths = pathsOf(measurement);
        state.source = 'measured';
      },
      // A device lost or destroyed on the way: its uploads keep the default.
      () => undefined,
    );
  }
  return state.paths[sizeClass] ?? DEFAULT_PATH;
}

// MAP_WRITE | COPY_SRC and STORAGE | COPY_DST, fixed by the WebGPU spec (see gpu-heap.ts).
const STAGING_USAGE = 0x0002 | 0x0004;
const TARGET_USAGE = 0x0080 | 0x0008;

/**
 * The size measured for each class and how many uploads of it, per path: small enough that
 * the whole measurement moves about 13 MiB and waits for the queue 14 times (about 80 ms on
 * SwiftShader under load).
 */
const PROBES: readonly { readonly bytes: number; readonly count: number }[] = [
  { bytes: 16 * 1024, count: 4 },
  { bytes: 256 * 1024, count: 1 },
  { bytes: 2 * 1024 * 1024, count: 1 },
];

/** Times each probe is taken per path, the paths' order alternating; the fastest counts. */
const ROUNDS = 2;

const PATHS: readonly UploadPath[] = ['write-buffer', 'staging'];

/** One batch of the measurement: uploads made back to back, then timed until the queue is idle. */
export interface MeasurementBatch {
  /** The index in {@link PROBES} whose rate the batch's time gives, or `undefined` for the first batch, not counted. */
  readonly probe: number | undefined;
  readonly uploads: readonly { readonly path: UploadPath; readonly bytes: number; readonly count: number }[];
}

/**
 * The batches a device's measurement times, in order. What would favour one path is kept
 * out: the first batch, not counted, makes an upload of the largest probe by each path, to
 * pay what a path costs once per device (Chromium grows the ring `writeBuffer` copies
 * through to fit); then each probe is timed {@link ROUNDS} times per path, one path per
 * batch, in alternating order (the second of a pair finds the queue as the first left it),
 * and the faster time counts: a single sample on a shared machine is as often the
 * neighbour's work as the path's.
 */
export function measurementPlan(): readonly MeasurementBatch[] {
  const largest = Math.max(...PROBES.map((p) => p.bytes));
  const batches: MeasurementBatch[] = [{ probe: undefined, uploads: PATHS.map((path) => ({ path, bytes: largest, count: 1 })) }];
  for (const [probe, { bytes, count }] of PROBES.entries()) {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? PATHS : [...PATHS].reverse();
      for (const path of order) batches.push({ probe, uploads: [{ path, bytes, count }] });
    }
  }
  return batches;
}


/**
 * The measurement from the time of each batch of {@link measurementPlan}, in its order (ms):
 * each probe's fastest time per path gives its rate, in bytes per millisecond; the largest
 * class takes the largest probe's rates. The first batch's time is not counted.
 */
export function measurementOf(times: readonly number[]): UploadMeasurement {
  const fastest = { 'write-buffer': PROBES.map(() => Number.POSITIVE_INFINITY), staging: PROBES.map(() => Number.POSITIVE_INFINITY) };
  for (const [index, { probe, uploads }] of measurementPlan().entries()) {
    const [upload] = uploads;
    const ms = times[index];
    if (probe === undefined || !upload || ms === undefined) continue;
    fastest[upload.path][probe] = Math.min(fastest[upload.path][probe] ?? ms, Math.max(ms, 1e-3));
  }
  const rates = (path: UploadPath) => {
    const perProbe = PROBES.map(({ bytes, count }, probe) => (bytes * count) / (fastest[path][probe] ?? Number.POSITIVE_INFINITY));
    return Object.freeze([...perProbe, perProbe[perProbe.length - 1] ?? 0]);
  };
  return Object.freeze({ writeBuffer: rates('write-buffer'), staging: rates('staging') });
}

/**
 * Times both paths on `device` by {@link measurementPlan}, into a scratch buffer, each batch
 * until `onSubmittedWorkDone`, once the queue is idle (the upload that started it done), so
 * that no earlier work lands in one path's time. Rejects when the device is lost on the way.
 */
async function measureUploads(device: GPUDevice): Promise<UploadMeasurement> {
  // After the call that started it: that call's own upload is queued first, and runs first.
  await Promise.resolve();
  await device.queue.onSubmittedWorkDone();
  const largest = Math.max(...PROBES.map((p) => p.bytes));
  const target = device.createBuffer({ size: largest, usage: TARGET_USAGE, label: 'dmabuf upload measurement' });
  const source = new Uint8Array(largest);
  const times: number[] = [];
  try {
    for (const { uploads } of measurementPlan()) {
      const t0 = performance.now();
      for (const { path, bytes, count } of uploads) {
        const piece = [{ buffer: target, offset: 0, data: source.subarray(0, bytes), length: bytes }];
        for (let k = 0; k < count; k++) {
          if (path === 'staging') stagedPieces(device, piece);
          else writeBufferPieces(device, piece);
        }
      }
      await device.queue.onSubmittedWorkDone();
      if (isLost(device)) throw new Error('the device was lost while its uploads were measured');
      times.push(performance.now() - t0);
    }
    return measurementOf(times);
  } finally {
    target.destroy();
  }
}

/** Bytes to write at `offset` of `buffer`: the first `length` bytes of `data` (whole words: both multiples of 4). */
export interface UploadPiece {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly length: number;
}

function writeBufferPieces(device: GPUDevice, pieces: readonly UploadPiece[]): void {
  for (const p of pieces) device.queue.writeBuffer(p.buffer, p.offset, p.data, 0, p.length);
}

/**
 * Writes `pieces` through one `MAP_WRITE` staging buffer mapped at creation, copied in one
 * submit and destroyed at once (the queued copy keeps it until done). Returns `false`, having
 * written nothing, when no such buffer can be made: more than `maxBufferSize` or off a word
 * (WebGPU would make an invalid buffer), or a mapping that fails (WebGPU throws `RangeError`).
 */
function stagedPieces(device: GPUDevice, pieces: readonly UploadPiece[]): boolean {
  const total = pieces.reduce((sum, p) => sum + p.length, 0);
  // A buffer WebGPU would refuse is an invalid one, silently: its copies would write nothing.
  if (total % 4 !== 0 || total > device.limits.maxBufferSize) return false;
  let staging: GPUBuffer;
  let mapped: ArrayBuffer;
  try {
    staging = device.createBuffer({ size: total, usage: STAGING_USAGE, mappedAtCreation: true, label: 'dmabuf upload staging' });
    mapped = staging.getMappedRange();
  } catch {
    return false;
  }
  const view = new Uint8Array(mapped);
  const encoder = device.createCommandEncoder({ label: 'dmabuf upload' });
  let at = 0;
  for (const p of pieces) {
    view.set(p.data.subarray(0, p.length), at);
    encoder.copyBufferToBuffer(staging, at, p.buffer, p.offset, p.length);
    at += p.length;
  }
  staging.unmap();
  device.queue.submit([encoder.finish()]);
  staging.destroy();
  return true;
}

/**
 * Writes `pieces` into their buffers on `device`, in order, by the path its measurement
 * chose for their total size: `writeBuffer` per piece, or one staging buffer per group of
 * pieces within `maxBufferSize`. Every piece's offset and length are multiples of 4. The
 * bytes are read from `data` within the call; the writes are queued when it returns, in call
 * order with the rest of the device's queue. Returns the path taken (`writeBuffer` when a
 * staging buffer could not be mapped).
 */
export function upload(device: GPUDevice, pieces: readonly UploadPiece[]): UploadPath {
  const total = pieces.reduce((sum, p) => sum + p.length, 0);
  if (total === 0) return 'write-buffer';
  const state = stateOf(device);
  if (pathFor(device, total) === 'staging') {
    const max = device.limits.maxBufferSize;
    const groups: UploadPiece[][] = [];
    let size = Number.POSITIVE_INFINITY;
    for (const p of pieces) {
      if (size + p.length > max) {
        groups.push([]);
        size = 0;
      }
      groups[groups.length - 1]?.push(p);
      size += p.length;
    }
    let staged = true;
    for (const group of groups) {
      if (staged && stagedPieces(device, group)) {
        state.stagingBuffersCreated += 1;
        continue;
      }
      // Mapping failed (out of memory): this group and the rest go by writeBuffer, in order.
      staged = false;
      writeBufferPieces(device, group);
      state.writeBufferCalls += group.length;
    }
    return staged ? 'staging' : 'write-buffer';
  }
  writeBufferPieces(device, pieces);
  state.writeBufferCalls += pieces.length;
  return 'write-buffer';
}
