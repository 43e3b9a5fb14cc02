/**
 * The registry's member table, without sockets or timers: who is registered, through which
 * connection ("owner"), and random samples of them.
 *
 * Kept pure so the rules that matter for bootstrapping (one entry per id, the newest registration
 * wins, a connection's peers leave with it, a sample never repeats a peer) are plain data
 * operations, and the server only decides *when* to call them.
 */
import type { Random } from '../chord/clock.js';
import type { PeerRef } from '../protocol/messages.js';
import { compareIds, idToHex } from '../ring/index.js';

/** One registration: the peer and the connection it arrived on. */
export interface MemberEntry<Owner> {
  readonly peer: PeerRef;
  readonly owner: Owner;
}

/**
 * Members by id, each tied to the owner (connection) that registered it. `Owner` is opaque here:
 * the server uses its per-connection state object, tests use strings.
 */
export class Membership<Owner> {
  private readonly byId = new Map<string, MemberEntry<Owner>>();
  private readonly byOwner = new Map<Owner, Set<string>>();

  /** Number of registered peers. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Registers `peer` under `owner`. An entry with the same id is replaced (whoever owned it loses
   * it), because a peer that re-registers from a new connection has restarted or reconnected and
   * its old connection is stale. Returns the replaced entry, if any. The peer is copied, so the
   * table never holds on to a decoded wire object.
   */
  add(peer: PeerRef, owner: Owner): MemberEntry<Owner> | undefined {
    const key = idToHex(peer.id);
    const previous = this.byId.get(key);
    if (previous !== undefined) this.unlinkOwner(previous.owner, key);
    const entry: MemberEntry<Owner> = { peer: { id: Uint8Array.from(peer.id), addr: String(peer.addr) }, owner };
    this.byId.set(key, entry);
    let ids = this.byOwner.get(owner);
    if (ids === undefined) {
      ids = new Set();
      this.byOwner.set(owner, ids);
    }
    ids.add(key);
    return previous;
  }

  /**
   * Removes the entry for `peer`'s id, but only when `owner` holds it: a stale connection that
   * says goodbye after its peer re-registered elsewhere must not remove the fresh entry.
   * Returns the removed entry, if any.
   */
  remove(peer: Pick<PeerRef, 'id'>, owner: Owner): MemberEntry<Owner> | undefined {
    const key = idToHex(peer.id);
    const entry = this.byId.get(key);
    if (entry === undefined || entry.owner !== owner) return undefined;
    this.byId.delete(key);
    this.unlinkOwner(owner, key);
    return entry;
  }

  /** Removes every peer `owner` registered (its connection closed or went silent); returns them. */
  removeOwner(owner: Owner): PeerRef[] {
    const ids = this.byOwner.get(owner);
    if (ids === undefined) return [];
    this.byOwner.delete(owner);
    const removed: PeerRef[] = [];
    for (const key of ids) {
      const entry = this.byId.get(key);
      if (entry !== undefined && entry.owner === owner) {
        this.byId.delete(key);
        removed.push(entry.peer);
      }
    }
    return removed;
  }

  /** Number of peers `owner` currently holds. */
  ownedBy(owner: Owner): number {
    return this.byOwner.get(owner)?.size ?? 0;
  }

  /** The entry for `id`, if registered. */
  get(id: Uint8Array): MemberEntry<Owner> | undefined {
    return this.byId.get(idToHex(id));
  }

  /** Every member, sorted by id (ring order from 0), as copies the caller may keep. */
  list(): PeerRef[] {
    const peers = [...this.byId.values()].map((e) => copyPeer(e.peer));
    peers.sort((a, b) => compareIds(a.id, b.id));
    return peers;
  }

  /**
   * Up to `count` distinct members chosen uniformly at random (a partial Fisher-Yates shuffle,
   * O(size) once, with the injected random source so tests are reproducible). Fewer when the
   * table is smaller; empty for count <= 0.
   */
  sample(count: number, random: Random): PeerRef[] {
    const all = [...this.byId.values()];
    const n = Math.min(Math.max(0, Math.floor(count)), all.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.min(all.length - i - 1, Math.floor(random() * (all.length - i)));
      const tmp = all[i]!;
      all[i] = all[j]!;
      all[j] = tmp;
    }
    return all.slice(0, n).map((e) => copyPeer(e.peer));
  }

  private unlinkOwner(owner: Owner, key: string): void {
    const ids = this.byOwner.get(owner);
    if (ids === undefined) return;
    ids.delete(key);
    if (ids.size === 0) this.byOwner.delete(owner);
  }
}

function copyPeer(p: PeerRef): PeerRef {
  return { id: Uint8Array.from(p.id), addr: p.addr };
}
