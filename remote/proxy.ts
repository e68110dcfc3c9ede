/**
 * A remote buffer in the importing realm: a dma-buf exported here by a proxy exporter whose
 * ops forward to the exporter's realm as byte RPCs over the connection the buffer came by.
 * To the importer it is a dma-buf like any other (references, attachments, maps, CPU access,
 * its own reservation, the debug listing). CPU access keeps local pages (`proxy-pages.ts`);
 * maps keep a mirror per attachment on the importer's device (the socket's device access).
 */
import type { DmaDirection } from '../src/direction.js';
import { exportDmaBuf, type DmaBuf } from '../src/dma-buf.js';
import type { DmaBufOps } from '../src/ops.js';
import { uncounted, type CountCopy } from './cpu-copies.js';
import type { RemoteBytes, RemoteDeviceAccess, RemoteWrite } from './device-access.js';
import type { GrantInfo } from './protocol.js';
import { ProxyPages } from './proxy-pages.js';

/** What a proxy needs of the connection it came by. */
export interface ProxyLink {
  /** Throws `ENODEV` naming `call` once the exporter's realm is gone. */
  check(call: string): void;
  /** The read RPC on grant `grant`, streamed as {@link RemoteBytes.read} says. */
  read(grant: number, start: number, len: number, into: (at: number, chunk: Uint8Array) => void): Promise<void>;
  /** The write RPC on grant `grant`; `bytes` are read until it settles. */
  write(grant: number, start: number, bytes: Uint8Array): Promise<void>;
  /** The proxy's last local reference is gone: give its receipts of the grant back. */
  released(proxy: ProxyRecord): void;
  /** Counts the payload bytes this realm copies for the proxy (its pages, its device side). Default: not counted. */
  readonly copied?: CountCopy;
}

/** A proxy as its connection sees it. */
export interface ProxyRecord {
  /** The proxy buffer of this realm. */
  readonly buf: DmaBuf;
  /** The grant it stands for, on its connection. */
  readonly grant: number;
  /** How many sends of the grant this realm took (each given back at release). */
  receipts: number;
}

/** The proxy exporter's private data (a dma-buf requires one). */
interface ProxyPriv {
  readonly pages: ProxyPages;
}

/**
 * Makes the proxy of the buffer `info` describes, served over `link`. The caller owns its
 * one reference and the returned record is the connection's.
 */
export function createProxy(info: GrantInfo, link: ProxyLink, access: RemoteDeviceAccess): ProxyRecord {
  // The buffer exists only once exported, and its ops need its reservation: filled in below.
  const self: { buf?: DmaBuf } = {};
  const ordered = <T>(usage: 'read' | 'write', run: () => Promise<T>): { turn: () => Promise<T>; cancel: () => void } => {
    const buf = self.buf;
    if (!buf) throw new Error('createProxy: the proxy is not exported yet');
    const turn = buf.resv.enter(usage);
    return {
      turn: async () => {
        try {
          if (turn.ready) await turn.ready;
          buf.resv.check(usage);
          link.check(usage);
          // Posted within this turn: the connection's FIFO keeps the order from here. Its
          // fence signals with the answer: the work is done in the exporter's realm then.
          const answer = run();
          turn.done(answer);
          return await answer;
        } finally {
          turn.done();
        }
      },
      cancel: () => {
        turn.done();
      },
    };
  };
  const bytes: RemoteBytes = {
    size: info.size,
    layout: info.layout,
    read: (start, len, into) => ordered('read', () => link.read(info.grant, start, len, into)).turn(),
    reserveWrite: (): RemoteWrite => {
      let data: { start: number; bytes: Uint8Array } | undefined;
      const place = ordered('write', () => (data ? link.write(info.grant, data.start, data.bytes) : Promise.resolve()));
      return {
        write: (start, out) => {
          data = { start, bytes: out };
          return place.turn();
        },
        cancel: place.cancel,
      };
    },
    copied: link.copied ?? uncounted,
  };
  const device = access.forBuffer(bytes);
  const pages = new ProxyPages(bytes);
  const ops: DmaBufOps<ProxyPriv> = {
    attach: (_priv, _buf, attachment) => {
      link.check('attach');
      device.attach(attachment);
    },
    detach: (_priv, _buf, attachment) => {
      device.detach(attachment);
    },
    mapDmaBuf: (_priv, attachment, dir: DmaDirection) => {
      link.check('map');
      return device.map(attachment, dir);
    },
    unmapDmaBuf: (_priv, attachment, sgt, dir, until) => {
      link.check('unmap');
      return device.unmap(attachment, sgt, dir, until);
    },
    release: () => {
      pages.release();
      device.release();
      link.released(record);
    },
    beginCpuAccess: (_priv, _buf, start, len, dir) => {
      link.check('beginCpuAccess');
      return pages.begin(start, len, dir);
    },
    endCpuAccess: (_priv, _buf, start, len, dir) => {
      pages.end(start, len, dir);
    },
    kmap: (_priv, _buf, page) => pages.page(page),
    kmapAtomic: (_priv, _buf, page) => pages.page(page),
    vmap: () => pages.whole(),
    // Each takes its place in the proxy's reservation as it is called, as the pages' accesses do.
    read: (_priv, _buf, start, into) =>
      bytes.read(start, into.length, (at, chunk) => {
        into.set(chunk, at);
        bytes.copied(chunk.length);
      }),
    write: (_priv, _buf, start, data) => bytes.reserveWrite().write(start, data),
  };
  const buf = exportDmaBuf<ProxyPriv>({ priv: { pages }, ops, size: info.size, exporter: info.exporter, layout: info.layout, ...(info.name === null ? {} : { name: info.name }) });
  self.buf = buf;
  const record: ProxyRecord = { buf, grant: info.grant, receipts: 1 };
  return record;
}
