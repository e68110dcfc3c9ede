// Helpers for the pipeline components' browser tests: take frames as an importer would
// (through an fd in a table of the test's own) and read their bytes back through CPU access.
import { expect } from 'vitest';
import { FdTable, PAGE_SIZE, bufinfoEntries } from 'webgpu-dmabuf';
import { FrameEvent } from '../../elements/frame/frame-event.js';
import type { FrameInfo } from '../../elements/frame/frame-info.js';

/** A frame's bytes, copied out through `beginCpuAccess` + `kmap` of every page. */
export interface CapturedFrame {
  readonly frame: FrameInfo;
  readonly bytes: Uint8Array;
}

/** Reads the frame behind `fd` of `table` through CPU access, page by page. */
export async function readFrame(table: FdTable, fd: number): Promise<Uint8Array> {
  const buf = table.get(fd);
  try {
    await buf.beginCpuAccess(0, buf.size, 'from-device');
    const out = new Uint8Array(buf.size);
    for (let page = 0; page * PAGE_SIZE < buf.size; page++) {
      const view = buf.kmap(page);
      out.set(view, page * PAGE_SIZE);
      buf.kunmap(page, view);
    }
    buf.endCpuAccess(0, buf.size, 'from-device');
    return out;
  } finally {
    buf.put();
  }
}

/**
 * Takes the next frame `source` offers that `accept` wants (default: any), as an importer
 * with its own fd table, reads it, and gives it back.
 */
export async function nextFrame(source: EventTarget, accept: (frame: FrameInfo) => boolean = () => true): Promise<CapturedFrame> {
  const table = new FdTable();
  try {
    const lease = await new Promise<ReturnType<FrameEvent['accept']>>((resolve) => {
      const listener = (event: Event) => {
        if (!(event instanceof FrameEvent) || !accept(event.frame)) return;
        source.removeEventListener(FrameEvent.type, listener);
        resolve(event.accept(table));
      };
      source.addEventListener(FrameEvent.type, listener);
    });
    try {
      return { frame: lease.frame, bytes: await readFrame(table, lease.fd) };
    } finally {
      lease.release();
    }
  } finally {
    table.closeAll();
  }
}

/** Number of distinct values among the red bytes of an RGBA frame: a blank frame has 1. */
export function distinctReds(bytes: Uint8Array): number {
  const seen = new Set<number>();
  for (let i = 0; i < bytes.length; i += 4) seen.add(bytes[i] ?? 0);
  return seen.size;
}

/** No dma-buf is left in this page's listing. */
export function expectNoBuffers(): void {
  expect(bufinfoEntries()).toEqual([]);
}
