import type { ModuleHost } from '../module/module-host.js';

/**
 * What the module worker's host gives a module it starts. The host owns all of it: the
 * device is destroyed, the source's link closed and the canvas gone with the worker once the
 * module has closed.
 */
export interface WorkerModuleContext {
  /** The worker's own device, for this module alone. */
  readonly device: GPUDevice;
  /** The module's name (its buffers', its device's and its realm's). */
  readonly name: string;
  /** Where its source's frames are dispatched in this realm, as `FrameEvent`s. */
  readonly source: EventTarget;
  /** Where it reports frames done and dropped, and its failure: the host posts them to the page. */
  readonly host: ModuleHost;
  /** The canvas the page handed over (a view's, from `transferControlToOffscreen()`), or `null`. */
  readonly canvas: OffscreenCanvas | null;
  /** The module's own settings, as the page posted them: the module parses them. */
  readonly settings: unknown;
  /**
   * Posts a notice of the module's own to its element in the page (a view's frame shown);
   * `transfer` is moved with it.
   */
  readonly notify: (name: string, detail: unknown, transfer?: Transferable[]) => void;
}

/** The answer to a request of the page: a value, and what moves with it. */
export interface WorkerAnswer {
  /** Plain data, parsed by the element that asked. */
  readonly value: unknown;
  /** Buffers moved with it (the pixels of a capture). */
  readonly transfer?: Transferable[];
}

/** A module's logic as a module worker hosts it. */
export interface WorkerModule {
  /**
   * Where it dispatches the frames it makes, as `FrameEvent`s (a filter's): the host sends
   * them to the page and on every link to another module's worker; `undefined` for a module
   * that makes none.
   */
  readonly output: EventTarget | undefined;
  /** Takes new settings from the page (the filter's effect); a module parses them and ignores what does not parse. */
  configure?(settings: unknown): void;
  /**
   * Takes a notice of the page's (the camera's frames, moved to the worker: its track, a
   * stream of its frames, or one frame); a module parses `detail` and ignores (closing what
   * it owns) what does not parse.
   */
  notice?(name: string, detail: unknown): void;
  /**
   * Answers a request of the page (the view's `capture`).
   * @throws {DmabufElementError} (or a `DmaBufError`) which the page's call rejects with.
   */
  request?(method: string, argument: unknown): Promise<WorkerAnswer>;
  /** Stops: takes and makes no more frames, gets back every frame it lent, frees what it made. */
  close(): Promise<void>;
}

/**
 * A module as a worker entry registers it with the host (`registerWorkerModule`): the role
 * the page's start names, and how to start it.
 */
export interface WorkerModuleDefinition {
  /** The module's role, as the page's `ModuleWorkerClient` names it (`'filter'`, `'view'`). */
  readonly role: string;
  /**
   * Starts the module in `context`.
   * @throws {DmabufElementError} (or a `DmaBufError`) when it cannot: the element fails with it.
   */
  start(context: WorkerModuleContext): WorkerModule;
}
