// The page's side of the two-realm model tests: the page and a module worker as two realms
// with one interface. `call` makes the page's own call synchronously, or posts the command
// to the worker, which makes its call as the message arrives: so the order of `call`s in one
// realm is that realm's call order. Errors reject with an Error whose message starts with
// the DmaBufError code.
import { FdTable, type FdSocket, type GpuHeap, type SpawnWorkerOptions } from 'webgpu-dmabuf';
import { startAgent } from './agent.js';
import { realmCommands, type CommandArgs, type RealmCommands } from './realm-commands.js';

/** Which realm: the page or its worker. */
export type RealmName = 'page' | 'worker';

/** A realm the test drives. */
export interface Realm {
  readonly name: RealmName;
  /** Runs `command` in the realm; its library call, if any, is made before this returns (page) or when the message arrives (worker). */
  call<T = unknown>(command: string, args?: CommandArgs): Promise<T>;
}

/** The page as a realm, on `table`, `socket`, `devices` and `heap` (on `devices[0]`). */
export function pageRealm(table: FdTable, socket: FdSocket, devices: readonly GPUDevice[], heap: GpuHeap): Realm {
  const commands: RealmCommands = realmCommands({ table, socket, devices, heap });
  return {
    name: 'page',
    call<T>(command: string, args: CommandArgs = {}): Promise<T> {
      // The executor runs now: the call is made before this returns; what it throws rejects.
      return new Promise<T>((resolve) => {
        const run = commands[command];
        if (!run) throw new Error(`unknown command ${command}`);
        resolve(run(args) as T);
      });
    },
  };
}

const WORKER_URL = new URL('./fixtures/realm-worker.ts', import.meta.url);

/** A realm worker, its socket (the page's end) and a way to end it. */
export interface RealmWorker {
  readonly realm: Realm;
  readonly worker: Worker;
  readonly socket: FdSocket;
  /** Terminates the worker at once; its calls still waiting reject with `ENODEV`. */
  terminate(): void;
}

/** Starts the realm worker with spawnWorker from `table` (it inherits the fds that are not close-on-exec), once it is ready. */
export async function spawnRealmWorker(table = new FdTable(), options: SpawnWorkerOptions = {}): Promise<RealmWorker> {
  const agent = await startAgent(table, { name: 'realm', ...options }, WORKER_URL);
  const realm: Realm = { name: 'worker', call: (command, args = {}) => agent.call(command, args) };
  return { realm, worker: agent.worker, socket: agent.socket, terminate: () => { agent.terminate(); } };
}
