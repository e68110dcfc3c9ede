// The commands of one realm (the page or a worker) that the two-realm model tests drive: the
// same code runs in the page, called directly, and in a module worker
// (fixtures/realm-worker.ts), called by message. Each command makes at most one library
// call on a buffer, synchronously when it runs, so the order in which the page issues them
// is the order the calls are made in that realm. Stateful commands take an `id` the page
// chooses (a CPU access, an attachment), so the page can issue the next step before the
// answer to the last one comes. No vitest here: a worker imports it too.
import { bufinfoEntries, PAGE_SIZE, type BufInfoEntry, type DmaBuf, type DmaBufAttachment, type DmaDirection, type FdSocket, type FdTable, type GpuHeap, type GpuHeapStats, type SgTable } from 'webgpu-dmabuf';
import { fillWithShader } from '../gpu/shader-pattern.js';

/** What a realm's commands work on: its fd table, its socket to the other realm, its devices and its heap (on `devices[0]`). */
export interface RealmContext {
  readonly table: FdTable;
  readonly socket: FdSocket;
  readonly devices: readonly GPUDevice[];
  readonly heap: GpuHeap;
}

/** Arguments of a command: plain, structured-cloneable data. */
export type CommandArgs = Record<string, unknown>;

/** What each command returns (or a promise of it): plain, structured-cloneable data. */
export type RealmCommands = Record<string, (args: CommandArgs) => unknown>;

/** A realm's listing and heap, as the model checks them. */
export interface RealmReport {
  readonly listing: readonly BufInfoEntry[];
  readonly heap: GpuHeapStats;
  readonly fds: readonly number[];
}

/** What CPU access writes at dma-buf offset `i` with `seed`. */
export function cpuByte(i: number, seed: number): number {
  return (i * 31 + seed) & 0xff;
}


/** Every byte of a mapped table, read back on `device` by hand (a staging copy per segment). */
export async function readTable(device: GPUDevice, sgt: SgTable): Promise<Uint8Array> {
  const total = sgt.segments.reduce((sum, s) => sum + s.length, 0);
  const out = new Uint8Array(total);
  for (const segment of sgt.segments) {
    const padded = Math.ceil(segment.length / 4) * 4;
    const staging = device.createBuffer({ size: padded, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(segment.buffer, segment.offset, staging, 0, padded);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    out.set(new Uint8Array(staging.getMappedRange(), 0, segment.length), segment.start);
    staging.destroy();
  }
  return out;
}


interface Access {
  readonly buf: DmaBuf;
  readonly start: number;
  readonly len: number;
  readonly dir: DmaDirection;
}

interface Attached {
  readonly buf: DmaBuf;
  readonly attachment: DmaBufAttachment;
  readonly device: GPUDevice;
  mapped?: { sgt: SgTable; dir: DmaDirection } | undefined;
}

const num = (args: CommandArgs, key: string): number => {
  const value = args[key];
  if (typeof value !== 'number') throw new Error(`command argument ${key} must be a number, got ${String(value)}`);
  return value;
};

function found<K, V>(map: Map<K, V>, key: K, what: string): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`no ${what} ${String(key)}`);
  return value;
}

/** The commands of the realm `ctx` describes. */
export function realmCommands(ctx: RealmContext): RealmCommands {
  const { table, socket, devices, heap } = ctx;
  // References taken with `get`, by the page's handle number.
  const held = new Map<number, DmaBuf>();
  const accesses = new Map<number, Access>();
  const attached = new Map<number, Attached>();
  const device = (args: CommandArgs): GPUDevice => {
    const chosen = devices[num(args, 'device')];
    if (!chosen) throw new Error(`no device ${String(args.device)}`);
    return chosen;
  };

  /** Visits `[start, start + len)` of an access page by page, even pages through kmap, odd ones through kmapAtomic. */
  const visit = (access: Access, each: (view: Uint8Array, at: number, offset: number) => void): void => {
    const { buf, start, len } = access;
    for (let page = Math.floor(start / PAGE_SIZE); page * PAGE_SIZE < start + len; page++) {
      const atomic = page % 2 === 1;
      const view = atomic ? buf.kmapAtomic(page) : buf.kmap(page);
      try {
        for (let i = Math.max(start, page * PAGE_SIZE); i < Math.min(start + len, page * PAGE_SIZE + view.length); i++) each(view, i - page * PAGE_SIZE, i);
      } finally {
        if (atomic) buf.kunmapAtomic(page, view);
        else buf.kunmap(page, view);
      }
    }
  };

  return {
    /** A new buffer of this realm's heap at an fd that is not close-on-exec (the creator's reference put). */
    export: (args) => {
      const buf = heap.allocate(num(args, 'size'), { name: String(args.name) });
      const fd = table.install(buf, { cloexec: false });
      buf.put();
      return fd;
    },
    get: (args) => {
      held.set(num(args, 'handle'), table.get(num(args, 'fd')));
    },
    put: (args) => {
      found(held, num(args, 'handle'), 'handle').put();
      held.delete(num(args, 'handle'));
    },
    close: (args) => {
      table.close(num(args, 'fd'));
    },
    send: (args) => socket.send(table, num(args, 'fd')),
    receive: () => socket.receive(table, { cloexec: false }),
    report: (): RealmReport => ({ listing: bufinfoEntries(), heap: heap.stats(), fds: table.openFds() }),
    transport: () => socket.transport,
    /** beginCpuAccess on the buffer behind `fd` (a reference of its own until `end`). */
    begin: async (args) => {
      const buf = table.get(num(args, 'fd'));
      const access = { buf, start: num(args, 'start'), len: num(args, 'len'), dir: args.dir as DmaDirection };
      try {
        await buf.beginCpuAccess(access.start, access.len, access.dir);
      } catch (error) {
        buf.put();
        throw error;
      }
      accesses.set(num(args, 'id'), access);
    },
    /** The bytes of the access's range as its windows show them; with `seed`, then writes {@link cpuByte} over the range. */
    window: (args) => {
      const access = found(accesses, num(args, 'id'), 'CPU access');
      const seen = new Uint8Array(access.len);
      const seed = args.seed;
      visit(access, (view, at, i) => {
        seen[i - access.start] = view[at] ?? 0;
        if (typeof seed === 'number') view[at] = cpuByte(i, seed);
      });
      return seen;
    },
    /** The whole buffer through vmap (the access must cover it). */
    vmap: (args) => {
      const { buf } = found(accesses, num(args, 'id'), 'CPU access');
      const view = buf.vmap();
      const copy = view.slice();
      buf.vunmap(view);
      return copy;
    },
    /** endCpuAccess; with `read`, returns the range's bytes as the windows show them just before (what a writing range sends back). */
    end: (args) => {
      const access = found(accesses, num(args, 'id'), 'CPU access');
      accesses.delete(num(args, 'id'));
      try {
        let seen: Uint8Array | undefined;
        if (args.read === true) {
          const bytes = new Uint8Array(access.len);
          visit(access, (view, at, i) => (bytes[i - access.start] = view[at] ?? 0));
          seen = bytes;
        }
        access.buf.endCpuAccess(access.start, access.len, access.dir);
        return seen;
      } finally {
        access.buf.put();
      }
    },
    /** Attaches this realm's `devices[device]` to the buffer behind `fd` (a reference of its own until `detach`). */
    attach: (args) => {
      const buf = table.get(num(args, 'fd'));
      try {
        attached.set(num(args, 'id'), { buf, attachment: buf.attach(device(args)), device: device(args) });
      } catch (error) {
        buf.put();
        throw error;
      }
    },
    map: async (args) => {
      const entry = found(attached, num(args, 'id'), 'attachment');
      const dir = args.dir as DmaDirection;
      entry.mapped = { sgt: await entry.attachment.map(dir), dir };
    },
    /** Every byte of the attachment's mapping, read on its device. */
    'read-mapping': (args) => {
      const entry = found(attached, num(args, 'id'), 'attachment');
      if (!entry.mapped) throw new Error('not mapped');
      return readTable(entry.device, entry.mapped.sgt);
    },
    /** With `seed`, a shader writes {@link shaderByte} over the mapping first; then unmap in the direction it was mapped. */
    unmap: (args) => {
      const entry = found(attached, num(args, 'id'), 'attachment');
      const mapped = entry.mapped;
      if (!mapped) throw new Error('not mapped');
      entry.mapped = undefined;
      if (typeof args.seed === 'number') fillWithShader(entry.device, mapped.sgt, args.seed);
      return entry.attachment.unmap(mapped.sgt, mapped.dir);
    },
    detach: (args) => {
      const entry = found(attached, num(args, 'id'), 'attachment');
      attached.delete(num(args, 'id'));
      try {
        entry.buf.detach(entry.attachment);
      } finally {
        entry.buf.put();
      }
    },
    /** Drops whatever a failed run left: CPU accesses ended, attachments detached, references put, every fd closed. */
    'drop-all': () => {
      for (const access of accesses.values()) {
        if (!access.buf.released) access.buf.endCpuAccess(access.start, access.len, access.dir);
        access.buf.put();
      }
      accesses.clear();
      for (const entry of attached.values()) {
        if (!entry.buf.released) entry.buf.detach(entry.attachment);
        entry.buf.put();
      }
      attached.clear();
      for (const buf of held.values()) buf.put();
      held.clear();
      table.closeAll();
    },
  };
}
