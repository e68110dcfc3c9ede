// The sealed contract: an importer holding only an fd reaches the exporter's storage through
// map and nothing else. Every object reachable from what it holds (its fd table, the buffer,
// its attachment, the reservation, the debug listings, sync-file fences) is walked: own and
// inherited properties, getters included, and the contents of arrays, maps and sets. No
// GPUBuffer, no heap and no exporter's private data turns up before a map; after one, the
// table leads to the buffers (so the walk does find them where they are).
import { describe, expect, test } from 'vitest';
import { bufinfo, bufinfoEntries, FdTable, GpuHeap, PAGE_SIZE } from 'webgpu-dmabuf';
import { heapFixture } from './gpu-helpers.js';

const f = heapFixture();

/** What a walk found: every object reached, and the path to the first of each kind asked about. */
interface Walk {
  readonly seen: Set<unknown>;
  find(predicate: (value: unknown) => boolean): string | undefined;
}

/**
 * Every value reachable from `roots` by reading properties, as any module could: own and
 * prototype properties (getters called on the object they were reached from), symbols too,
 * and the contents of arrays, maps and sets. Methods are not called. The shared prototypes
 * of the language (Object, Function) are not walked: they lead to the whole realm.
 */
function walk(roots: Record<string, unknown>): Walk {
  const seen = new Set<unknown>();
  const paths = new Map<unknown, string>();
  const stop = new Set<unknown>([Object.prototype, Function.prototype, globalThis]);
  const queue: [unknown, string][] = Object.entries(roots).map(([path, value]) => [value, path]);
  const visit = (value: unknown, path: string) => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value) || stop.has(value)) return;
    seen.add(value);
    paths.set(value, path);
    queue.push([value, path]);
  };
  for (let item = queue.shift(); item; item = queue.shift()) {
    const [value, path] = item;
    visit(value, path);
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) continue;
    // Views: their bytes are numbers; their buffer is reachable as a property.
    const isView = ArrayBuffer.isView(value);
    for (let owner: object | null = value; owner && !stop.has(owner); owner = Object.getPrototypeOf(owner) as object | null) {
      if (owner !== value) visit(owner, `${path}.[[Prototype]]`);
      for (const key of Reflect.ownKeys(owner)) {
        if (isView && typeof key === 'string' && /^\d+$/.test(key)) continue;
        const descriptor = Reflect.getOwnPropertyDescriptor(owner, key);
        const name = `${path}.${String(key)}`;
        if (descriptor && 'value' in descriptor) visit(descriptor.value, name);
        else if (descriptor?.get) {
          try {
            const got: unknown = Reflect.apply(descriptor.get, value, []);
            // A promise getter read on a prototype rejects instead of throwing: that rejection is the walk's own.
            if (got instanceof Promise) got.catch(() => undefined);
            visit(got, name);
          } catch {
            // A getter for another kind of object (reached through a prototype): nothing behind it.
          }
        }
      }
    }
    if (value instanceof Map) for (const [k, v] of value) { visit(k, `${path}{key}`); visit(v, `${path}{value}`); }
    if (value instanceof Set) for (const v of value) visit(v, `${path}{member}`);
  }
  return { seen, find: (predicate) => [...seen].filter(predicate).map((v) => paths.get(v) ?? '?')[0] };
}

const isGpuBuffer = (value: unknown) => value instanceof GPUBuffer;
const isHeap = (value: unknown) => value instanceof GpuHeap;

describe('the walk itself', () => {
  test('finds a GPUBuffer behind a prototype getter, in a Map, in a Set and in a frozen array', () => {
    const buffer = f.importer.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE });
    class Holder {
      readonly #buffer = buffer;
      get held(): GPUBuffer {
        return this.#buffer;
      }
    }
    expect(walk({ holder: new Holder() }).find(isGpuBuffer)).toBe('holder.held');
    expect(walk({ map: new Map([['k', { buffer }]]) }).find(isGpuBuffer)).toBe('map{value}.buffer');
    expect(walk({ set: new Set([buffer]) }).find(isGpuBuffer)).toBe('set{member}');
    expect(walk({ list: Object.freeze([{ buffer }]) }).find(isGpuBuffer)).toBe('list.0.buffer');
    buffer.destroy();
  });
});

describe('an importer given only an fd reaches no GPUBuffer but through map', () => {
  test.each([['another device', 'importer'], ["the exporter's own device", 'exporter']] as const)(
    'on %s: nothing reachable from its fd table, buffer, attachment, reservation, listings or fences is a GPUBuffer, a heap or the exporter\'s storage',
    async (_, which) => {
      // The exporter's module: a buffer with bytes in its storage, a mirror already made, CPU staging live.
      const exporterTable = new FdTable();
      const heap = f.heap;
      const own = heap.allocate(3 * PAGE_SIZE + 5, { name: 'sealed' });
      const fd = exporterTable.install(own);
      own.put();

      // The importer's module: only an fd in its own table.
      const importerTable = new FdTable();
      const theirFd = exporterTable.send(fd, importerTable);
      const buf = importerTable.get(theirFd);
      const device = f[which];
      const attachment = buf.attach(device);
      // A map and unmap first, so that a mirror (or the storage) exists behind the attachment.
      await attachment.unmap(await attachment.map('bidirectional'), 'bidirectional');
      await buf.beginCpuAccess(0, PAGE_SIZE, 'bidirectional');
      const page = buf.kmap(0);

      const reached = walk({
        importerTable,
        buf,
        attachment,
        resv: buf.resv,
        fences: buf.exportSyncFile('rw'),
        entries: bufinfoEntries(),
        listing: bufinfo(),
        bufInfo: buf.bufInfo(),
        stats: attachment.stats(),
        page,
      });
      expect(reached.seen.has(buf.resv)).toBe(true);
      expect(reached.seen.has(device)).toBe(true);
      expect(reached.find(isGpuBuffer), 'a GPUBuffer is reachable').toBeUndefined();
      expect(reached.find(isHeap), 'the heap is reachable').toBeUndefined();
      expect(reached.find((v) => typeof v === 'object' && v !== null && 'segments' in v && 'heap' in v), "the exporter's storage is reachable").toBeUndefined();
      expect(Object.getOwnPropertyNames(buf)).not.toContain('priv');
      expect('priv' in buf).toBe(false);
      expect('attachments' in buf).toBe(false);
      expect('markDetached' in attachment).toBe(false);

      // Through map, and only there, the segments are reachable: the walk finds them (a table of
      // one segment also gives its buffer as sgt.buffer).
      const sgt = await attachment.map('to-device');
      expect(walk({ sgt }).find(isGpuBuffer)).toMatch(/^sgt\.(buffer|segments\.0\.buffer)$/);
      expect(walk({ buf, attachment }).find(isGpuBuffer)).toBeUndefined();
      await attachment.unmap(sgt, 'to-device');

      buf.kunmap(0, page);
      buf.endCpuAccess(0, PAGE_SIZE, 'bidirectional');
      buf.detach(attachment);
      buf.put();
      importerTable.close(theirFd);
      exporterTable.close(fd);
    },
  );
});
