// Hand-written slips in the WebGPU exporter, the files only the browser tests guard: each
// entry is one plausible mistake in the ordering and coherence logic, and the browser test
// files that must catch it. `npm run test:mutation:browser` applies them one at a time to a
// scratch copy of the tree (scripts/browser-mutations.mjs, test/mutations/mutation-runner.mjs).
//
// An entry's `find` must occur exactly once in its file: when the code changes so that it no
// longer does, the run stops and says which entries to update. An entry no test can tell from
// the code carries `equivalent`, saying why; any other survivor fails the run.

/**
 * @typedef {object} Edit
 * @property {string} find
 * @property {string} replace
 */

/**
 * One slip: `find` (exactly once in `file`) becomes `replace`.
 * @typedef {object} Mutation
 * @property {string} id unique, `file-stem/what-goes-wrong`
 * @property {string} file the file it edits, relative to the repository root
 * @property {string} find the exact text it replaces
 * @property {string} replace the slip
 * @property {readonly Edit[]} [also] further edits of the same slip in the same file (each `find` also exactly once)
 * @property {string} why the rule the slip breaks, and what a caller would see
 * @property {readonly string[]} tests the browser test files that guard the rule
 * @property {string} [filter] a Vitest `-t` pattern narrowing those files' tests
 * @property {string} [equivalent] why no test can catch it (it survives without failing the run)
 */

/** CPU access: the rules of gpu/cpu-pages.ts, their overlaps and their place in the reservation. */
const CPU = Object.freeze(['test/gpu/cpu-overlap.browser.test.ts', 'test/gpu/cpu-access.browser.test.ts', 'test/gpu/implicit-sync.browser.test.ts', 'test/gpu/fenced-operations.browser.test.ts']);
/** Device access: maps and unmaps on the heap's device and on others, their transfers and mirrors. */
const DEVICE = Object.freeze([
  'test/gpu/device-access.browser.test.ts',
  'test/gpu/implicit-sync.browser.test.ts',
  'test/gpu/fenced-operations.browser.test.ts',
  'test/reliability/operations-in-flight.browser.test.ts',
]);
/** Staging reuse: what a pooled buffer may still hold when CPU access or a transfer takes it again. */
const STAGING = Object.freeze(['test/gpu/cpu-access.browser.test.ts', 'test/gpu/device-access.browser.test.ts']);
/** Lifetimes an importer names at unmap (`until`): buffers kept, later writers held, write-backs after the fence. */
const UNTIL = Object.freeze(['test/gpu/unmap-until.browser.test.ts']);
/** Remote buffers: mirrors on a worker's or the page's device of a buffer another realm exports. */
const REMOTE = Object.freeze(['test/workers/remote-buffer.browser.test.ts']);
/** Lifetimes named at unmap on a remote buffer's mirror. */
const REMOTE_UNTIL = Object.freeze(['test/workers/remote-unmap-until.browser.test.ts']);

const CPU_PAGES = 'gpu/cpu-pages.ts';
const HEAP = 'gpu/gpu-heap.ts';
const TRANSFER = 'gpu/transfer.ts';
const MIRROR = 'gpu/mirror.ts';
const POOL = 'gpu/staging-pool.ts';
const REMOTE_MIRRORS = 'gpu/remote-mirrors.ts';
const UPLOAD_PATH = 'gpu/upload-path.ts';
/** Upload paths: each size class of each device follows its measurement, at every place that uploads. */
const UPLOADS = Object.freeze(['test/gpu/upload-path.browser.test.ts']);

/** @type {readonly Mutation[]} */
export const mutations = Object.freeze([
  // --- gpu/cpu-pages.ts: directions (rule 2) ---
  {
    id: 'cpu-pages/writes-back-forgets-bidirectional',
    file: CPU_PAGES,
    find: "const writesBack = (dir: DmaDirection) => dir === 'to-device' || dir === 'bidirectional';",
    replace: "const writesBack = (dir: DmaDirection) => dir === 'to-device';",
    why: "a 'bidirectional' range is never written back: the CPU's writes are lost",
    tests: CPU,
  },
  {
    id: 'cpu-pages/reads-back-none-too',
    file: CPU_PAGES,
    find: "const readsBack = (dir: DmaDirection) => dir === 'from-device' || dir === 'bidirectional';",
    replace: "const readsBack = (dir: DmaDirection) => dir !== 'to-device';",
    why: "a 'none' range reads the storage (rule 2 says zeros), and refreshes pages others staged",
    tests: CPU,
  },
  {
    id: 'cpu-pages/small-write-exclusive',
    file: CPU_PAGES,
    find: 'length <= SMALL_WRITE_BYTES',
    replace: 'length < SMALL_WRITE_BYTES',
    why: 'a write-only range of exactly 2 MiB stages in mapped MAP_WRITE staging instead of plain memory',
    tests: CPU,
  },
  {
    id: 'cpu-pages/none-over-2mib-in-write-staging',
    file: CPU_PAGES,
    find: "const plain = !reading && (dir === 'none' || length <= SMALL_WRITE_BYTES);",
    replace: 'const plain = !reading && length <= SMALL_WRITE_BYTES;',
    why: "a 'none' range over 2 MiB takes pooled MAP_WRITE staging, which may show the buffer's own earlier CPU bytes instead of zeros",
    tests: CPU,
  },
  {
    id: 'cpu-pages/none-keeps-own-bytes',
    file: CPU_PAGES,
    find: "pool.acquireHost(length, owner, dir === 'to-device')",
    replace: 'pool.acquireHost(length, owner, true)',
    why: "a 'none' window shows the buffer's own earlier CPU bytes instead of zeros (rule 2)",
    tests: CPU,
  },
  {
    id: 'cpu-pages/dirty-staging-not-cleared',
    file: CPU_PAGES,
    find: '    if (span.dirty) new Uint8Array(bytes).fill(0);\n',
    replace: '',
    why: "a write-only window over 2 MiB in reused MAP_WRITE staging shows another buffer's bytes",
    tests: CPU,
  },
  // --- gpu/cpu-pages.ts: the reservation ---
  {
    id: 'cpu-pages/read-enters-as-write',
    file: CPU_PAGES,
    find: "const turn = reading ? resv.enter('read') : undefined;",
    replace: "const turn = reading ? resv.enter('write') : undefined;",
    why: "a reading begin waits for readers ahead (a pending 'read' fence holds it back) and holds later reads back",
    tests: CPU,
  },
  {
    id: 'cpu-pages/writer-waits-for-writers-only',
    file: CPU_PAGES,
    find: "resv.waitFor('write') : undefined;",
    replace: "resv.waitFor('read') : undefined;",
    why: "a 'to-device' begin does not wait for readers ahead: the CPU may write pages a pending read has not copied yet",
    tests: CPU,
  },
  {
    id: 'cpu-pages/write-back-ignores-readers-ahead',
    file: CPU_PAGES,
    find: '      if (!turn.ready) {',
    replace: '      if (!turn.ready || !readsBack(dir)) {',
    why: 'rule 4: a write-only range is written back at once even with a read ahead of it in the reservation, so that read sees bytes called after it',
    tests: CPU,
  },
  {
    id: 'cpu-pages/write-back-fence-signals-early',
    file: CPU_PAGES,
    find: '          this.#writeBack(range);\n          written = len;\n          turn.done(queueDone(this.#context.device));\n',
    replace: '          this.#writeBack(range);\n          written = len;\n',
    why: "an endCpuAccess written back at once signals its fence before the GPU has done the write (exportSyncFile('read') is already signalled)",
    tests: CPU,
  },
  {
    id: 'cpu-pages/snapshot-taken-at-flush',
    file: CPU_PAGES,
    find: 'this.#writeSources([copy], start, start + len);',
    replace: 'this.#writeSources(this.#sources(range), start, start + len);',
    why: 'rule 4: a write-back that waits for its turn reads the shared pages when it runs, not at the call (they may be freed or rewritten by then)',
    tests: CPU,
  },
  // --- gpu/cpu-pages.ts: rule 3, refreshes of shared pages ---
  {
    id: 'cpu-pages/shared-pages-not-refreshed',
    file: CPU_PAGES,
    find: 'if (reading) refreshes = this.#submitReads(created.map((c) => c.span), shared, coverStart, coverEnd);',
    replace: 'if (reading) refreshes = this.#submitReads(created.map((c) => c.span), [], coverStart, coverEnd);',
    why: 'rule 3: a reading range over pages already staged shows them as first staged, not the storage as of its begin',
    tests: CPU,
  },
  {
    id: 'cpu-pages/refresh-keeps-only-to-device-writers',
    file: CPU_PAGES,
    find: '...this.#active.filter((r) => writesBack(r.dir))',
    replace: "...this.#active.filter((r) => r.dir === 'to-device')",
    why: "rule 3: a refresh overwrites the CPU's bytes of an active 'bidirectional' range",
    tests: CPU,
  },
  {
    id: 'cpu-pages/refresh-forgets-ended-writers',
    file: CPU_PAGES,
    find: 'const writers = [...this.#active.filter((r) => writesBack(r.dir)), ...this.#ended.filter((e) => e.epoch > since)];',
    replace: 'const writers = this.#active.filter((r) => writesBack(r.dir));',
    why: "rule 3: a writing range that ends while a read over its pages is under way has its CPU bytes overwritten by that read's older storage bytes",
    tests: CPU,
  },
  {
    id: 'cpu-pages/refresh-keeps-writers-ended-before-it',
    file: CPU_PAGES,
    find: 'this.#ended.filter((e) => e.epoch > since)',
    replace: 'this.#ended.filter((e) => e.epoch >= since)',
    why: 'rule 3: a read keeps the CPU bytes of the last writing range that ended before it began, hiding a device write called after that end',
    tests: CPU,
  },
  {
    id: 'cpu-pages/ended-writers-cleared-by-any-refresh',
    file: CPU_PAGES,
    find: 'if (refreshing && --this.#refreshing === 0) this.#ended.length = 0;',
    replace: 'if (refreshing) {\n        this.#refreshing -= 1;\n        this.#ended.length = 0;\n      }',
    why: 'rule 3: the first of two refreshes under way to finish forgets the writing ranges ended meanwhile, and the other overwrites their CPU bytes',
    tests: CPU,
  },
  {
    id: 'cpu-pages/page-freshness-dropped',
    file: CPU_PAGES,
    find: '      if (read < (span.fresh[page] ?? 0)) kept.push([span.at + page * PAGE_SIZE, span.at + (page + 1) * PAGE_SIZE]);\n      else span.fresh[page] = read;\n',
    replace: '      span.fresh[page] = read;\n',
    why: 'rule 3: an older refresh that finishes after a newer one puts older storage bytes back on the page',
    tests: CPU,
  },
  {
    id: 'cpu-pages/retry-fails-its-staged-pages',
    file: CPU_PAGES,
    find: '        finish(retry ? undefined : error);\n',
    replace: '        finish(error);\n',
    why: 'a range that begins again (it shared pages a failed read staged) fails the pages it staged itself: reads begun together over them begin again on each other without end',
    tests: ['test/gpu/fenced-operations.browser.test.ts'],
  },
  {
    id: 'cpu-pages/failed-pages-stay-shareable',
    file: CPU_PAGES,
    find: '        if (!retry && span.staging) this.#unlist(span);\n',
    replace: '',
    why: 'pages a failed begin never staged stay listed: ranges that begin again share them again while another holds them, and never settle',
    tests: ['test/gpu/fenced-operations.browser.test.ts'],
  },
  {
    id: 'cpu-pages/failed-plain-pages-unlisted',
    file: CPU_PAGES,
    find: 'if (!retry && span.staging) this.#unlist(span);',
    replace: 'if (!retry) this.#unlist(span);',
    why: "plain memory a failed write-only begin set up is taken from the ranges that share it: a 'bidirectional' range begun meanwhile resolves with its page not staged (kmap ERANGE)",
    tests: ['test/gpu/fenced-operations.browser.test.ts'],
  },
  {
    id: 'cpu-pages/freshness-per-span',
    file: CPU_PAGES,
    find: '    for (let page = (at - span.at) / PAGE_SIZE; span.at + page * PAGE_SIZE < end; page++) {\n      if (read < (span.fresh[page] ?? 0)) kept.push([span.at + page * PAGE_SIZE, span.at + (page + 1) * PAGE_SIZE]);\n      else span.fresh[page] = read;\n    }\n',
    replace: '    if (span.fresh.some((page) => page > read)) return;\n    span.fresh.fill(read);\n',
    why: 'rule 3: freshness kept for the whole span, not per page: of two reads begun together over different parts of a staged range, the newer one finishing first drops the older one\'s refresh of every other page, and it shows bytes older than its call',
    tests: ['test/reliability/interleaved-model.browser.test.ts', 'test/gpu/cpu-overlap.browser.test.ts'],
  },
  {
    id: 'cpu-pages/page-freshness-inclusive',
    file: CPU_PAGES,
    find: 'if (read < (span.fresh[page] ?? 0)) kept.push(',
    replace: 'if (read <= (span.fresh[page] ?? 0)) kept.push(',
    why: 'rule 3: a refresh is also dropped over pages whose freshness equals its own read',
    tests: CPU,
    equivalent:
      "a page's freshness is set only by the begin that created its span or by another begin's refresh, and a begin refreshes only spans that existed before it, each once: a refresh never meets its own read number",
  },
  {
    id: 'cpu-pages/new-pages-start-unread',
    file: CPU_PAGES,
    find: 'new Uint32Array(Math.ceil(length / PAGE_SIZE)).fill(read)',
    replace: 'new Uint32Array(Math.ceil(length / PAGE_SIZE)).fill(0)',
    why: 'rule 3: a span a reading begin creates starts as read by no one',
    tests: CPU,
    equivalent:
      'a span is refreshed only by begins called after the one that created it, whose read numbers are larger than its own: the freshness of a new span is never what decides',
  },
  // --- gpu/cpu-pages.ts: shared spans (rules 1 and 5) ---
  {
    id: 'cpu-pages/span-freed-with-users-left',
    file: CPU_PAGES,
    find: 'if (span.users > 0 || span.released) return;',
    replace: 'if (span.users > 1 || span.released) return;',
    why: 'rule 5: the first range over a shared page to end gives the page back while another range still uses it',
    tests: CPU,
  },
  {
    id: 'cpu-pages/gpu-copy-of-shared-staging',
    file: CPU_PAGES,
    find: 'const own = range.spans.every((s) => s.writeStaging && s.users === 1);',
    replace: 'const own = range.spans.every((s) => s.writeStaging);',
    why: "rule 4: a write-only range over 2 MiB unmaps its staging for a GPU copy while another range still has windows on it",
    tests: CPU,
  },
  // --- gpu/cpu-pages.ts: exactly the range's bytes (rule 4) ---
  {
    id: 'cpu-pages/end-word-not-patched',
    file: CPU_PAGES,
    find: '  if (end % 4 !== 0) words.add(alignDown(end, 4));\n',
    replace: '',
    why: "rule 4: a range that ends inside a word loses its last bytes",
    tests: CPU,
  },
  {
    id: 'cpu-pages/write-back-whole-words',
    file: CPU_PAGES,
    find: '    const [from, to] = [alignUp(start, 4), alignDown(end, 4)];\n    const pieces: UploadPiece[] = [];',
    replace: '    const [from, to] = [alignDown(start, 4), alignUp(end, 4)];\n    const pieces: UploadPiece[] = [];',
    why: 'rule 4: a write-back rounds out to whole words and overwrites bytes around the range that the GPU wrote meanwhile',
    tests: CPU,
  },
  {
    id: 'cpu-pages/edge-patches-read-after-unmap',
    file: CPU_PAGES,
    find: [
      '    // The partial words are read before unmapping detaches the bytes.',
      '    const patches = edgePatches(this.#sources(range), start, end);',
      "    const encoder = device.createCommandEncoder({ label: 'dmabuf endCpuAccess' });",
    ].join('\n'),
    replace: "    const encoder = device.createCommandEncoder({ label: 'dmabuf endCpuAccess' });",
    also: [{ find: '    applyPatches(device, segments, patches);\n  }', replace: '    applyPatches(device, segments, edgePatches(this.#sources(range), start, end));\n  }' }],
    why: 'rule 4: the GPU-copy write-back (write-only, over 2 MiB) reads its partial edge words after unmapping the staging, so they land as zeros',
    tests: CPU,
  },
  // --- gpu/gpu-heap.ts: maps and unmaps in the reservation ---
  {
    id: 'gpu-heap/map-copies-when-moving-from-device',
    file: HEAP,
    find: "const turn = movesToDevice(dir) ? buf.resv.enter('read') : undefined;",
    replace: "const turn = movesFromDevice(dir) ? buf.resv.enter('read') : undefined;",
    why: "mirror rule 2: a 'to-device' map copies nothing into the mirror, a 'from-device' one copies for nothing",
    tests: DEVICE,
  },
  {
    id: 'gpu-heap/map-enters-as-write',
    file: HEAP,
    find: "const turn = movesToDevice(dir) ? buf.resv.enter('read') : undefined;",
    replace: "const turn = movesToDevice(dir) ? buf.resv.enter('write') : undefined;",
    why: "a cross-device map's copy out of the storage enters as a write: readers wait for it, and exportSyncFile('read') lists it",
    tests: DEVICE,
  },
  {
    id: 'gpu-heap/map-fence-signals-early',
    file: HEAP,
    find: 'sourceDone: () => { turn.done(queueDone(this.device)); },',
    replace: 'sourceDone: () => { turn.done(); },',
    why: "a cross-device map's fence signals once its copies are queued, not done: exportSyncFile('write') says the storage is free while the GPU still reads it",
    tests: DEVICE,
  },
  {
    id: 'gpu-heap/zero-copy-writer-skips-readers',
    file: HEAP,
    find: "buf.resv.waitFor(movesFromDevice(dir) ? 'write' : 'read')",
    replace: "buf.resv.waitFor('read')",
    why: "a same-device map that writes does not wait for reads ahead: the importer's shader overwrites bytes a cross-device map is still copying",
    tests: DEVICE,
  },
  {
    id: 'gpu-heap/unmap-copies-when-moving-to-device',
    file: HEAP,
    find: '    if (!writes) return 0;\n    const guard',
    replace: '    if (!movesToDevice(dir)) return 0;\n    const guard',
    why: "mirror rule 2: a 'from-device' unmap does not bring the importer's writes back; a 'to-device' one copies stale mirror bytes over the storage",
    tests: DEVICE,
  },
  {
    id: 'gpu-heap/unmap-counts-tables-only-when-copying',
    file: HEAP,
    find: '    mirror.tables -= 1;\n    if (until) mirror.holds.add(until);\n    if (!writes) return 0;',
    replace: '    if (until) mirror.holds.add(until);\n    if (!writes) return 0;\n    mirror.tables -= 1;',
    why: "mirror rules 4 and 5: a 'to-device' unmap leaves its table counted, so the mirror is destroyed at detach instead of kept idle",
    tests: DEVICE,
  },
  {
    id: 'gpu-heap/unmap-enters-as-read',
    file: HEAP,
    find: "const turn = buf.resv.enter('write');",
    replace: "const turn = buf.resv.enter('read');",
    why: "an unmap's write into the storage enters as a read: reads called after it do not wait for it, nor it for reads before it",
    tests: DEVICE,
  },
  {
    id: 'gpu-heap/unmap-writes-without-its-turn',
    file: HEAP,
    find: '{ guard, beforeWrite: () => turn.ready }',
    replace: '{ guard }',
    why: "an unmap writes into the storage as soon as its bytes arrive, before a read called earlier (a chunked map on a third device) has copied them",
    tests: DEVICE,
  },
  {
    id: 'gpu-heap/unmap-fence-signals-early',
    file: HEAP,
    find: '      turn.done(queueDone(this.device));\n      return buf.size;',
    replace: '      turn.done();\n      return buf.size;',
    why: "an unmap's fence signals once its writes are queued, not done: exportSyncFile('read') says the storage is written while the GPU still writes it",
    tests: DEVICE,
  },
  // --- gpu/transfer.ts ---
  {
    id: 'transfer/source-done-after-first-chunk',
    file: TRANSFER,
    find: 'if (at + chunkLen >= end) turns.sourceDone?.();',
    replace: 'turns.sourceDone?.();',
    why: 'a chunked copy out of the storage gives up its read turn after its first chunk: a writer called after it changes bytes it has not copied yet',
    tests: DEVICE,
  },
  {
    id: 'transfer/write-turn-not-awaited',
    file: TRANSFER,
    find: '        if (turn) await turn;',
    replace: '        if (turn) void turn.catch(() => undefined);',
    why: "a transfer into the storage does not wait for its write turn: an unmap's bytes land before a read called earlier has copied the old ones",
    tests: DEVICE,
  },
  {
    id: 'transfer/no-guard-before-write',
    file: TRANSFER,
    find: '      turns.guard();\n      const bytes = new Uint8Array(current.staging.getMappedRange(0, current.len));',
    replace: '      const bytes = new Uint8Array(current.staging.getMappedRange(0, current.len));',
    why: 'a transfer whose buffer was released while a chunk was mapped still writes it (into destroyed storage, or a mirror now idle)',
    tests: DEVICE,
  },
  {
    id: 'transfer/chunk-in-flight-leaked',
    file: TRANSFER,
    find: 'for (const chunk of [current, next]) {',
    replace: 'for (const chunk of [current]) {',
    why: 'a failed transfer never gives back the staging of the chunk in flight behind the current one',
    tests: DEVICE,
  },
  // --- gpu/mirror.ts ---
  {
    id: 'mirror/dirty-cleared-when-overwritten',
    file: MIRROR,
    find: 'if (idle.dirty && !movesToDevice(dir)) {',
    replace: 'if (idle.dirty && movesToDevice(dir)) {',
    why: "mirror rule 1: a reused mirror is cleared when the map overwrites it anyway, and left dirty when it does not: a 'from-device' map shows the last buffer's bytes",
    tests: DEVICE,
  },
  {
    id: 'mirror/dirty-cleared-only-for-from-device',
    file: MIRROR,
    find: 'if (idle.dirty && !movesToDevice(dir)) {',
    replace: "if (idle.dirty && dir === 'from-device') {",
    why: "mirror rule 1: a reused mirror mapped 'none' is not cleared and shows the last buffer's bytes",
    tests: DEVICE,
  },
  {
    id: 'mirror/new-mirror-every-map',
    file: MIRROR,
    find: '    const known = mirrors.get(attachment);\n    if (known) return known;\n',
    replace: '',
    why: 'mirror rule 3: every map of one attachment makes a new mirror: the GPUBuffers an importer bound go stale',
    tests: DEVICE,
  },
  {
    id: 'mirror/retire-ignores-transfers',
    file: MIRROR,
    find: 'const inUse = mirror.tables > 0 || mirror.transfers > 0;',
    replace: 'const inUse = mirror.tables > 0;',
    why: 'mirror rule 5: a mirror that a transfer may still write is kept idle at release and handed to the next buffer',
    tests: DEVICE,
  },
  // --- gpu/staging-pool.ts ---
  {
    id: 'staging-pool/reused-write-staging-keeps-old-owner',
    file: POOL,
    find: '      const dirty = this.#owners.get(reused.buffer) !== owner;\n      this.#setOwner(reused.buffer, owner);\n',
    replace: '      const dirty = this.#owners.get(reused.buffer) !== owner;\n',
    why: "reused staging keeps its first owner: that buffer takes it back as clean and its write-only window shows the bytes another buffer left",
    tests: STAGING,
  },
  {
    id: 'staging-pool/host-memory-kept-for-none',
    file: POOL,
    find: 'if (!keepOwn || owner === undefined || this.#hostOwners.get(reused) !== owner) new Uint8Array(reused).fill(0);',
    replace: 'if (owner === undefined || this.#hostOwners.get(reused) !== owner) new Uint8Array(reused).fill(0);',
    why: "plain memory goes back unzeroed to its last owner whatever the window: a 'none' window shows the buffer's earlier CPU bytes",
    tests: STAGING,
  },
  // --- unmap(sgt, dir, { until }): gpu/gpu-heap.ts and gpu/mirror.ts ---
  {
    id: 'gpu-heap/until-ignored-on-own-device',
    file: HEAP,
    find: "        buf.resv.addFence(until, writes ? 'write' : 'read');\n",
    replace: '',
    why: "on the exporter's device the producer's next write lands before the importer's held work runs: it computes on the next frame",
    tests: UNTIL,
  },
  {
    id: 'gpu-heap/until-on-own-device-always-read',
    file: HEAP,
    find: "        buf.resv.addFence(until, writes ? 'write' : 'read');",
    replace: "        buf.resv.addFence(until, 'read');",
    why: "a CPU read called after a zero-copy 'from-device' unmap does not wait for the importer's held write: it sees the bytes from before it",
    tests: UNTIL,
  },
  {
    id: 'gpu-heap/map-writes-held-mirror',
    file: HEAP,
    find: '          beforeWrite: () => mirror.holds.released(),\n',
    replace: '',
    why: "the next map's transfer overwrites a mirror the importer's held work still reads: it computes on the next frame",
    tests: UNTIL,
  },
  {
    id: 'gpu-heap/write-back-before-until',
    file: HEAP,
    find: '      const importerDone = until ? turn.ready : undefined;',
    replace: '      const importerDone = undefined;',
    why: "a 'from-device' unmap copies the mirror before the importer's held write ran: the storage gets zeros, and reads after the unmap see them",
    tests: UNTIL,
  },
  {
    id: 'gpu-heap/storage-destroyed-under-until',
    file: HEAP,
    find: '    storage.holds.whenReleased(() => {',
    replace: '    ((then: () => void) => { then(); })(() => {',
    why: "releasing the buffer destroys the storage that the importer's held work on the exporter's device still reads: its submit fails",
    tests: UNTIL,
  },
  {
    id: 'mirror/retire-ignores-holds',
    file: MIRROR,
    find: '    mirror.holds.whenReleased(() => {',
    replace: '    ((then: () => void) => { then(); })(() => {',
    why: "a held mirror goes idle at detach (the next attachment of the same size overwrites it) or is destroyed at release under the importer's held work",
    tests: UNTIL,
  },
  {
    id: 'gpu-heap/wrap-destroys-owners-buffer',
    file: HEAP,
    find: '      if (!handBack) return;',
    replace: '      buffer.destroy();\n      if (!handBack) return;',
    why: "the heap destroys a wrapped buffer at release: the library that owns it loses its own buffer",
    tests: ['test/gpu/wrap.browser.test.ts'],
  },
  // --- DmaBuf.read / DmaBuf.write: gpu/gpu-heap.ts and gpu/cpu-pages.ts ---
  {
    id: 'gpu-heap/read-enters-late',
    file: HEAP,
    find: "    const turn = buf.resv.enter('read');\n    const from = alignDown(start, 4);",
    replace: "    await new Promise((resolve) => setTimeout(resolve, 0));\n    const turn = buf.resv.enter('read');\n    const from = alignDown(start, 4);",
    why: 'buf.read takes its place after its call: a write called after it lands first, and the read returns bytes of the future',
    tests: ['test/gpu/typed-access.browser.test.ts'],
  },
  {
    id: 'cpu-pages/write-enters-late',
    file: CPU_PAGES,
    find: "  async write(start: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {\n    const turn = this.#context.buf.resv.enter('write');",
    replace: "  async write(start: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {\n    await new Promise((resolve) => setTimeout(resolve, 0));\n    const turn = this.#context.buf.resv.enter('write');",
    why: 'buf.write takes its place after its call: a map or read called right after it misses its bytes',
    tests: ['test/gpu/typed-access.browser.test.ts'],
  },
  // --- attach(device, { contiguous: true }) ---
  {
    id: 'gpu-heap/contiguous-attach-maps-split-storage',
    file: HEAP,
    find: '  return attachment.device === heapDevice && !(attachment.contiguous && storage.segments.length > 1);',
    replace: '  return attachment.device === heapDevice;',
    why: "an importer on the heap's device that asked for one buffer gets the split storage: sgt.buffer throws and a library taking one buffer cannot bind it",
    tests: ['test/gpu/importer-api.browser.test.ts'],
    filter: 'contiguous: true',
  },
  {
    id: 'gpu-heap/contiguous-attach-mirror-split',
    file: HEAP,
    find: '    const layout = attachment.contiguous ? { contiguous: true, align: storage.layout.align } : storage.layout;',
    replace: '    const layout = storage.layout;',
    why: 'a mirror for an attachment that asked for one buffer is cut as the storage is: several segments',
    tests: ['test/gpu/importer-api.browser.test.ts'],
    filter: 'contiguous: true',
  },
  // --- gpu/upload-path.ts ---
  {
    id: 'upload-path/class-bound-exclusive',
    file: UPLOAD_PATH,
    find: 'const index = UPLOAD_CLASS_BYTES.findIndex((max) => bytes <= max);',
    replace: 'const index = UPLOAD_CLASS_BYTES.findIndex((max) => bytes < max);',
    why: 'an upload of exactly 64 KiB (1 MiB, 16 MiB) goes by the path of the next class up, not the one its measurement chose for it',
    tests: UPLOADS,
  },
  {
    id: 'upload-path/measurement-ignored',
    file: UPLOAD_PATH,
    find: '  return state.paths[sizeClass] ?? DEFAULT_PATH;',
    replace: '  return DEFAULT_PATH;',
    why: 'every upload goes by writeBuffer whatever the device measured: the slow path where staging is several times faster',
    tests: UPLOADS,
  },
  {
    id: 'upload-path/small-uploads-measure',
    file: UPLOAD_PATH,
    find: "  if (state.source === 'default' && sizeClass > 0) {",
    replace: "  if (state.source === 'default') {",
    why: "a device's first upload of a few pages starts the measurement: MiBs of probe uploads on every device that only ever moves pages",
    tests: UPLOADS,
  },
  {
    id: 'upload-path/staging-without-margin',
    file: UPLOAD_PATH,
    find: 'staging >= STAGING_MARGIN * (measurement.writeBuffer[k] ?? 0)',
    replace: 'staging > (measurement.writeBuffer[k] ?? 0)',
    why: 'a class whose staging measured barely faster than writeBuffer (within the noise) flips to staging: an extra buffer and GPU copy per upload for nothing',
    tests: UPLOADS,
  },
  {
    id: 'upload-path/staged-pieces-share-offset',
    file: UPLOAD_PATH,
    find: 'encoder.copyBufferToBuffer(staging, at, p.buffer, p.offset, p.length);',
    replace: 'encoder.copyBufferToBuffer(staging, 0, p.buffer, p.offset, p.length);',
    why: "a staged upload cut at a segment bound copies every piece from the start of the staging buffer: the second segment gets the first one's bytes",
    tests: UPLOADS,
  },
  {
    id: 'upload-path/staging-destroyed-before-submit',
    file: UPLOAD_PATH,
    find: '  device.queue.submit([encoder.finish()]);\n  staging.destroy();',
    replace: '  staging.destroy();\n  device.queue.submit([encoder.finish()]);',
    why: 'the staging buffer is destroyed before the copy out of it is submitted: the submit fails and the bytes never land',
    tests: UPLOADS,
  },
  {
    id: 'upload-path/measurement-overrides-injected',
    file: UPLOAD_PATH,
    find: "        if (state.source !== 'measuring') return;\n",
    replace: '',
    why: 'a measurement under way when another is injected replaces it when it ends: the injected choice holds only for a while',
    tests: UPLOADS,
  },
  {
    id: 'upload-path/measured-again-every-upload',
    file: UPLOAD_PATH,
    find: "  if (state.source === 'default' && sizeClass > 0) {",
    replace: "  if (state.source !== 'injected' && sizeClass > 0) {",
    why: 'every upload starts a new measurement of its device: MiBs of probe uploads queued ahead of the work, each time',
    tests: UPLOADS,
  },
  {
    id: 'transfer/upload-ignores-path',
    file: TRANSFER,
    find: '      upload(to.device, [...segmentPieces(to.segments, chunkStart, current.len)].map((piece) => ({ buffer: piece.buffer, offset: piece.offset, data: bytes.subarray(piece.at - chunkStart), length: piece.length })));',
    replace: '      for (const piece of segmentPieces(to.segments, chunkStart, current.len)) to.device.queue.writeBuffer(piece.buffer, piece.offset, bytes, piece.at - chunkStart, piece.length);',
    why: "a transfer writes its chunks into the destination with writeBuffer whatever the destination device measured",
    tests: UPLOADS,
    filter: 'transfers follow',
  },
  {
    id: 'cpu-pages/write-back-ignores-upload-path',
    file: CPU_PAGES,
    find: '    upload(device, pieces);\n    applyPatches(device, segments, edgePatches(sources, start, end));',
    replace: '    for (const p of pieces) device.queue.writeBuffer(p.buffer, p.offset, p.data, 0, p.length);\n    applyPatches(device, segments, edgePatches(sources, start, end));',
    why: "a CPU write-back and a typed write go by writeBuffer whatever the heap's device measured",
    tests: UPLOADS,
    filter: 'CPU writes follow',
  },
  {
    id: 'remote-mirrors/upload-ignores-path',
    file: REMOTE_MIRRORS,
    find: '  upload(device, pieces);\n}',
    replace: '  for (const p of pieces) device.queue.writeBuffer(p.buffer, p.offset, p.data, 0, p.length);\n}',
    why: "a remote buffer's mirror is filled with writeBuffer whatever its device measured",
    tests: ['test/gpu/upload-path-remote.browser.test.ts'],
  },
  // --- gpu/remote-mirrors.ts ---
  {
    id: 'remote-mirrors/unmap-copies-when-moving-to-device',
    file: REMOTE_MIRRORS,
    find: '    if (!movesFromDevice(dir)) return 0;',
    replace: '    if (!movesToDevice(dir)) return 0;',
    why: "a remote buffer's 'from-device' unmap does not send the importer's writes back to the exporter's realm",
    tests: REMOTE,
  },
  {
    id: 'remote-mirrors/map-copies-when-moving-from-device',
    file: REMOTE_MIRRORS,
    find: '    if (movesToDevice(dir)) {',
    replace: '    if (movesFromDevice(dir)) {',
    why: "a remote buffer's 'to-device' map leaves the mirror without the exporter's bytes",
    tests: REMOTE,
  },
  {
    id: 'remote-mirrors/new-mirror-every-map',
    file: REMOTE_MIRRORS,
    find: '    const known = this.#mirrors.get(attachment);\n    if (known) return known;\n',
    replace: '',
    why: 'every map of a remote attachment makes a new mirror: the GPUBuffers the importer bound go stale, and the old ones leak',
    tests: REMOTE,
  },
  {
    id: 'remote-mirrors/map-writes-held-mirror',
    file: REMOTE_MIRRORS,
    find: '      const held = this.#holds.get(attachment)?.released();',
    replace: '      const held = undefined as Promise<void> | undefined;',
    why: "a remote buffer's next map fills a mirror the importer's held work still reads: it computes on the next frame",
    tests: REMOTE_UNTIL,
  },
  {
    id: 'remote-mirrors/write-back-before-until',
    file: REMOTE_MIRRORS,
    find: '        await until.wait();\n        if (until.error) throw until.error;\n',
    replace: '',
    why: "a remote buffer's 'from-device' unmap sends the mirror before the importer's held write ran (or after it failed): the exporter's realm gets stale bytes",
    tests: REMOTE_UNTIL,
  },
  {
    id: 'remote-mirrors/mirror-destroyed-under-until',
    file: REMOTE_MIRRORS,
    find: '    if (holds) holds.whenReleased(() => { destroySegments(segments); });',
    replace: '    if (holds) destroySegments(segments);',
    why: "releasing a remote buffer destroys the mirror under the importer's held work: its submit fails",
    tests: REMOTE_UNTIL,
  },
  {
    id: 'remote-mirrors/contiguous-attach-ignored',
    file: REMOTE_MIRRORS,
    find: '    return attachment.contiguous ? { contiguous: true, align: layout.align } : layout;',
    replace: '    return layout;',
    why: "a worker's attachment that asked for one buffer of a buffer past its binding limit gets two segments instead of ENOMEM",
    tests: ['test/workers/remote-layout.browser.test.ts'],
  },
]);
