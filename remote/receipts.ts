/**
 * What this realm received of the peer's buffers on one connection (rules 2 and 3 of
 * `connection.ts`): one proxy per buffer, found by the grant the peer sent it under, with
 * the count of sends of it taken (its receipts). A buffer received again is the same proxy
 * with one more local reference; one this realm knows already by its key (its own buffer
 * coming home, or a proxy of it made on another connection) is that buffer, and the receipt
 * is given back at once. When a proxy's last local reference goes, all its receipts are
 * given back together.
 */
import type { DmaBuf } from '../src/dma-buf.js';
import type { RemoteDeviceAccess } from './device-access.js';
import type { FenceLink } from './fence-link.js';
import type { GrantInfo } from './protocol.js';
import { createProxy, type ProxyLink, type ProxyRecord } from './proxy.js';
import type { RealmState } from './realm-state.js';

/** What the receipts need of their connection. */
export interface ReceiptsPorts {
  /** The realm this end belongs to. */
  readonly realm: RealmState;
  /** How the proxies map on a device. */
  readonly access: RemoteDeviceAccess;
  /** The connection's fences: a proxy's reservation is kept in step with the exporter's. */
  readonly fences: FenceLink;
  /** The byte RPCs and the liveness check of the proxies. */
  readonly link: Omit<ProxyLink, 'released'>;
  /** Gives `count` sends of the peer's grant `grant` back (`drop`). */
  readonly drop: (grant: number, count: number) => void;
  /** A proxy was released and its receipts given back: the connection may have nothing left across. */
  readonly released: () => void;
}

/** This realm's proxies of the peer's buffers on one connection, by the peer's grant. */
export class Receipts {
  readonly #ports: ReceiptsPorts;
  readonly #link: ProxyLink;
  readonly #proxies = new Map<number, ProxyRecord>();
  // Stops sending the fences of each proxy, by the peer's grant.
  readonly #watches = new Map<number, () => void>();

  constructor(ports: ReceiptsPorts) {
    this.#ports = ports;
    this.#link = { ...ports.link, released: (proxy) => { this.#released(proxy); } };
  }

  /** How many proxies are live. */
  get size(): number {
    return this.#proxies.size;
  }

  /** The proxy of the peer's grant `grant`, while it is live. */
  find(grant: number): DmaBuf | undefined {
    return this.#proxies.get(grant)?.buf;
  }

  /** Takes this realm's reference on the buffer a receipt names (rule 2); the caller owns it. */
  take(info: GrantInfo): DmaBuf {
    const { realm, fences } = this.#ports;
    // A proxy leaves the map as it is released: one found here is live.
    const known = this.#proxies.get(info.grant);
    if (known) {
      known.receipts += 1;
      for (const fence of info.fences) fences.add(known.buf.resv, fence);
      return known.buf.get();
    }
    const found = realm.find(info.key);
    if (found && found.size === info.size) {
      this.#ports.drop(info.grant, 1);
      return found.get();
    }
    const proxy = createProxy(info, this.#link, this.#ports.access);
    this.#proxies.set(info.grant, proxy);
    for (const fence of info.fences) fences.add(proxy.buf.resv, fence);
    this.#watches.set(info.grant, fences.watch(proxy.buf.resv, info.grant, true));
    if (!found) realm.addProxy(info.key, proxy.buf);
    return proxy.buf;
  }

  /**
   * The peer's realm is gone: the proxies stop sending fences and are no longer found by
   * their keys (a later receipt makes a new one); each still gives its receipts back when
   * released, to no one.
   */
  die(): void {
    for (const stop of this.#watches.values()) stop();
    this.#watches.clear();
    for (const proxy of this.#proxies.values()) this.#ports.realm.forgetProxy(proxy.buf);
  }

  /** A proxy's last local reference is gone: its receipts go back (rule 3). */
  #released(proxy: ProxyRecord): void {
    this.#proxies.delete(proxy.grant);
    this.#watches.get(proxy.grant)?.();
    this.#watches.delete(proxy.grant);
    this.#ports.realm.forgetProxy(proxy.buf);
    this.#ports.drop(proxy.grant, proxy.receipts);
    this.#ports.released();
  }
}
