/**
 * The lifecycle of one end of a connection (`connection.ts`): one state at a time, changed
 * only by the events below, each allowed only where the table says.
 *
 * ```
 *   opening ────hello───▶ open ───shutdown──▶ peer-closed
 *      │                   │                      │
 *    close               close                  close
 *      ▼                   ▼                      │
 *   opening-closed ─hello─▶ closing ◀─────────────┘
 *                            │ nothing is held across any more
 *                            ▼
 *                          ended
 *   every state but ended ──the peer's realm is gone──▶ dead
 * ```
 *
 * - `opening`: the peer is not known yet (its hello has not come): what this end posts waits
 *   in order, and nothing but a hello is heard.
 * - `opening-closed`: the same, and the socket on top is closed already; its shutdown waits
 *   with the rest.
 * - `open`: both ends talk.
 * - `peer-closed`: the peer's socket is closed (its `shutdown` came): sends fail with
 *   `EBADF`; the buffers that crossed still work both ways.
 * - `closing`: this end's socket is closed: the connection ends once nothing of either realm
 *   is held across it. A shutdown of the peer's changes nothing more (this end sends no fds).
 * - `ended`: it stopped listening; nothing is posted any more.
 * - `dead`: the peer's realm is gone: everything held for it is dropped, and the connection
 *   has ended too.
 */

/** Where one end of a connection is in its life: see the DOC block at the top of this file. */
export type ConnectionState = 'opening' | 'opening-closed' | 'open' | 'peer-closed' | 'closing' | 'ended' | 'dead';

/**
 * What moves a connection on: the peer's first `hello`, its `shutdown`, this end's socket
 * closed (`close`), nothing left across (`end`), the peer's realm gone (`die`).
 */
export type ConnectionEvent = 'hello' | 'shutdown' | 'close' | 'end' | 'die';

const TRANSITIONS: Readonly<Record<ConnectionState, Partial<Readonly<Record<ConnectionEvent, ConnectionState>>>>> = {
  opening: { hello: 'open', close: 'opening-closed', die: 'dead' },
  'opening-closed': { hello: 'closing', die: 'dead' },
  open: { shutdown: 'peer-closed', close: 'closing', die: 'dead' },
  'peer-closed': { shutdown: 'peer-closed', close: 'closing', die: 'dead' },
  closing: { shutdown: 'closing', end: 'ended', die: 'dead' },
  ended: {},
  // The socket on top may still be closed once the peer is gone: nothing changes.
  dead: { close: 'dead' },
};

/**
 * The state `event` moves a connection in `state` to.
 * @throws {Error} for an event the state does not take: a bug of the connection, never the peer's doing.
 */
export function nextState(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  const next = TRANSITIONS[state][event];
  if (next === undefined) throw new Error(`connection: '${event}' cannot happen while ${state}`);
  return next;
}

/** Whether the peer is known and the connection has not ended: messages go out as they are posted. */
export function isOpen(state: ConnectionState): boolean {
  return state === 'open' || state === 'peer-closed' || state === 'closing';
}
