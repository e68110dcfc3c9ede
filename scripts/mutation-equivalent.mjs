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
    line: "map: () => Promise.reject(new DmaBufError('ENODEV', 'map: this socket was made …",
    original: "() => Promise.reject(new DmaBufError('ENODEV', 'map: this socket was made witho…",
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
    line: "if (!connection) throw new DmaBufError('EINVAL', `connectionOf: ${describe(sock…",
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
    line: "if (typeof code !== 'string' || !CODES.has(code) || typeof message !== 'string'…",
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
];
