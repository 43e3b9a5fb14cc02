/**
 * The Chord peer's tunables: one frozen defaults object by name, and the resolution of a partial
 * `ChordInit` into a complete, validated configuration. Kept apart from the peer so the node layer
 * and the CLI can show and check the same defaults without constructing a peer.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { Id } from '../ring/id.js';

/**
 * Defaults for every ChordInit option. Frozen so a caller cannot change them for everyone; each
 * value is a starting point that keeps a 64-peer ring converging in a few seconds of wall time.
 */
export const CHORD_DEFAULTS = Object.freeze({
  successorListLength: 8, // r: the ring survives r-1 consecutive failures between two stabilize rounds
  stabilizeIntervalMs: 1000, // period of stabilize (successor list repair and notify)
  fixFingersIntervalMs: 1000, // period of fixFingers; each tick refreshes fingersPerRound fingers
  fingersPerRound: 8, // finger lookups per fixFingers tick (fingers filled for free do not count)
  checkPredecessorIntervalMs: 1000, // period of the predecessor liveness ping
  requestTimeoutMs: 1000, // deadline of every request the peer sends
  maxLookupSteps: 64, // remote findSuccessor steps before a lookup gives up with LOOKUP_FAILED
  // Most a quiet ring stretches the stabilize and checkPredecessor periods by (doubling after each
  // round that changed nothing, back to 1x on any change); 1 keeps them fixed.
  quietBackoffMax: 8,
  // Periodic steps fall due on multiples of this many ms of the clock (1: whenever their period
  // ends). Real peers use a coarser grid, so that one wake-up of a host thread serves many peers'
  // timers; the in-memory tests keep exact periods.
  timerGridMs: 1,
});

/** What a ChordPeer is constructed with: its identity, plus optional overrides of CHORD_DEFAULTS. */
export interface ChordInit {
  /** This peer's 20-byte id (normally SHA-1 of addr). */
  id: Id;
  /** The address other peers reach this peer at (host:port, or any string on the memory network). */
  addr: string;
  /** r, the successor list length. @default 8 */
  successorListLength?: number;
  /** @default 1000 */
  stabilizeIntervalMs?: number;
  /** @default 1000 */
  fixFingersIntervalMs?: number;
  /** @default 8 */
  fingersPerRound?: number;
  /** @default 1000 */
  checkPredecessorIntervalMs?: number;
  /** @default 1000 */
  requestTimeoutMs?: number;
  /** @default 64 */
  maxLookupSteps?: number;
  /** @default 8 */
  quietBackoffMax?: number;
  /** @default 1 (no grid) */
  timerGridMs?: number;
  /** Cache owner ranges learned from lookups and send client requests straight there. @default true */
  routeCache?: boolean;
  /**
   * Route lookups recursively first (answer straight back from the resolving peer), falling back
   * to iterative lookups; only where the transport carries one-way messages. @default true
   */
  recursiveLookups?: boolean;
}

/** A fully resolved configuration: every option present and checked. */
export type ChordConfig = { -readonly [K in keyof typeof CHORD_DEFAULTS]: number };

/**
 * Fills unset options from CHORD_DEFAULTS and rejects nonsense (non-integers, zero or negative
 * values) with INVALID_REQUEST, so a bad flag fails at construction rather than as a silent
 * busy loop or a ring that never repairs.
 */
export function resolveChordConfig(init: Partial<ChordConfig> & { routeCache?: boolean; recursiveLookups?: boolean }): ChordConfig {
  const out = { ...CHORD_DEFAULTS } as ChordConfig;
  for (const name of Object.keys(CHORD_DEFAULTS) as (keyof ChordConfig)[]) {
    const value = init[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RingwireError(ErrorCode.INVALID_REQUEST, `${name} must be a positive integer, got ${String(value)}`);
    }
    out[name] = value;
  }
  return out;
}
