/**
 * The parsers of the plain data that crosses between the page and a module worker beside the
 * fds (a frame's info, heap counts, `bufinfo` listings, errors): each checks every field and
 * answers `undefined` for anything malformed, as the fd socket's protocol does, so nothing
 * another realm posts is taken on trust.
 *
 * @module
 */
import { DmaBufError, isDmaDirection, type BufInfoAttachment, type BufInfoCpuAccess, type BufInfoEntry, type BufInfoFence, type DmaBufErrorCode, type DmaResvUsage, type GpuHeapStats } from 'webgpu-dmabuf';
import { DmabufElementError, isDmabufElementErrorCode } from '../element-error.js';
import type { FrameInfo } from '../frame/frame-info.js';
import type { FrameLayout } from '../kernels/frame-layout.js';

/** Plain fields of an object that crossed. */
export type Fields = Readonly<Record<string, unknown>>;

/** The longest name, label or reason taken from another realm. */
const MAX_TEXT = 1000;
/** The most entries of a list taken from another realm (buffers, fences, mappings). */
const MAX_LIST = 4096;

const DMA_BUF_CODES: ReadonlySet<string> = new Set<DmaBufErrorCode>(['EINVAL', 'EBADF', 'EBUSY', 'ERANGE', 'ENOMEM', 'ENODEV', 'EIO']);
const USAGES: ReadonlySet<string> = new Set<DmaResvUsage>(['kernel', 'write', 'read', 'bookkeep']);

/** Whether `value` is a plain object (not an array, not null). */
export const isRecord = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Whether `value` is a safe integer of at least `min`. */
export const isInt = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
/** Whether `value` is a finite number. */
export const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
/** Whether `value` is a string of at most {@link MAX_TEXT} characters. */
export const isText = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_TEXT;

/** Each entry of `value` through `parse`, or `undefined` when it is no list or any entry is malformed. */
export function listOf<T>(value: unknown, parse: (entry: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_LIST) return undefined;
  const list: T[] = [];
  for (const entry of value as unknown[]) {
    const parsed = parse(entry);
    if (parsed === undefined) return undefined;
    list.push(parsed);
  }
  return list;
}

function frameLayout(value: unknown): FrameLayout | undefined {
  if (!isRecord(value)) return undefined;
  const { format, width, height, bytesPerRow, byteLength } = value;
  if (format !== 'rgba8' || !isInt(width, 1) || !isInt(height, 1)) return undefined;
  return bytesPerRow === width * 4 && byteLength === width * height * 4 ? { format, width, height, bytesPerRow, byteLength } : undefined;
}

/** A frame's info, or `undefined` when any field is malformed. */
export function frameInfo(value: unknown): FrameInfo | undefined {
  if (!isRecord(value)) return undefined;
  const { sequence, origin, capturedAt, exporter } = value;
  const layout = frameLayout(value.layout);
  if (!layout || !isInt(sequence, 1) || !isInt(origin, 1) || !isNumber(capturedAt) || !isText(exporter)) return undefined;
  return { layout, sequence, origin, capturedAt, exporter };
}

/** A heap's counts, or `undefined` when any field is malformed. */
export function heapStats(value: unknown): GpuHeapStats | undefined {
  if (!isRecord(value)) return undefined;
  const { liveBuffers, storageBytes, mirrorBytes, idleMirrorBytes, mirrorBuffersCreated, stagingBytes, bytesCopied, stagingBuffersCreated } = value;
  if (!isInt(liveBuffers, 0) || !isInt(storageBytes, 0) || !isInt(mirrorBytes, 0) || !isInt(idleMirrorBytes, 0)) return undefined;
  if (!isInt(mirrorBuffersCreated, 0) || !isInt(stagingBytes, 0) || !isInt(bytesCopied, 0) || !isInt(stagingBuffersCreated, 0)) return undefined;
  return { liveBuffers, storageBytes, mirrorBytes, idleMirrorBytes, mirrorBuffersCreated, stagingBytes, bytesCopied, stagingBuffersCreated };
}

function attachment(value: unknown): BufInfoAttachment | undefined {
  if (!isRecord(value) || !isText(value.device)) return undefined;
  const mappings = listOf(value.mappings, (entry) => (isDmaDirection(entry) ? entry : undefined));
  return mappings ? { device: value.device, mappings } : undefined;
}

function cpuAccess(value: unknown): BufInfoCpuAccess | undefined {
  if (!isRecord(value)) return undefined;
  const { start, len, direction } = value;
  return isInt(start, 0) && isInt(len, 0) && isDmaDirection(direction) ? { start, len, direction } : undefined;
}

function fence(value: unknown): BufInfoFence | undefined {
  if (!isRecord(value)) return undefined;
  const { context, seqno, usage } = value;
  return isInt(context, 0) && isInt(seqno, 0) && typeof usage === 'string' && USAGES.has(usage) ? { context, seqno, usage: usage as DmaResvUsage } : undefined;
}

/** One `bufinfo` entry, or `undefined` when any field is malformed. */
export function bufInfoEntry(value: unknown): BufInfoEntry | undefined {
  if (!isRecord(value)) return undefined;
  const { id, size, exporter, name, refCount, kmaps, atomicKmaps } = value;
  if (!isInt(id, 0) || !isInt(size, 0) || !isText(exporter) || !isText(name) || !isInt(refCount, 0) || !isInt(kmaps, 0) || !isInt(atomicKmaps, 0)) return undefined;
  const attachments = listOf(value.attachments, attachment);
  const cpu = listOf(value.cpuAccess, cpuAccess);
  const fences = listOf(value.fences, fence);
  if (!attachments || !cpu || !fences) return undefined;
  return { id, size, exporter, name, refCount, attachments, cpuAccess: cpu, kmaps, atomicKmaps, fences };
}

/** An error as it crosses: which class, and its code, call and reason. */
export interface WireError {
  /** `DmaBufError` for the contract's, `DmabufElementError` for the elements' (any other error crosses as `EWORKER`). */
  readonly type: 'DmaBufError' | 'DmabufElementError';
  /** Its `code`. */
  readonly code: string;
  /** Its `call`. */
  readonly call: string;
  /** Its `reason`. */
  readonly reason: string;
}

/**
 * `error` as it crosses: a typed error as it is, any other as an `EWORKER` of `realm`, with
 * its message as the reason.
 */
export function toWireError(error: unknown, realm: string): WireError {
  if (error instanceof DmaBufError) return { type: 'DmaBufError', code: error.code, call: error.call, reason: error.reason };
  if (error instanceof DmabufElementError) return { type: 'DmabufElementError', code: error.code, call: error.call, reason: error.reason };
  return { type: 'DmabufElementError', code: 'EWORKER', call: realm, reason: error instanceof Error ? error.message : String(error) };
}

/** The error that crossed, rebuilt as its class, or `undefined` when any field is malformed. */
export function fromWireError(value: unknown): DmaBufError | DmabufElementError | undefined {
  if (!isRecord(value)) return undefined;
  const { type, code, call, reason } = value;
  if (!isText(call) || !isText(reason)) return undefined;
  if (type === 'DmaBufError' && typeof code === 'string' && DMA_BUF_CODES.has(code)) return new DmaBufError(code as DmaBufErrorCode, call, reason);
  if (type === 'DmabufElementError' && isDmabufElementErrorCode(code)) return new DmabufElementError(code, call, reason);
  return undefined;
}
