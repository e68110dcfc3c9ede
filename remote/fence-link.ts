/**
 * Fences across one connection: the reservations of the buffers two realms share, kept in
 * step. A fence added to a shared buffer's reservation in one realm is sent to the other as
 * a number, and there a mirror of it (a fence of that realm) joins the buffer's reservation
 * (the exporter's buffer, or the importer's proxy of it) in the same usage class; when the
 * original signals, with or without an error, a `signal` message makes the mirror do the same.
 * So a fence from a remote buffer's reservation or `exportSyncFile` signals in the importing
 * realm when it signals in the exporter's, and an importer's `importSyncFile` holds the
 * exporter's own readers (or writers) back until its fence signals.
 *
 * What is sent: on an exporter's buffer granted to the peer, every fence added (its own
 * operations' and applications'), except those added while serving the peer's own byte
 * RPCs (the peer's proxy holds fences of its own for those calls) and the peer's mirrors
 * (both are added through {@link FenceLink.quietly}, the one way to add without sending);
 * on an importer's proxy, only the fences applications add (its operations run in the
 * exporter's realm, whose reservation has their fences already). A mirror that goes back
 * to the realm it came from is named as the original there (`back`), so fences never loop.
 *
 * A realm that dies signals the mirrors of its fences with `ENODEV`: what they stood for
 * will never be done, and no one waits for ever.
 */
import { watchResv, type DmaResv, type DmaResvUsage } from '../src/dma-resv.js';
import { DmaFence } from '../src/dma-fence.js';
import type { DmaBufErrorCode } from '../src/error.js';

/** A fence as a message names it. */
export interface WireFence {
  /** Its number: the sender's (`back: false`) or, for a mirror going back, the receiver's. */
  readonly id: number;
  /** Its usage class in the reservation. */
  readonly usage: DmaResvUsage;
  /** Whether `id` is the receiver's own numbering (a mirror going back to where it came from). */
  readonly back: boolean;
}

/** What a {@link FenceLink} posts. */
export interface FencePoster {
  /** A fence joined the reservation of the buffer shared as `grant` (`mine`: granted by this end). */
  fence(grant: number, mine: boolean, fence: WireFence): void;
  /** The fence this end numbered `id` signalled, with `error` or none. */
  signal(id: number, error: DmaBufErrorCode | null): void;
}

const USAGES: readonly DmaResvUsage[] = ['kernel', 'write', 'read', 'bookkeep'];

/** The fences of one connection, both ways. */
export class FenceLink {
  readonly #post: FencePoster;
  // Fences of this realm the peer mirrors, until they signal.
  readonly #sentIds = new Map<DmaFence, number>();
  readonly #sent = new Map<number, DmaFence>();
  #nextId = 1;
  // Mirrors of the peer's fences, by the peer's number, until the peer says they signalled.
  readonly #mirrors = new Map<number, DmaFence>();
  readonly #mirrorIds = new Map<DmaFence, number>();
  #dead = false;
  // How deep this end is in `quietly`: the fences added meanwhile are the peer's own.
  #quiet = 0;

  constructor(post: FencePoster) {
    this.#post = post;
  }

  /** How many fences still have to signal across: either way, the connection must carry their `signal`. */
  get pending(): number {
    return this.#sent.size + this.#mirrors.size;
  }

  /**
   * The fences of `resv` not signalled yet, as the peer will name them: what a buffer sent
   * to the peer carries along, so its mirror starts in step.
   */
  pendingIn(resv: DmaResv): WireFence[] {
    const seen = new Set<DmaFence>();
    const out: WireFence[] = [];
    for (const usage of USAGES) {
      for (const fence of resv.getFences(usage)) {
        if (seen.has(fence)) continue;
        seen.add(fence);
        const wire = this.#name(fence, usage);
        if (wire) out.push(wire);
      }
    }
    return out;
  }

  /**
   * Sends the peer every fence added to `resv` from now on: see the DOC block for which.
   * `proxy` says it is this realm's proxy of the peer's buffer (shared as the peer's `grant`)
   * rather than a buffer this end granted. Returns the function that stops it.
   */
  watch(resv: DmaResv, grant: number, proxy: boolean): () => void {
    return watchResv(resv, (fence, usage, operation) => {
      if (this.#quiet > 0 || (proxy && operation)) return;
      const wire = this.#name(fence, usage);
      if (wire) this.#post.fence(grant, !proxy, wire);
    });
  }

  /**
   * Runs `run` without sending the peer the fences it adds synchronously, on any buffer
   * this link watches: they are the peer's own (its mirrors, or its byte RPC's operations,
   * which its proxy holds fences of its own for). Other links sharing the buffers still
   * send them to their peers. Returns what `run` returns.
   */
  quietly<T>(run: () => T): T {
    this.#quiet += 1;
    try {
      return run();
    } finally {
      this.#quiet -= 1;
    }
  }

  /** Adds the fence `wire` names to `resv`, told by the peer; a name that means nothing is ignored. */
  add(resv: DmaResv, wire: WireFence): void {
    const fence = wire.back ? this.#sent.get(wire.id) : this.#mirror(wire.id);
    // Signalled and forgotten, or the peer is gone: nothing to wait for.
    if (!fence || this.#dead) return;
    try {
      this.quietly(() => { resv.addFence(fence, wire.usage); });
    } catch {
      // The buffer was released meanwhile: its reservation takes nothing.
    }
  }

  /** The peer's fence `id` signalled, with `error` or none. */
  signalled(id: number, error: DmaBufErrorCode | null): void {
    const mirror = this.#mirrors.get(id);
    if (!mirror) return;
    this.#forget(id, mirror);
    if (error) mirror.setError(error);
    mirror.signal();
  }

  /** The peer's realm is gone: its fences' mirrors signal with `ENODEV`, and this end sends nothing more. */
  die(): void {
    this.#dead = true;
    const mirrors = [...this.#mirrors.values()];
    this.#mirrors.clear();
    this.#mirrorIds.clear();
    this.#sent.clear();
    this.#sentIds.clear();
    for (const mirror of mirrors) {
      mirror.setError('ENODEV');
      mirror.signal();
    }
  }

  /** How the peer will know `fence`: a mirror of its own goes back as such; `undefined` when there is nothing to wait for. */
  #name(fence: DmaFence, usage: DmaResvUsage): WireFence | undefined {
    if (fence.signaled || this.#dead) return undefined;
    const back = this.#mirrorIds.get(fence);
    if (back !== undefined) return { id: back, usage, back: true };
    let id = this.#sentIds.get(fence);
    if (id === undefined) {
      const mine = this.#nextId++;
      id = mine;
      this.#sentIds.set(fence, mine);
      this.#sent.set(mine, fence);
      fence.addCallback(() => {
        if (this.#sent.get(mine) !== fence) return;
        this.#sent.delete(mine);
        this.#sentIds.delete(fence);
        this.#post.signal(mine, fence.error?.code ?? null);
      });
    }
    return { id, usage, back: false };
  }

  #mirror(id: number): DmaFence {
    let mirror = this.#mirrors.get(id);
    if (!mirror) {
      mirror = new DmaFence();
      this.#mirrors.set(id, mirror);
      this.#mirrorIds.set(mirror, id);
    }
    return mirror;
  }

  #forget(id: number, mirror: DmaFence): void {
    this.#mirrors.delete(id);
    this.#mirrorIds.delete(mirror);
  }
}
