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
import { betweenRightIncl, compareIds, idEquals, idTop32, type Id } from '../ring/id.js';
import type { PeerRef } from '../protocol/messages.js';
import { sameList } from './successor-list.js';

/**
 * What a lookup does with the route cache. 'use': a client request that goes through it, so the
 * answer carries the owner's whole successor list and teaches the cache every range it can.
 * 'skip': a request that opted out (noRouteCache): it leaves the cache as it found it, as a peer
 * without one would. 'learn': the peer's own lookups (joins, fingers, the store's upkeep), which
 * cache the owner's range from the short answer they get anyway.
 */
export type RouteCacheUse = 'use' | 'skip' | 'learn';

/** One cached range (start, owner.id] with the owner's followers (replica candidates). */
export interface CachedRoute {
  /** The id just before the range: the owner's predecessor when it was learned. */
  start: Id;
  owner: PeerRef;
  followers: PeerRef[];
}

/** Entries kept at most; at 4,096 the whole ring of any dense local cluster fits. */
export const ROUTE_CACHE_DEFAULT_MAX = 4096;

/** A stored route: the caller's fields, and when it was last learned (for eviction). */
interface Entry extends CachedRoute {
  stamp: number;
}

export class RouteCache {
  private entries: Entry[] = []; // sorted by owner id
  /**
   * idTop32 of each entry's owner id, index for index: the binary searches compare these numbers
   * and read an id only on a tie, so a search over hundreds of entries reads one packed array
   * instead of chasing entry -> owner -> id bytes for every probe.
   */
  private tops: number[] = [];
  private readonly max: number;
  private inserts = 0;

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
    const lo = this.lowerBound(key, false);
    // No owner at or after key: the range that wraps past zero is the first entry's.
    const e = this.entries[lo === n ? 0 : lo]!;
    return inRange(e, key) ? e : undefined;
  }

  /**
   * Records that `owner` owns (start, owner.id]. Overlapped entries go; when the cache is full the
   * oldest entry goes. A range that is empty or the whole ring (start == owner: a lone peer) is
   * not cached: such an owner is answered from local state anyway. True when the cache learned
   * something (false: the same range was known already, or nothing was cached).
   */
  insert(route: CachedRoute): boolean {
    if (idEquals(route.start, route.owner.id)) return false;
    const entries = this.entries;
    const n = entries.length;
    // The common case in a steady ring: the same range learned again. Refresh it in place
    // instead of rebuilding the array.
    const at = this.lowerBound(route.owner.id, false);
    const same = n > 0 ? entries[at === n ? 0 : at]! : undefined;
    if (same && idEquals(same.owner.id, route.owner.id) && idEquals(same.start, route.start) && same.owner.addr === route.owner.addr) {
      // Keep the stored list when nothing changed: the new one would live in this long-lived
      // entry, so it gets promoted to the old generation only to die at the next refresh, and its
      // ids, views into a socket read, would pin that whole read buffer until then.
      if (!sameList(same.followers, route.followers)) same.followers = route.followers;
      same.stamp = this.inserts++;
      return false;
    }
    // Disjoint sorted ranges overlapping (start, end] are the run of owners inside it (starting
    // at the first owner after start, cyclically) plus the entry just after that run when its
    // range reaches over end. Nothing further can reach in without overlapping that entry.
    const doomed: number[] = [];
    const first = this.lowerBound(route.start, true);
    for (let c = 0; c < n; c++) {
      const idx = (first + c) % n;
      const e = entries[idx]!;
      if (betweenRightIncl(route.start, e.owner.id, route.owner.id)) {
        doomed.push(idx);
        continue;
      }
      if (inRange(e, route.owner.id)) doomed.push(idx);
      break;
    }
    doomed.sort((x, y) => y - x);
    for (const idx of doomed) this.removeAt(idx);
    const entry: Entry = { start: route.start, owner: route.owner, followers: route.followers, stamp: this.inserts++ };
    const pos = this.lowerBound(route.owner.id, false);
    entries.splice(pos, 0, entry);
    this.tops.splice(pos, 0, idTop32(route.owner.id));
    if (entries.length > this.max) {
      let oldest = 0;
      for (let k = 1; k < entries.length; k++) if (entries[k]!.stamp < entries[oldest]!.stamp) oldest = k;
      this.removeAt(oldest);
    }
    return true;
  }

  /** Index of the first owner >= id (> id when `strict`, and then 0 past the end: wrap-around). */
  private lowerBound(id: Id, strict: boolean): number {
    const tops = this.tops;
    const t = idTop32(id);
    let lo = 0;
    let hi = tops.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = tops[mid]!;
      const c = m !== t ? (m < t ? -1 : 1) : compareIds(this.entries[mid]!.owner.id, id);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo === tops.length && strict ? 0 : lo;
  }

  private removeAt(idx: number): void {
    this.entries.splice(idx, 1);
    this.tops.splice(idx, 1);
  }

  /** Drops every entry naming `peer` as owner (it refused, failed or left). */
  forgetOwner(peer: PeerRef): void {
    if (this.entries.some((e) => e.owner.addr === peer.addr || idEquals(e.owner.id, peer.id))) {
      this.entries = this.entries.filter((e) => e.owner.addr !== peer.addr && !idEquals(e.owner.id, peer.id));
      this.tops = this.entries.map((e) => idTop32(e.owner.id));
    }
  }

  clear(): void {
    this.entries = [];
    this.tops = [];
  }
}

function inRange(e: CachedRoute, key: Id): boolean {
  return betweenRightIncl(e.start, key, e.owner.id);
}
