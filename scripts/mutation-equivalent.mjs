// Surviving mutants judged equivalent: no caller can tell the mutated code from the original,
// so no test can kill them. scripts/mutation-report.mjs lists them apart in docs/mutation.md,
// each with its reason. A note names the mutant as docs/mutation.md shows it (file, mutator,
// the code, its replacement and the line it is in, as `snippet` prints them), not by line
// number, so it outlives edits above it; a note that no longer matches any mutant is listed at
// the end of docs/mutation.md, to be updated or removed.

/**
 * @typedef {{ file: string, mutator: string, line: string, original: string, replacement: string, reason: string }} Equivalent
 */

/** The brand check's placeholder, replaced by the class's static block when the module loads, before any call. */
const PLACEHOLDER = "the placeholder is replaced by the class's static block as the module loads, before anything can call it";

/**
 * The placeholder notes of a brand check declared as `let NAME: (value: unknown) => boolean = () => false;`.
 * @param {string} file
 * @param {string} name
 * @returns {Equivalent[]}
 */
const placeholder = (file, name) => {
  const line = `let ${name}: (value: unknown) => boolean = () => false;`;
  return [
    { file, mutator: 'ArrowFunction', line, original: '() => false', replacement: '() => undefined', reason: PLACEHOLDER },
    { file, mutator: 'BooleanLiteral', line, original: 'false', replacement: 'true', reason: PLACEHOLDER },
  ];
};

/** Mutants of `waitFor`'s shortcut: a promise that settles as the original, a few microtask turns later. */
const SHORTCUT =
  "afterAll of the same waits settles as the original's one promise does (the same value, the same first error), only microtask turns later, and every caller awaits it: no order between operations changes";

/** The test of `RealmState.ungranted` before it forgets a buffer's key. */
const UNGRANTED_LINE = 'if (key !== undefined && this.#byKey.get(key) === buf) this.#byKey.delete(key);';
const UNGRANTED =
  "ungranted follows granted, which made the buffer's key and mapped it to the buffer; nothing else maps a buffer's own key (it is random, and while a grant holds the buffer alive a receipt of that key finds the buffer and makes no proxy), so the key is defined and maps to this buffer: forgetting it unconditionally is the same";

/** Where a ring exists at all: only where `canShareMemory()` found `Atomics.waitAsync`. */
const RING =
  'a ring is made only where canShareMemory() found Atomics.waitAsync, so it is never missing here: both forms call it, and what it returns is always an object';

/** A typeof test in front of a check that refuses every value of another type anyway. */
const CODES_OF_STRINGS = 'the set holds strings only and Set.has does not convert: has() of anything else is false, so the next check refuses what this one would have';

// remote/: what a connection, its proxies' pages, serve and spawnWorker leave that no caller can
// tell apart (checked against a partial run of the files they are in).

const REFUSED_AFTER_SHUTDOWN =
  "#fd refuses an fd only once this end's socket is closed, and closeSocket posted the shutdown first (at once, or first from the outbox at the handshake): the sender fails and gives back every send still waiting for an answer when the shutdown comes, so this ack finds nothing to answer, whatever it says";

const DEAD_DONE =
  "#handle is reached only through the listener, which #die removes, and the inbox's one flush, once this realm's name is known: an end that died before then had only an empty inbox (peerFailedToStart does nothing while the peer's hello waits there), and one that dies during the flush has only the peer's hello(s) left in it, which change nothing once dead (#hello answers through #postRaw, which posts nothing once dead, and heard() sets nothing up for a peer already set)";

const ENDED =
  "ended means nothing of either realm is held across and the peer has heard this end's shutdown, after which nothing here posts; dead means the peer's realm is gone, and what would still be posted then (the answer of an RPC that ran to its end) is lost with it, or reaches a peer whose connection has nothing waiting for it";

const HOLD =
  "before this realm knows its name the peer has had no hello of it, so what can come is the peer's hello only: handled at once, it is answered with a hello naming '' (which the peer's parser refuses) and opens this end as it would have; this end's own hello, posted once the name is known, is what the peer answers, and a hello handled again from the inbox changes nothing (heard() sets nothing up for a peer already set)";

const DIE_WHEN_ENDED =
  "an end ends only after its handshake, and then stops its watch and its listener: no death can reach it any more (peerFailedToStart does nothing once the peer said hello, and a realm whose name is known has no ready() left to fail)";

const NO_CONNECTIONLESS_SOCKET =
  "connectionOf is called only on a socket that passed the brand check or that spawnWorker has just made, and every FdSocket gets its connection as its constructor's last step (one whose constructor throws never reaches anyone): the error is never made";

const NO_DEVICE_ACCESS =
  'without device access, attach throws ENODEV first: no attachment exists whose map or unmap could reach these ops';

const PROXY_EXPORTED =
  'ordered is called only from the ops, which run only on the exported buffer, and self.buf is set as soon as exportDmaBuf returns, before anything can call an op';

const PAGES_MEMORY =
  "both branches detach the pages (every view of them reads as empty); the one taken decides only whether the next access reuses their memory, which shows only in a write-only window before the CPU writes it, whose bytes the contract leaves open (\"may show its own earlier CPU bytes\", as the stock exporter's may). Node 20, which runs these tests, has no ArrayBuffer.prototype.transfer";

const MICROTASK =
  'awaiting undefined only adds a microtask turn before the RPC begins: the connection hands each message over in an event of its own, and microtasks run out before the next event, so nothing the order depends on can come in between';

/** isWorker's brand test: a Worker's own onmessage getter. */
const WORKER_GETTER_LINE = "Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage')?.get?.call(value…";
const WORKER_GETTER =
  "the onmessage getter that follows refuses (throws, which the catch turns into false) everything that is not a Worker itself, and where there is no Worker at all, naming Worker.prototype throws a ReferenceError, caught the same: the shortcut gives the answer the getter gives";
const WORKER_ACCESSOR =
  "Worker.prototype.onmessage is an accessor with a getter on every platform that has Worker (an event handler attribute): both forms call it";

const ONE_ERROR_EVENT =
  'peerFailedToStart does nothing once the connection is dead or the peer has said hello: the error events after the first change nothing';

/** @type {readonly Equivalent[]} */
const REMOTE = [
  { file: 'remote/connection.ts', mutator: 'ArrayDeclaration', line: 'readonly #outbox: Message[] = [];', original: '[]', replacement: '["Stryker was here"]', reason: "a string posted from the outbox at the handshake carries the marker but no message's fields: the peer's parser refuses it, and it changes nothing there" },
  { file: 'remote/connection.ts', mutator: 'ObjectLiteral', line: "this.#postNow({ kind: 'ack', seq, ok: false });", original: "{ kind: 'ack', seq, ok: false }", replacement: '{}', reason: REFUSED_AFTER_SHUTDOWN },
  { file: 'remote/connection.ts', mutator: 'StringLiteral', line: "this.#postNow({ kind: 'ack', seq, ok: false });", original: "'ack'", replacement: '""', reason: REFUSED_AFTER_SHUTDOWN },
  { file: 'remote/connection.ts', mutator: 'BooleanLiteral', line: "this.#postNow({ kind: 'ack', seq, ok: false });", original: 'false', replacement: 'true', reason: REFUSED_AFTER_SHUTDOWN },
  { file: 'remote/connection.ts', mutator: 'StringLiteral', line: "this.#endpoint.removeEventListener('message', this.#onMessage);", original: "'message'", replacement: '""', reason: 'the connection ends only once nothing of either realm is held across it and the peer has heard its shutdown (or the peer is dead): what the peer can still post then (nothing, or a hello, whose answer #postRaw stops once ended) changes nothing, listened to or not' },
  { file: "remote/connection.ts", mutator: "StringLiteral", line: "void stream.post({ bytes, owned: false, call, part: 'request', build: (carried)\u2026", original: "'request'", replacement: "\"\"", reason: "RingStream tells only 'reply' apart: any other part goes out as a request, as 'request' does" },
  { file: "remote/connection.ts", mutator: "ConditionalExpression", line: "if (!this.#handshake.hold(message)) this.#handle(message);", original: "!this.#handshake.hold(message)", replacement: "true", reason: HOLD },
  { file: "remote/connection.ts", mutator: "ConditionalExpression", line: "if (this.#state === 'dead') return;", original: "this.#state === 'dead'", replacement: "false", reason: DEAD_DONE },
  { file: "remote/connection.ts", mutator: "StringLiteral", line: "if (this.#state === 'dead') return;", original: "'dead'", replacement: "\"\"", reason: DEAD_DONE },
  { file: "remote/connection.ts", mutator: "ConditionalExpression", line: "else if (state === 'opening' || state === 'opening-closed') this.#outbox.push(m\u2026", original: "state === 'opening' || state === 'opening-closed'", replacement: "true", reason: "the outbox is posted only at the handshake, which an end that has ended or died never reaches again: what is pushed then is never posted" },
  { file: "remote/connection.ts", mutator: "ConditionalExpression", line: "if (this.#state === 'ended' || this.#state === 'dead') return;", original: "this.#state === 'ended' || this.#state === 'dead'", replacement: "false", reason: ENDED },
  { file: "remote/connection.ts", mutator: "LogicalOperator", line: "if (this.#state === 'ended' || this.#state === 'dead') return;", original: "this.#state === 'ended' || this.#state === 'dead'", replacement: "this.#state === 'ended' && this.#state === 'dead'", reason: ENDED },
  { file: "remote/connection.ts", mutator: "ConditionalExpression", line: "if (this.#state === 'ended' || this.#state === 'dead') return;", original: "this.#state === 'ended'", replacement: "false", reason: ENDED },
  { file: "remote/connection.ts", mutator: "StringLiteral", line: "if (this.#state === 'ended' || this.#state === 'dead') return;", original: "'ended'", replacement: "\"\"", reason: ENDED },
  { file: "remote/connection.ts", mutator: "ConditionalExpression", line: "if (this.#state === 'ended' || this.#state === 'dead') return;", original: "this.#state === 'dead'", replacement: "false", reason: ENDED },
  { file: "remote/connection.ts", mutator: "StringLiteral", line: "if (this.#state === 'ended' || this.#state === 'dead') return;", original: "'dead'", replacement: "\"\"", reason: ENDED },
  { file: "remote/connection.ts", mutator: "ConditionalExpression", line: "if (this.#state === 'dead' || this.#state === 'ended') return;", original: "this.#state === 'ended'", replacement: "false", reason: DIE_WHEN_ENDED },
  { file: "remote/connection.ts", mutator: "StringLiteral", line: "if (this.#state === 'dead' || this.#state === 'ended') return;", original: "'ended'", replacement: "\"\"", reason: DIE_WHEN_ENDED },
  { file: "remote/connection.ts", mutator: "StringLiteral", line: "this.#stream.die(gone('send'));", original: "'send'", replacement: "\"\"", reason: "the reason reaches only RingWriter.write, whose rejection ends its task in the post queue, which swallows it: every caller waiting on the connection is failed by #die with an error of its own" },
  { file: "remote/handshake.ts", mutator: "ConditionalExpression", line: "if (this.#name !== undefined) return false;", original: "this.#name !== undefined", replacement: "true", reason: HOLD },
  { file: "remote/handshake.ts", mutator: "BooleanLiteral", line: "return true;", original: "true", replacement: "false", reason: HOLD },
  { file: "remote/handshake.ts", mutator: "StringLiteral", line: "return { kind: 'hello', realm: this.#name ?? '', reply, inherit, ring: this.#ow\u2026", original: "''", replacement: "\"Stryker was here!\"", reason: "a hello is made only once this realm's name is known (what comes before waits in the inbox): the '' is never used" },
  { file: "remote/ring-stream.ts", mutator: "ArrayDeclaration", line: "this.#poster.post(build({ bytes: out, shared: 0 }), [out]);", original: "[out]", replacement: "[]", reason: "what moves is the read's own copy (owned), which nothing reads once it is posted, or a copy made for the message: copying it into the message instead gives the peer the same bytes" },
  { file: "remote/write-arrays.ts", mutator: "BlockStatement", line: "} catch {", original: "{ return undefined; }", replacement: "{}", reason: "a function that ends without a return gives undefined, which is all the block returns" },
  { file: 'remote/device-access.ts', mutator: 'StringLiteral', line: "map: () => Promise.reject(new DmaBufError('ENODEV', 'map', 'this socket was mad…", original: "'ENODEV'", replacement: '""', reason: NO_DEVICE_ACCESS },
  { file: 'remote/device-access.ts', mutator: 'StringLiteral', line: "map: () => Promise.reject(new DmaBufError('ENODEV', 'map', 'this socket was mad…", original: "'this socket was made without device access'", replacement: '""', reason: NO_DEVICE_ACCESS },
  { file: 'remote/device-access.ts', mutator: 'StringLiteral', line: "map: () => Promise.reject(new DmaBufError('ENODEV', 'map', 'this socket was mad…", original: "'map'", replacement: '""', reason: NO_DEVICE_ACCESS },
  { file: 'remote/fd-socket.ts', mutator: 'StringLiteral', line: "if (!connection) throw new DmaBufError('EINVAL', 'connectionOf', `${describe(so…", original: "'EINVAL'", replacement: '""', reason: NO_CONNECTIONLESS_SOCKET },
  { file: 'remote/fd-socket.ts', mutator: 'StringLiteral', line: "if (!connection) throw new DmaBufError('EINVAL', 'connectionOf', `${describe(so…", original: '`${describe(socket, SOCKET)} is not an FdSocket`', replacement: '``', reason: NO_CONNECTIONLESS_SOCKET },
  { file: 'remote/fd-socket.ts', mutator: 'StringLiteral', line: "if (!connection) throw new DmaBufError('EINVAL', 'connectionOf', `${describe(so…", original: "'connectionOf'", replacement: '""', reason: NO_CONNECTIONLESS_SOCKET },
  { file: 'remote/proxy.ts', mutator: 'ConditionalExpression', line: "if (!buf) throw new Error('createProxy: the proxy is not exported yet');", original: '!buf', replacement: 'false', reason: PROXY_EXPORTED },
  { file: 'remote/proxy.ts', mutator: 'StringLiteral', line: "if (!buf) throw new Error('createProxy: the proxy is not exported yet');", original: "'createProxy: the proxy is not exported yet'", replacement: '""', reason: PROXY_EXPORTED },
  { file: 'remote/proxy.ts', mutator: 'ObjectLiteral', line: 'const buf = exportDmaBuf<ProxyPriv>({ priv: { pages }, ops, size: info.size, ex…', original: '{ pages }', replacement: '{}', reason: "nothing reads the proxy's priv: its ops reach the pages through their closure" },
  { file: 'remote/shared-ring.ts', mutator: 'StringLiteral', line: "if (!waiting) throw new Error('RingWriter: Atomics.waitAsync is missing');", original: "'RingWriter: Atomics.waitAsync is missing'", replacement: '""', reason: 'a ring is made only where canShareMemory() found Atomics.waitAsync, so it is never missing here: the error is never made' },
  { file: 'remote/proxy-pages.ts', mutator: 'ConditionalExpression', line: "if (typeof transferable.transfer === 'function') return transferable.transfer();", original: "typeof transferable.transfer === 'function'", replacement: 'false', reason: PAGES_MEMORY },
  { file: 'remote/proxy-pages.ts', mutator: 'StringLiteral', line: "if (typeof transferable.transfer === 'function') return transferable.transfer();", original: "'function'", replacement: '""', reason: PAGES_MEMORY },
  { file: 'remote/serve.ts', mutator: 'BlockStatement', line: '} catch {', original: '{ return undefined; }', replacement: '{}', reason: 'a function that ends without a return gives undefined, which is all the block returns' },
  { file: 'remote/serve.ts', mutator: 'ConditionalExpression', line: 'if (writes) await writes;', original: 'writes', replacement: 'true', reason: MICROTASK },
  { file: 'remote/serve.ts', mutator: 'StringLiteral', line: "copyPages(buf, start, bytes, 'bytes');", original: "'bytes'", replacement: '""', reason: "copyPages compares into with 'buffer' only: any other value copies out of the buffer, as 'bytes' does" },
  { file: 'remote/serve.ts', mutator: 'BooleanLiteral', line: 'await deliver(bytes, true);', original: 'true', replacement: 'false', reason: "the array is the read's own copy, which nothing reads once it is delivered: the connection then posts a copy of it instead of moving it, and the peer gets the same bytes" },
  { file: 'remote/serve.ts', mutator: 'ConditionalExpression', line: 'if (before) await before;', original: 'before', replacement: 'true', reason: MICROTASK },
  { file: 'remote/serve.ts', mutator: 'ConditionalExpression', line: 'if (writesEnded.get(buf) === mine) writesEnded.delete(buf);', original: 'writesEnded.get(buf) === mine', replacement: 'false', reason: "the entry left is the promise of the buffer's last write, which has settled: a later read or write awaits a settled promise, which only adds a microtask turn before the RPC begins: the connection hands each message over in an event of its own, and microtasks run out before the next event, so nothing the order depends on can come in between; the map is weak, so it keeps nothing alive" },
  { file: 'remote/spawn-worker.ts', mutator: 'ObjectLiteral', line: "worker.addEventListener('error', () => { connection.peerFailedToStart(); }, { o…", original: '{ once: true }', replacement: '{}', reason: ONE_ERROR_EVENT },
  { file: 'remote/spawn-worker.ts', mutator: 'BooleanLiteral', line: "worker.addEventListener('error', () => { connection.peerFailedToStart(); }, { o…", original: 'true', replacement: 'false', reason: ONE_ERROR_EVENT },
  { file: 'remote/spawn-worker.ts', mutator: 'ConditionalExpression', line: "if (typeof Worker === 'undefined' || !(value instanceof Worker)) return false;", original: "typeof Worker === 'undefined' || !(value instanceof Worker)", replacement: 'false', reason: WORKER_GETTER },
  { file: 'remote/spawn-worker.ts', mutator: 'OptionalChaining', line: WORKER_GETTER_LINE, original: "Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage')?.get?.call", replacement: "Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage')?.get.call", reason: WORKER_ACCESSOR },
  { file: 'remote/spawn-worker.ts', mutator: 'OptionalChaining', line: WORKER_GETTER_LINE, original: "Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage')?.get", replacement: "Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage').get", reason: WORKER_ACCESSOR },
  { file: 'remote/spawn-worker.ts', mutator: 'BlockStatement', line: '} catch {', original: '{ return false; }', replacement: '{}', reason: "isWorker then returns undefined instead of false, and every caller uses its answer as a condition only (||, if, !): undefined is as false" },
];

// src/dma-buf.ts, src/attachment.ts, src/cpu-access.ts: the buffer, its attachments and its
// CPU-access bookkeeping (checked against a partial run of each file).

/** The test in front of the pages' lists being dropped. */
const EMPTY_LISTS_LINE = 'if (this.#ranges.length === 0 && this.#kmaps === 0 && this.#atomicKmaps === 0) {';
const EMPTY_LISTS =
  "with no window outstanding every page's list is empty, and an empty list answers as a missing one (addWindow starts one, removeWindow finds nothing in either): when, and whether, the empty lists are dropped shows only in memory";

/** The test that picks pop over splice for the window removed. */
const POP_LINE = 'if (index === list.length - 1) list.pop();';
const POP = 'splice(index, 1) of the last element removes what pop() does: the test only picks the faster way';

/** The check after `createAttachment` makes its attachment. */
const CONTROL_LINE = "if (!control) throw new Error('createAttachment: the attachment gave no control…";
const CONTROL =
  "Attachment's constructor hands its control to the callback synchronously, as its last step, so the control is always there when the constructor returns; the check only tells TypeScript so";

/** An optional op called through `?.` right behind a test that it is there. */
const OP_CHECKED =
  'the call is reached only right after a test that the exporter has this op (the method throws EINVAL, or skips the call, without it), with no exporter code run in between: `?.` never finds it missing';

/** The test in front of an optional op whose call is written `?.` anyway. */
const OP_SKIPPED =
  'the call inside is written with `?.`, so without the op it calls nothing either: the test only spares the hot path the wrapper';

const KUNMAP_LINE = "if (this.#ops.kunmap) callExporter('kunmap', 'kunmap', () => { this.#ops.kunmap…";
const KUNMAP_ATOMIC_LINE = "if (this.#ops.kunmapAtomic) callExporter('kunmapAtomic', 'kunmapAtomic', () => …";
const VUNMAP_LINE = "if (view && this.#ops.vunmap) callExporter(call, 'vunmap', () => { this.#ops.vu…";
const VUNMAP_VIEW =
  "#endVmap runs only with a vmap outstanding (endCpuAccess tests this.#vmap first, vunmap refuses without one, and #vmaps reaches 0 only after vmap set it), so view is always set: the test is the exporter's vunmap op alone, and without it the `?.` call inside calls nothing either";

/** @type {readonly Equivalent[]} */
const BUFFER_CORE = [
  { file: 'src/dma-buf.ts', mutator: 'OptionalChaining', line: "await awaitExporter(call, 'read', () => this.#ops.read?.(this.#priv, this, star…", original: 'this.#ops.read?.(this.#priv, this, start, new Uint8Array(out.buffer))', replacement: 'this.#ops.read(this.#priv, this, start, new Uint8Array(out.buffer))', reason: OP_CHECKED },
  { file: 'src/dma-buf.ts', mutator: 'OptionalChaining', line: "await awaitExporter(call, 'write', () => this.#ops.write?.(this.#priv, this, st…", original: 'this.#ops.write?.(this.#priv, this, start, bytes)', replacement: 'this.#ops.write(this.#priv, this, start, bytes)', reason: OP_CHECKED },
  { file: 'src/dma-buf.ts', mutator: 'OptionalChaining', line: "const view = callExporter(call, 'vmap', () => ops.vmap?.(this.#priv, this));", original: 'ops.vmap?.(this.#priv, this)', replacement: 'ops.vmap(this.#priv, this)', reason: OP_CHECKED },
  { file: 'src/dma-buf.ts', mutator: 'OptionalChaining', line: KUNMAP_LINE, original: 'this.#ops.kunmap?.(this.#priv, this, page, view)', replacement: 'this.#ops.kunmap(this.#priv, this, page, view)', reason: OP_CHECKED },
  { file: 'src/dma-buf.ts', mutator: 'ConditionalExpression', line: KUNMAP_LINE, original: 'this.#ops.kunmap', replacement: 'true', reason: OP_SKIPPED },
  { file: 'src/dma-buf.ts', mutator: 'OptionalChaining', line: KUNMAP_ATOMIC_LINE, original: 'this.#ops.kunmapAtomic?.(this.#priv, this, page, view)', replacement: 'this.#ops.kunmapAtomic(this.#priv, this, page, view)', reason: OP_CHECKED },
  { file: 'src/dma-buf.ts', mutator: 'ConditionalExpression', line: KUNMAP_ATOMIC_LINE, original: 'this.#ops.kunmapAtomic', replacement: 'true', reason: OP_SKIPPED },
  { file: 'src/dma-buf.ts', mutator: 'OptionalChaining', line: VUNMAP_LINE, original: 'this.#ops.vunmap?.(this.#priv, this, view)', replacement: 'this.#ops.vunmap(this.#priv, this, view)', reason: OP_CHECKED },
  { file: 'src/dma-buf.ts', mutator: 'ConditionalExpression', line: VUNMAP_LINE, original: 'view && this.#ops.vunmap', replacement: 'true', reason: VUNMAP_VIEW },
  { file: 'src/dma-buf.ts', mutator: 'LogicalOperator', line: VUNMAP_LINE, original: 'view && this.#ops.vunmap', replacement: 'view || this.#ops.vunmap', reason: VUNMAP_VIEW },
  { file: 'src/attachment.ts', mutator: 'ConditionalExpression', line: "const isCount = (value: unknown): value is number => typeof value === 'number' …", original: "typeof value === 'number'", replacement: 'true', reason: 'Number.isSafeInteger does not convert: it is false for anything that is not a number, so the next check refuses what this one would have' },
  { file: 'src/attachment.ts', mutator: 'ConditionalExpression', line: CONTROL_LINE, original: '!control', replacement: 'false', reason: CONTROL },
  { file: 'src/attachment.ts', mutator: 'StringLiteral', line: CONTROL_LINE, original: "'createAttachment: the attachment gave no control'", replacement: '""', reason: `the error is never made: ${CONTROL}` },
  { file: 'src/cpu-access.ts', mutator: 'ConditionalExpression', line: EMPTY_LISTS_LINE, original: 'this.#ranges.length === 0 && this.#kmaps === 0 && this.#atomicKmaps === 0', replacement: 'false', reason: EMPTY_LISTS },
  { file: 'src/cpu-access.ts', mutator: 'ConditionalExpression', line: EMPTY_LISTS_LINE, original: 'this.#ranges.length === 0', replacement: 'true', reason: EMPTY_LISTS },
  { file: 'src/cpu-access.ts', mutator: 'EqualityOperator', line: EMPTY_LISTS_LINE, original: 'this.#ranges.length === 0', replacement: 'this.#ranges.length !== 0', reason: EMPTY_LISTS },
  { file: 'src/cpu-access.ts', mutator: 'BlockStatement', line: EMPTY_LISTS_LINE, original: '{ this.#plain.clear(); this.#atomic.clear(); }', replacement: '{}', reason: EMPTY_LISTS },
  { file: 'src/cpu-access.ts', mutator: 'ConditionalExpression', line: POP_LINE, original: 'index === list.length - 1', replacement: 'false', reason: POP },
  { file: 'src/cpu-access.ts', mutator: 'ArithmeticOperator', line: POP_LINE, original: 'list.length - 1', replacement: 'list.length + 1', reason: POP },
];

// src/ but the buffer's three files: the argument checks, segment layouts, scatter-gather
// tables, fences, reservations and fd tables (checked against a partial run of each file).

/** isLookAlike's first test. */
const LOOK_ALIKE_LINE = "if (typeof value !== 'object' || value === null || brand.has(value)) return fal…";

/** A catch of a helper whose answer every caller uses as a condition only. */
const FALSY_CATCH =
  'the function then returns undefined instead of false, and every caller uses its answer as a condition only (if, &&, ||, !): undefined is as false';

/** A typeof test in front of Number.isSafeInteger. */
const NOT_A_NUMBER =
  'Number.isSafeInteger does not convert: it is false for anything that is not a number, so the next check refuses what this one would have';

/** @type {readonly Equivalent[]} */
const CONTRACT_CORE = [
  { file: 'src/checks.ts', mutator: 'ConditionalExpression', line: LOOK_ALIKE_LINE, original: 'value === null', replacement: 'false', reason: "null then goes on to brand.has, false for null in every brand (each tests typeof and null before its private field), and to isPrototypeOf, false for anything that is not an object: isLookAlike is false for null either way" },
  { file: 'src/checks.ts', mutator: 'BlockStatement', line: '} catch {', original: '{ // A revoked Proxy has no chain to read: it is just "an object". return false…', replacement: '{}', reason: `isLookAlike of a revoked Proxy: ${FALSY_CATCH}` },
  { file: 'src/checks.ts', mutator: 'BlockStatement', line: '} catch {', original: '{ return false; }', replacement: '{}', reason: `isArray of a revoked Proxy: ${FALSY_CATCH}` },
  { file: 'src/checks.ts', mutator: 'ConditionalExpression', line: "if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {", original: "typeof value !== 'number'", replacement: 'false', reason: NOT_A_NUMBER },
  { file: 'src/segment-layout.ts', mutator: 'ConditionalExpression', line: 'if (value === undefined) return FREE_LAYOUT;', original: 'value === undefined', replacement: 'false', reason: 'checkOptions reads undefined as an empty bag, whose contiguous (false) and align (1) give FREE_LAYOUT itself too: the test is a shortcut' },
  { file: 'src/sg-table.ts', mutator: 'BooleanLiteral', line: 'readonly #made = true;', original: 'true', replacement: 'false', reason: "the brand check asks whether a value has the field (#made in value) and never reads what it holds" },
  { file: 'src/sg-table.ts', mutator: 'ConditionalExpression', line: "const isCount = (value: unknown): value is number => typeof value === 'number' …", original: "typeof value === 'number'", replacement: 'true', reason: NOT_A_NUMBER },
];

/** @type {readonly Equivalent[]} */
export const EQUIVALENT = [
  ...placeholder('src/dma-fence.ts', 'isFence'),
  ...placeholder('src/dma-fence-timeline.ts', 'isTimeline'),
  ...placeholder('src/dma-resv.ts', 'isResv'),
  ...placeholder('src/fd-table.ts', 'isTable'),
  ...placeholder('src/dma-buf.ts', 'isBuf'),
  ...placeholder('src/sg-table.ts', 'isTable'),
  ...placeholder('src/attachment.ts', 'isAttachment'),
  ...placeholder('remote/fd-socket.ts', 'isSocket'),
  {
    file: 'remote/device-access.ts',
    mutator: 'ArrowFunction',
    line: "map: () => Promise.reject(new DmaBufError('ENODEV', 'map', 'this socket was mad…",
    original: "() => Promise.reject(new DmaBufError('ENODEV', 'map', 'this socket was made wit…",
    replacement: '() => undefined',
    reason: "without device access, attach throws ENODEV first: no attachment exists whose map or unmap could reach these ops",
  },
  {
    file: 'remote/device-access.ts',
    mutator: 'ArrowFunction',
    line: 'unmap: () => Promise.resolve(0),',
    original: '() => Promise.resolve(0)',
    replacement: '() => undefined',
    reason: "without device access, attach throws ENODEV first: no attachment exists whose map or unmap could reach these ops",
  },
  {
    file: 'remote/fd-socket.ts',
    mutator: 'ConditionalExpression',
    line: "if (!connection) throw new DmaBufError('EINVAL', 'connectionOf', `${describe(so…",
    original: '!connection',
    replacement: 'false',
    reason: "connectionOf is called only on a socket that passed the brand check or that spawnWorker has just made, and every FdSocket gets its connection as its constructor's last step (one whose constructor throws never reaches anyone)",
  },
  {
    file: 'src/dma-fence-array.ts',
    mutator: 'ArrayDeclaration',
    line: '#parts: readonly DmaFence[] = [];',
    original: '[]',
    replacement: '["Stryker was here"]',
    reason: 'mergeFences calls follow(), which sets the parts, before the merged fence is returned: the initial value is never read',
  },
  {
    file: 'src/dma-fence.ts',
    mutator: 'ArrayDeclaration',
    line: 'this.#callbacks = [];',
    original: '[]',
    replacement: '["Stryker was here"]',
    reason: 'once signalled, addCallback adds nothing and wait answers at once; only removeCallback reads the list, and it looks for the function it is given, never that string',
  },
  {
    file: 'src/dma-fence.ts',
    mutator: 'ConditionalExpression',
    line: 'if (timer !== undefined) clearTimeout(timer);',
    original: 'timer !== undefined',
    replacement: 'true',
    reason: 'clearTimeout(undefined) does nothing, so clearing always is the same as clearing only a timer that was set',
  },
  {
    file: 'src/dma-fence.ts',
    mutator: 'ConditionalExpression',
    line: 'if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {',
    original: 'timeoutMs !== undefined',
    replacement: 'true',
    reason: 'Number.isFinite(undefined) is false, so the second half alone already arms no timer without a timeout',
  },
  {
    file: 'src/fd-table.ts',
    mutator: 'ConditionalExpression',
    line: "const entry = typeof fd === 'number' ? this.#entries.get(fd) : undefined;",
    original: "typeof fd === 'number'",
    replacement: 'true',
    reason: "the table's keys are numbers and a Map finds a key only by SameValueZero, so get() of any other value is undefined too: EBADF either way",
  },
  {
    file: 'src/dma-resv.ts',
    mutator: 'ArrayDeclaration',
    line: 'if (fence instanceof OperationFence) (queued ??= []).push(fence.whenQueued);',
    original: '[]',
    replacement: '["Stryker was here"]',
    reason: `a string among the waits is settled at once: ${SHORTCUT}`,
  },
  {
    file: 'src/dma-resv.ts',
    mutator: 'ArrayDeclaration',
    line: 'const all = [...(queued ?? []), ...(fences ? [whenAll(fences)] : [])];',
    original: '[]',
    replacement: '["Stryker was here"]',
    reason: `a string among the waits is settled at once: ${SHORTCUT}`,
  },
  {
    file: 'src/dma-resv.ts',
    mutator: 'ConditionalExpression',
    line: 'return this.#unlessCancelled(all.length === 1 && all[0] ? all[0] : afterAll(all…',
    original: 'all.length === 1 && all[0]',
    replacement: 'false',
    reason: SHORTCUT,
  },
  {
    file: 'remote/post-queue.ts',
    mutator: 'ConditionalExpression',
    line: 'if (running) {',
    original: 'running',
    replacement: 'true',
    reason: 'an async function runs synchronously up to its first await: given no promise, #drain awaits nothing and sets #streaming back to false before enqueue returns, so the next task runs at once as it would have',
  },
  {
    file: 'remote/post-queue.ts',
    mutator: 'OptionalChaining',
    line: 'while (!current && this.#queued.length > 0) current = this.#queued.shift()?.() …',
    original: 'this.#queued.shift()?.()',
    replacement: 'this.#queued.shift()()',
    reason: 'the loop shifts only while the queue is not empty, and it holds only the task functions enqueue was given: shift() never gives undefined',
  },
  { file: 'remote/shared-ring.ts', mutator: 'OptionalChaining', line: 'const waiting = waitAsync?.(this.#states, slot, FULL);', original: 'waitAsync?.(this.#states, slot, FULL)', replacement: 'waitAsync(this.#states, slot, FULL)', reason: RING },
  { file: 'remote/shared-ring.ts', mutator: 'ConditionalExpression', line: "if (!waiting) throw new Error('RingWriter: Atomics.waitAsync is missing');", original: '!waiting', replacement: 'false', reason: RING },
  {
    file: 'remote/shared-ring.ts',
    mutator: 'ConditionalExpression',
    line: 'if (waiting.async) await Promise.race([waiting.value, gone]);',
    original: 'waiting.async',
    replacement: 'true',
    reason: "a synchronous answer (the slot changed before the wait) is a string: awaiting it only adds a microtask turn before the loop reads the slot again, and a ring's writes go one at a time behind the connection's post queue",
  },
  {
    file: 'remote/protocol.ts',
    mutator: 'ConditionalExpression',
    line: 'const isInt = (value: unknown, min: number): value is number => typeof value ==…',
    original: "typeof value === 'number'",
    replacement: 'true',
    reason: 'Number.isSafeInteger does not convert: it is false for anything that is not a number, so the next check refuses what this one would have',
  },
  {
    file: 'remote/protocol.ts',
    mutator: 'ConditionalExpression',
    line: "return isInt(id, 1) && typeof usage === 'string' && USAGES.has(usage) && typeof…",
    original: "typeof usage === 'string'",
    replacement: 'true',
    reason: CODES_OF_STRINGS,
  },
  {
    file: 'remote/protocol.ts',
    mutator: 'ConditionalExpression',
    line: "if (typeof code !== 'string' || !CODES.has(code) || typeof call !== 'string' ||…",
    original: "typeof code !== 'string'",
    replacement: 'false',
    reason: CODES_OF_STRINGS,
  },
  {
    file: 'remote/protocol.ts',
    mutator: 'ConditionalExpression',
    line: "const ok = isInt(fence, 1) && (error === null || (typeof error === 'string' && …",
    original: "typeof error === 'string'",
    replacement: 'true',
    reason: CODES_OF_STRINGS,
  },
  {
    file: 'remote/protocol.ts',
    mutator: 'BlockStatement',
    line: '} catch {',
    original: '{ // A proxy or a getter that throws: not a message of ours. return undefined; }',
    replacement: '{}',
    reason: 'a function that ends without a return gives undefined, which is all the block returns',
  },
  {
    file: 'remote/protocol.ts',
    mutator: 'ConditionalExpression',
    line: 'default:',
    original: 'default: return undefined;',
    replacement: 'default:',
    reason: 'nothing follows the switch in parseFields: falling out of it returns undefined as well',
  },
  {
    file: 'remote/protocol.ts',
    mutator: 'ConditionalExpression',
    line: "const isRing = ring === null || (typeof SharedArrayBuffer === 'function' && rin…",
    original: "typeof SharedArrayBuffer === 'function'",
    replacement: 'true',
    reason: 'where SharedArrayBuffer does not exist, naming it throws a ReferenceError, which parse catches: a hello with a ring is refused either way',
  },
  {
    file: 'remote/realm-state.ts',
    mutator: 'ConditionalExpression',
    line: 'if (key !== undefined && this.#byKey.get(key) === proxy) this.#byKey.delete(key…',
    original: 'key !== undefined',
    replacement: 'true',
    reason: "the map's keys are strings, so get(undefined) is undefined, never the proxy: the second half alone already forgets nothing without a key",
  },
  { file: 'remote/realm-state.ts', mutator: 'ConditionalExpression', line: UNGRANTED_LINE, original: 'key !== undefined && this.#byKey.get(key) === buf', replacement: 'true', reason: UNGRANTED },
  { file: 'remote/realm-state.ts', mutator: 'LogicalOperator', line: UNGRANTED_LINE, original: 'key !== undefined && this.#byKey.get(key) === buf', replacement: 'key !== undefined || this.#byKey.get(key) === buf', reason: UNGRANTED },
  { file: 'remote/realm-state.ts', mutator: 'ConditionalExpression', line: UNGRANTED_LINE, original: 'key !== undefined', replacement: 'true', reason: UNGRANTED },
  { file: 'remote/realm-state.ts', mutator: 'ConditionalExpression', line: UNGRANTED_LINE, original: 'this.#byKey.get(key) === buf', replacement: 'true', reason: UNGRANTED },
  ...REMOTE,
  ...BUFFER_CORE,
  ...CONTRACT_CORE,
];
