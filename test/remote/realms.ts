// Several realms in one Node process, for the socket's tests: each realm is a RealmLiveness
// of its own (the library keeps one registry per liveness object), with its own fd table;
// realms are joined by Node's MessageChannel, and a test decides when a realm dies (its
// ports close and its peers' watches fire, as a Web Lock is granted when its holder ends).
import { afterEach, expect } from 'vitest';
import { FdSocket, type FdSocketOptions } from '../../remote/fd-socket.js';
import { bufinfoEntries } from '../../src/bufinfo.js';
import type { DmaBuf } from '../../src/dma-buf.js';
import { FdTable } from '../../src/fd-table.js';
import type { RealmLiveness } from '../../remote/liveness.js';
import { memoryDeviceAccess } from './memory-device-access.js';

/** One simulated realm. */
export interface TestRealm {
  readonly name: string;
  readonly liveness: RealmLiveness;
  readonly table: FdTable;
  /** Its ends of every channel, closed when it dies. */
  readonly ports: MessagePort[];
  /** Its sockets, closed (dropping fds not yet received) when the test ends. */
  readonly sockets: FdSocket[];
  alive: boolean;
}

/** A set of realms whose deaths the test decides. */
export class TestRealms {
  // Every watch: who watches whom. A death fires the watches of it and, as the dead realm's
  // memory is gone with it in a browser, the dead realm's own (so its grants are dropped).
  #watches = new Set<{ readonly watcher: string; readonly peer: string; readonly onDeath: () => void }>();
  all: TestRealm[] = [];

  /** A new live realm named `name`. */
  realm(name: string): TestRealm {
    // The watches of this test's realms: a late watch of a closed test's realm lands in its own set.
    const watches = this.#watches;
    const liveness: RealmLiveness = {
      ready: () => Promise.resolve(name),
      watch: (peer, onDeath) => {
        const watch = { watcher: name, peer, onDeath };
        watches.add(watch);
        return () => { watches.delete(watch); };
      },
    };
    const realm: TestRealm = { name, liveness, table: new FdTable(), ports: [], sockets: [], alive: true };
    this.all.push(realm);
    return realm;
  }

  /** A new channel whose first port is `a`'s and second `b`'s (both `a`'s when `b` is left out): closed with their realms. */
  channel(a: TestRealm, b: TestRealm = a): { port1: MessagePort; port2: MessagePort } {
    const { port1, port2 } = new MessageChannel();
    a.ports.push(port1);
    b.ports.push(port2);
    return { port1, port2 };
  }

  /** Joins `a` and `b` by a new channel: a socket at each end. */
  link(a: TestRealm, b: TestRealm, options: FdSocketOptions = {}): { ab: FdSocket; ba: FdSocket; portA: MessagePort; portB: MessagePort } {
    const { port1, port2 } = this.channel(a, b);
    const access = memoryDeviceAccess();
    const ab = new FdSocket(port1, { liveness: a.liveness, deviceAccess: access, ...options });
    const ba = new FdSocket(port2, { liveness: b.liveness, deviceAccess: access, ...options });
    a.sockets.push(ab);
    b.sockets.push(ba);
    return { ab, ba, portA: port1, portB: port2 };
  }

  /** The realms `realm` watches now, one name per watch not yet stopped. */
  watched(realm: TestRealm): string[] {
    return [...this.#watches].filter((watch) => watch.watcher === realm.name).map((watch) => watch.peer);
  }

  /** `realm` dies: its ports close, and every watch of it (and its own) fires. */
  kill(realm: TestRealm): void {
    realm.alive = false;
    for (const port of realm.ports) port.close();
    const fired = [...this.#watches].filter((watch) => watch.peer === realm.name || watch.watcher === realm.name);
    for (const watch of fired) {
      this.#watches.delete(watch);
      watch.onDeath();
    }
  }

  /**
   * Ends the test: closes every realm's fds (a dead realm's too), lets the drops go round,
   * then closes every port; the set starts empty again for the next test.
   */
  async closeAll(): Promise<void> {
    for (const realm of this.all) {
      for (const socket of realm.sockets) if (!socket.closed) socket.close();
      realm.table.closeAll();
    }
    await quiesce();
    for (const realm of this.all) for (const port of realm.ports) port.close();
    this.all = [];
    this.#watches = new Set();
  }
}

/**
 * The realms of a test file's tests: after each test every realm is closed, the set starts
 * empty again, and no buffer may be left in this realm's listing.
 */
export function realmsFixture(): TestRealms {
  const realms = new TestRealms();
  afterEach(async () => {
    await realms.closeAll();
    expect(bufinfoEntries()).toEqual([]);
  });
  return realms;
}

/**
 * Moves `buf` from realm `a` to realm `b` over `ab` and `ba` (`a`'s and `b`'s ends of a link):
 * `a` installs it, taking over the caller's reference, and sends it; resolves with `b`'s proxy
 * of it, whose one reference the caller owns (its fd in `b`'s table is closed again).
 */
export async function handOver(buf: DmaBuf, a: TestRealm, ab: FdSocket, b: TestRealm, ba: FdSocket): Promise<DmaBuf> {
  const fd = a.table.install(buf);
  buf.put();
  await ab.send(a.table, fd);
  const received = await ba.receive(b.table);
  const proxy = b.table.get(received);
  b.table.close(received);
  return proxy;
}

/** Lets the realms' messages go round: enough event-loop turns for a few hops. */
export async function quiesce(turns = 30): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** How a promise has settled so far: read after {@link quiesce}, so that a wait that hangs fails an assertion, not a timeout. */
export interface Settled<T> {
  state: 'pending' | 'resolved' | 'rejected';
  value: T | undefined;
  error: unknown;
}

/** Starts tracking how `promise` settles. */
export function track<T>(promise: Promise<T>): Settled<T> {
  const settled: Settled<T> = { state: 'pending', value: undefined, error: undefined };
  promise.then(
    (value) => {
      settled.state = 'resolved';
      settled.value = value;
    },
    (error: unknown) => {
      settled.state = 'rejected';
      settled.error = error;
    },
  );
  return settled;
}
