// An honest in-memory exporter for Node tests of the contract: DmaBufOps over an
// ArrayBuffer. With no GPU here, its tables hold stand-in objects where GPUBuffers would be,
// and importers' devices are stand-in objects too. It records every op it is called with.
// As any exporter, it alone reaches its storage: the buffer does not show its priv, so the
// exporter's module keeps its own way back (memoryStorage), and its ops receive priv.
// It imports the contract's own modules rather than index.ts, so that the Node tests built on
// it load no WebGPU exporter code (and each mutant of `npm run test:mutation` loads less).
import type { DmaDirection } from '../../src/direction.js';
import { exportDmaBuf, type DmaBuf } from '../../src/dma-buf.js';
import type { DmaBufOps } from '../../src/ops.js';
import { PAGE_SIZE } from '../../src/page.js';
import type { SegmentLayout } from '../../src/segment-layout.js';

/** The exporter's private data: the bytes and the log of op calls. */
export interface MemoryStorage {
  readonly bytes: Uint8Array;
  readonly calls: string[];
}

/** How a test makes the exporter misbehave or leave ops out. */
export interface MemoryExporterOptions {
  readonly name?: string;
  /** The segment layout the buffer promises (it crosses realms with the fd). */
  readonly layout?: SegmentLayout;
  /** Ops to leave out (only optional ones may be left out for exportDmaBuf to accept). */
  readonly omit?: readonly (keyof DmaBufOps)[];
  /** Ops that fail: the value is what they throw (or reject with, for async ops). */
  readonly fail?: Partial<Record<keyof DmaBufOps, unknown>>;
}

/** A stand-in for an importer's GPUDevice. */
export function standInDevice(label: string): GPUDevice {
  return { label } as GPUDevice;
}

// The exporter's own way from its buffers back to their storage.
const storages = new WeakMap<DmaBuf<MemoryStorage>, MemoryStorage>();

/** The storage of a buffer this exporter made: what the test, as the exporter, inspects. */
export function memoryStorage(buf: DmaBuf<MemoryStorage>): MemoryStorage {
  const storage = storages.get(buf);
  if (!storage) throw new Error('memoryStorage: not a buffer of the memory exporter');
  return storage;
}

/** Exports a dma-buf of `size` bytes held in memory. The caller owns its one reference. */
export function memoryDmaBuf(size: number, options: MemoryExporterOptions = {}): DmaBuf<MemoryStorage> {
  const priv: MemoryStorage = { bytes: new Uint8Array(size), calls: [] };
  const failing = (op: keyof DmaBufOps, detail: string) => {
    priv.calls.push(`${op}${detail}`);
    if (options.fail && op in options.fail) throw options.fail[op];
  };
  const page = (storage: MemoryStorage, n: number) => storage.bytes.subarray(n * PAGE_SIZE, Math.min(size, (n + 1) * PAGE_SIZE));
  const ops: DmaBufOps<MemoryStorage> = {
    attach: (_priv, _buf, attachment) => { failing('attach', ` ${attachment.device.label}`); },
    detach: (_priv, _buf, attachment) => { failing('detach', ` ${attachment.device.label}`); },
    mapDmaBuf: async (_priv, attachment, dir: DmaDirection) => {
      await Promise.resolve();
      failing('mapDmaBuf', ` ${dir}`);
      return { segments: [{ buffer: { label: 'memory segment' } as GPUBuffer, offset: 0, start: 0, length: attachment.dmabuf.size }] };
    },
    unmapDmaBuf: async (_priv, _attachment, _sgt, dir) => {
      await Promise.resolve();
      failing('unmapDmaBuf', ` ${dir}`);
    },
    // Copied when called: call order, as the reservation would give it.
    read: (storage, _buf, start, into) => {
      failing('read', ` ${start} ${into.length}`);
      into.set(storage.bytes.subarray(start, start + into.length));
      return Promise.resolve();
    },
    write: (storage, _buf, start, bytes) => {
      failing('write', ` ${start} ${bytes.length}`);
      storage.bytes.set(bytes, start);
      return Promise.resolve();
    },
    release: () => { failing('release', ''); },
    beginCpuAccess: async (_priv, _buf, start, len, dir) => {
      await Promise.resolve();
      failing('beginCpuAccess', ` ${start} ${len} ${dir}`);
    },
    endCpuAccess: (_priv, _buf, start, len, dir) => { failing('endCpuAccess', ` ${start} ${len} ${dir}`); },
    kmap: (storage, _buf, n) => {
      failing('kmap', ` ${n}`);
      return page(storage, n);
    },
    kmapAtomic: (storage, _buf, n) => {
      failing('kmapAtomic', ` ${n}`);
      return page(storage, n);
    },
    kunmap: (_priv, _buf, n) => { failing('kunmap', ` ${n}`); },
    kunmapAtomic: (_priv, _buf, n) => { failing('kunmapAtomic', ` ${n}`); },
  };
  for (const op of options.omit ?? []) Reflect.deleteProperty(ops, op);
  const buf = exportDmaBuf({ priv, ops, size, exporter: 'memory', ...(options.name === undefined ? {} : { name: options.name }), ...(options.layout === undefined ? {} : { layout: options.layout }) });
  storages.set(buf, priv);
  return buf;
}

/** The required ops of an exporter that holds nothing: for tests of what the contract itself checks. */
export const NOTHING_OPS: DmaBufOps<object> = {
  mapDmaBuf: () => Promise.resolve({ segments: [] }),
  unmapDmaBuf: () => undefined,
  release: () => undefined,
  kmap: () => new Uint8Array(0),
  kmapAtomic: () => new Uint8Array(0),
};
