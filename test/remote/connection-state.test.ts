// The lifecycle of one end of a connection (remote/connection-state.ts): each state takes only
// the events its transitions list, and any other is refused as a bug, never taken silently;
// the peer is talked to (messages go out as posted) exactly while open, peer-closed or closing.
import { describe, expect, test } from 'vitest';
import { isOpen, nextState, type ConnectionEvent, type ConnectionState } from '../../remote/connection-state.js';

const STATES: readonly ConnectionState[] = ['opening', 'opening-closed', 'open', 'peer-closed', 'closing', 'ended', 'dead'];
const EVENTS: readonly ConnectionEvent[] = ['hello', 'shutdown', 'close', 'end', 'die'];

const ALLOWED: Readonly<Record<string, ConnectionState>> = {
  'opening hello': 'open',
  'opening close': 'opening-closed',
  'opening die': 'dead',
  'opening-closed hello': 'closing',
  'opening-closed die': 'dead',
  'open shutdown': 'peer-closed',
  'open close': 'closing',
  'open die': 'dead',
  'peer-closed shutdown': 'peer-closed',
  'peer-closed close': 'closing',
  'peer-closed die': 'dead',
  'closing shutdown': 'closing',
  'closing end': 'ended',
  'closing die': 'dead',
  'dead close': 'dead',
};

const cases = STATES.flatMap((state) => EVENTS.map((event) => ({ state, event, next: ALLOWED[`${state} ${event}`] })));

describe('transitions', () => {
  test.each(cases.filter((c) => c.next !== undefined))('$state takes $event', ({ state, event, next }) => {
    expect(nextState(state, event)).toBe(next);
  });

  test.each(cases.filter((c) => c.next === undefined))('$state refuses $event as a bug', ({ state, event }) => {
    expect(() => nextState(state, event)).toThrow(`'${event}' cannot happen while ${state}`);
  });
});

test.each(STATES)('%s talks to the peer only between the handshake and the end', (state) => {
  expect(isOpen(state)).toBe(state === 'open' || state === 'peer-closed' || state === 'closing');
});
