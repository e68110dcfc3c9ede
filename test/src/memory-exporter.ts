// An honest in-memory exporter for Node tests of the contract: DmaBufOps over an
// ArrayBuffer. With no GPU here, its tables hold stand-in objects where GPUBuffers would be,
// and importers' devices are stand-in objects too. It records every op it is called with.
import { exportDmaBuf, PAGE_SIZE, type DmaBuf, type DmaBufOps, type DmaDirection } from '../../index.js';

/** The exporter's private data: the bytes and the log of op calls. */
export interface MemoryStorage {
  readonly bytes: Uint8Array;
  readonly calls: string[];
}

/** How a test makes the exporter misbehave or leave ops out. */
export interface MemoryExporterOptions {
  readonly name?: string;
  /** Ops to leave out (only optional ones may be left out for exportDmaBuf to accept). */
  readonly omit?: readonly (keyof DmaBufOps)[];
  /** Ops that fail: the value is what they throw (or reject with, for async ops). */
  readonly fail?: Partial<Record<keyof DmaBufOps, unknown>>;
}

/** A stand-in for an importer's GPUDevice. */
export function standInDevice(label: string): GPUDevice {
  return { label } as GPUDevice;
}

/** Exports a dma-buf of `size` bytes held in memory. The caller owns its one reference. */
export function memoryDmaBuf(size: number, options: MemoryExporterOptions = {}): DmaBuf<MemoryStorage> {
  const priv: MemoryStorage = { bytes: new Uint8Array(size), calls: [] };
  const failing = (op: keyof DmaBufOps, detail: string) => {
    priv.calls.push(`${op}${detail}`);
    if (options.fail && op in options.fail) throw options.fail[op];
  };
  const page = (buf: DmaBuf<MemoryStorage>, n: number) => buf.priv.bytes.subarray(n * PAGE_SIZE, Math.min(buf.size, (n + 1) * PAGE_SIZE));
  const ops: DmaBufOps<MemoryStorage> = {
    attach: (_buf, attachment) => { failing('attach', ` ${attachment.device.label}`); },
    detach: (_buf, attachment) => { failing('detach', ` ${attachment.device.label}`); },
    mapDmaBuf: async (attachment, dir: DmaDirection) => {
      await Promise.resolve();
      failing('mapDmaBuf', ` ${dir}`);
      return { segments: [{ buffer: { label: 'memory segment' } as GPUBuffer, offset: 0, length: attachment.dmabuf.size }] };
    },
    unmapDmaBuf: async (_attachment, _sgt, dir) => {
      await Promise.resolve();
      failing('unmapDmaBuf', ` ${dir}`);
    },
    release: () => { failing('release', ''); },
    beginCpuAccess: async (_buf, start, len, dir) => {
      await Promise.resolve();
      failing('beginCpuAccess', ` ${start} ${len} ${dir}`);
    },
    endCpuAccess: (_buf, start, len, dir) => { failing('endCpuAccess', ` ${start} ${len} ${dir}`); },
    kmap: (buf, n) => {
      failing('kmap', ` ${n}`);
      return page(buf, n);
    },
    kmapAtomic: (buf, n) => {
      failing('kmapAtomic', ` ${n}`);
      return page(buf, n);
    },
    kunmap: (_buf, n) => { failing('kunmap', ` ${n}`); },
    kunmapAtomic: (_buf, n) => { failing('kunmapAtomic', ` ${n}`); },
  };
  for (const op of options.omit ?? []) Reflect.deleteProperty(ops, op);
  return exportDmaBuf({ priv, ops, size, exporter: 'memory', ...(options.name === undefined ? {} : { name: options.name }) });
}
