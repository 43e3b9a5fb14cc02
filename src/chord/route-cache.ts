/**
 * The route cache: which peer owned which id range, as learned from earlier lookups, so an entry
 * peer can send the next request for a key in that range straight to its owner instead of
 * routing it again.
 *
 * An entry is a hint, never an authority: the peer it names checks that it owns the key (key in
 * (predecessor, self]) and refuses otherwise, and the caller then drops the entry and routes
 * normally. A stale entry therefore costs one extra round trip, never a wrong answer.
 *
 * Entries are kept sorted by the owner's id, so finding the range for a key is a binary search
 * for the first owner at or after it (clockwise); ranges never overlap, because inserting a range
 * removes every entry it overlaps (the newer knowledge wins).
 */
import { betweenRightIncl, compareIds, idEquals, type Id } from '../ring/id.js';
import type { PeerRef } from '../protocol/messages.js';

/** One cached range (start, owner.id] with the owner's followers (replica candidates). */
export interface CachedRoute {
  /** The id just before the range: the owner's predecessor when it was learned. */
  start: Id;
  owner: PeerRef;
  followers: PeerRef[];
}

/** Entries kept at most; at 4,096 the whole ring of any dense local cluster fits. */
export const ROUTE_CACHE_DEFAULT_MAX = 4096;

export class RouteCache {
  private entries: CachedRoute[] = []; // sorted by owner id
  private readonly max: number;
  private inserts = 0;
  private readonly insertedAt = new WeakMap<CachedRoute, number>();

  constructor(max = ROUTE_CACHE_DEFAULT_MAX) {
    this.max = max;
  }

  get size(): number {
    return this.entries.length;
  }

  /** The cached route whose range holds `key`, if any. */
  find(key: Id): CachedRoute | undefined {
    const n = this.entries.length;
    if (n === 0) return undefined;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.entries[mid]!.owner.id, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    // No owner at or after key: the range that wraps past zero is the first entry's.
    const e = this.entries[lo === n ? 0 : lo]!;
    return inRange(e, key) ? e : undefined;
  }

  /**
   * Records that `owner` owns (start, owner.id]. Overlapped entries go; when the cache is full the
   * oldest entry goes. A range that is empty or the whole ring (start == owner: a lone peer) is
   * not cached: such an owner is answered from local state anyway.
   */
  insert(route: CachedRoute): void {
    if (idEquals(route.start, route.owner.id)) return;
    // The common case in a steady ring: the same range learned again. Refresh it in place
    // instead of rebuilding the array.
    const same = this.find(route.owner.id);
    if (same && idEquals(same.owner.id, route.owner.id) && idEquals(same.start, route.start) && same.owner.addr === route.owner.addr) {
      same.followers = route.followers;
      this.insertedAt.set(same, this.inserts++);
      return;
    }
    const kept = this.entries.filter((e) => !overlaps(e, route));
    let pos = 0;
    while (pos < kept.length && compareIds(kept[pos]!.owner.id, route.owner.id) < 0) pos++;
    kept.splice(pos, 0, route);
    this.insertedAt.set(route, this.inserts++);
    if (kept.length > this.max) {
      let oldest = 0;
      for (let i = 1; i < kept.length; i++) {
        if (this.insertedAt.get(kept[i]!)! < this.insertedAt.get(kept[oldest]!)!) oldest = i;
      }
      kept.splice(oldest, 1);
    }
    this.entries = kept;
  }

  /** Drops every entry naming `peer` as owner (it refused, failed or left). */
  forgetOwner(peer: PeerRef): void {
    if (this.entries.some((e) => e.owner.addr === peer.addr || idEquals(e.owner.id, peer.id))) {
      this.entries = this.entries.filter((e) => e.owner.addr !== peer.addr && !idEquals(e.owner.id, peer.id));
    }
  }

  clear(): void {
    this.entries = [];
  }
}

function inRange(e: CachedRoute, key: Id): boolean {
  return betweenRightIncl(e.start, key, e.owner.id);
}

/** True when the half-open ranges (a.start, a.owner] and (b.start, b.owner] share a point. */
function overlaps(a: CachedRoute, b: CachedRoute): boolean {
  // Two arcs meet iff one contains the other's end point, or they end at the same point.
  return idEquals(a.owner.id, b.owner.id) || inRange(a, b.owner.id) || inRange(b, a.owner.id);
}
