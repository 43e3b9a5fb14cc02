/**
 * The slice of a Chord peer the store needs. Declared here, structurally, so the store depends on
 * what it uses (routing, ownership, membership changes) and not on ChordPeer's class: the chord
 * peer satisfies it as is, and tests can drive the store with a fake ring.
 */
import type { Id } from '../ring/id.js';
import type { PeerRef, StoredRecord } from '../protocol/messages.js';
import type { RouteCacheUse } from '../chord/route-cache.js';

/** Where a key lives, as resolved by a lookup. */
export interface RingLookup {
  /** The key's successor: the peer that owns it. */
  owner: PeerRef;
  /** Peers after the owner as known by the resolving peer: the replica candidates (may be empty). */
  successors: PeerRef[];
  /** Forwards after the entry peer (0 when it answered from its own state). */
  hops: number;
}

/** What changed in the peer's neighbourhood; the store moves and repairs keys on it. */
export interface RingViewChange {
  /** Present when the predecessor changed: its old and new value (null = unknown). */
  predecessor?: { from: PeerRef | null; to: PeerRef | null };
  /** True when the successor list changed (the replica set of our keys may have moved). */
  successorsChanged: boolean;
}

/** A peer's view of the ring, as the store consumes it. */
export interface RingView {
  /** This peer. */
  readonly self: PeerRef;
  /** The current predecessor, null while unknown. */
  readonly predecessor: PeerRef | null;
  /** The successor list, nearest first; `[self]` when the peer is alone. */
  readonly successors: readonly PeerRef[];
  /**
   * Resolves the owner of `key` (and its successors) through the ring. `cache`: what the answer
   * does to the ring's route cache (see RouteCacheUse; the store's own upkeep leaves it unset).
   */
  findSuccessor(key: Id, cache?: RouteCacheUse): Promise<RingLookup>;
  /** True when `keyId` lies in (predecessor, self]. */
  owns(keyId: Id): boolean;
  /** Tells the ring that `peer` just failed a request, so routing drops it at once. */
  suspect(peer: PeerRef): void;
  /**
   * A cached owner of `key` (route cache), or undefined. A hint only: requests sent on it carry
   * mustOwn so the owner refuses a key it does not own.
   */
  cachedRoute?(key: Id): RingLookup | undefined;
  /** Drops cached routes to `owner` (it refused or failed a request sent on one). */
  forgetRoute?(owner: PeerRef): void;
  /**
   * findSuccessor for a get: the owner may read `readKey` on the way and send its copy along
   * (`read`); without `read` the store reads from the owner itself.
   */
  findSuccessorForRead?(key: Id, readKey: Uint8Array, cache?: RouteCacheUse): Promise<RingLookup & { read?: { record: StoredRecord | null } }>;
  /** Gives the ring the store's local read, for the owner's side of findSuccessorForRead. */
  setOwnerReader?(read: (key: Uint8Array) => StoredRecord | null): void;
  /** Subscribes to neighbourhood changes; returns the unsubscribe function. */
  onChange(listener: (change: RingViewChange) => void): () => void;
}
