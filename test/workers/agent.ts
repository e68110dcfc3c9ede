// The page's side of the worker fixtures' command channel (fixtures/command-server.ts):
// commands to a worker (fixtures/agent.ts by default) and its answers.
import { afterEach, expect } from 'vitest';
import { bufinfoEntries, FdTable, spawnWorker, type FdSocket, type SpawnWorkerOptions, type WorkerSource } from 'webgpu-dmabuf';

/** A worker that runs a command fixture, with the page's socket to it. */
export interface Agent {
  readonly worker: Worker;
  readonly socket: FdSocket;
  /** Runs `command` in the worker (transferring `transfer`); rejects with an Error whose message starts with the DmaBufError code. */
  call<T = unknown>(command: string, args?: Record<string, unknown>, transfer?: Transferable[]): Promise<T>;
  /** Terminates the worker at once; calls still waiting for an answer reject with `ENODEV`. */
  terminate(): void;
}

/** The agent worker's script: a test starts it by URL, or makes the `Worker` itself from it. */
export const AGENT_URL = new URL('./fixtures/agent.ts', import.meta.url);

// Every agent started and not yet terminated: a failed test leaves none running.
const running = new Set<Worker>();

/** Terminates every agent still running (a worker's death closes its fds: the page drops what it held for it). */
export function terminateAgents(): void {
  for (const worker of running) worker.terminate();
  running.clear();
}

/**
 * Starts the command fixture `source` (a URL, a Worker or a function that makes one; default:
 * the agent's URL) with spawnWorker from `table` (default: an empty one), once it says it is ready.
 */
export async function startAgent(table = new FdTable(), options: SpawnWorkerOptions = {}, source: WorkerSource = AGENT_URL): Promise<Agent> {
  const named = typeof source === 'string' || source instanceof URL ? { name: 'agent', ...options } : options;
  const { worker, socket } = spawnWorker(source, table, named);
  running.add(worker);
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const ready = new Promise<void>((resolve, reject) => {
    worker.addEventListener('error', (event) => { reject(new Error(`the agent failed to start: ${event.message}`)); });
    worker.addEventListener('message', (event: MessageEvent) => {
      const data = event.data as { ready?: unknown; id?: unknown; ok?: unknown; value?: unknown; error?: { code: string; call: string; reason: string } };
      if (data.ready === true) resolve();
      // An answer has a numeric id and a boolean ok: the library's own messages on the channel (a fence's `signal` has an id too) are not answers.
      if (typeof data.id !== 'number' || typeof data.ok !== 'boolean') return;
      const pending = waiting.get(data.id);
      waiting.delete(data.id);
      if (data.ok) pending?.resolve(data.value);
      else pending?.reject(new Error(`${data.error?.code ?? 'EIO'}: ${data.error?.call ?? 'unknown'}: ${data.error?.reason ?? 'no message'}`));
    });
  });
  await ready;
  return {
    worker,
    socket,
    call<T>(command: string, args: Record<string, unknown> = {}, transfer: Transferable[] = []) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        worker.postMessage({ id, command, args }, transfer);
      });
    },
    terminate() {
      worker.terminate();
      running.delete(worker);
      for (const pending of waiting.values()) pending.reject(new Error('ENODEV: the worker was terminated'));
      waiting.clear();
    },
  };
}

/** Ends an agent that is still alive: its fds closed (so nothing of the page is held there), no WebGPU error in it, then terminated. */
export async function stopAgent(agent: Agent): Promise<void> {
  expect(await agent.call('gpu-errors')).toEqual([]);
  await agent.call('close-all');
  agent.worker.terminate();
  running.delete(agent.worker);
}

/**
 * A test file's agent set-up: the page's fd table, and after each test the agent `use`d in
 * it stopped (its fds closed, no WebGPU error in it), every agent terminated, the table
 * closed and every dma-buf of the page gone (the worker's references come back by message).
 * `forget()` when a test terminates its agent itself.
 */
export function agentFixture(): { readonly table: FdTable; use(agent: Agent): Agent; forget(): void } {
  const table = new FdTable();
  let current: Agent | undefined;
  afterEach(async () => {
    try {
      if (current) await stopAgent(current);
    } finally {
      current = undefined;
      terminateAgents();
    }
    table.closeAll();
    await expect.poll(() => bufinfoEntries().length).toBe(0);
  });
  return {
    table,
    use: (agent) => (current = agent),
    forget: () => {
      current = undefined;
    },
  };
}
