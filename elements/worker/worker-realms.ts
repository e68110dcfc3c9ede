import type { BufInfoEntry } from 'webgpu-dmabuf';

/** One realm's `bufinfo` listing, labelled by the realm: `page`, or `worker NAME`. */
export interface RealmListing {
  /** Which realm holds these buffers. */
  readonly realm: string;
  /** Its `bufinfoEntries()`, as it reported them. */
  readonly entries: readonly BufInfoEntry[];
}

/** A realm whose listing can be asked for: a module worker the page runs. */
export interface ListedRealm {
  readonly realm: string;
  bufinfo(): Promise<readonly BufInfoEntry[]>;
}

// The page's module workers while they run, for the inspector.
const realms = new Set<ListedRealm>();

/** Lists `realm` until {@link unlistRealm}. Realm: the page. */
export function listRealm(realm: ListedRealm): void {
  realms.add(realm);
}

/** Stops listing `realm`. */
export function unlistRealm(realm: ListedRealm): void {
  realms.delete(realm);
}

/**
 * Every listed worker realm's buffers, each asked over a message; a realm that does not
 * answer (it is stopping) is left out. Realm: the page.
 */
export async function workerRealmListings(): Promise<RealmListing[]> {
  const asked = [...realms].map(async (realm) => ({ realm: realm.realm, entries: await realm.bufinfo() }));
  const settled = await Promise.allSettled(asked);
  return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}
