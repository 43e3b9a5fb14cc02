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
   * not cached: such an owner is answered from local state anyway. True when the cache learned
   * something (false: the same range was known already, or nothing was cached).
   */
  insert(route: CachedRoute): boolean {
    if (idEquals(route.start, route.owner.id)) return false;
    // The common case in a steady ring: the same range learned again. Refresh it in place
    // instead of rebuilding the array.
    const same = this.find(route.owner.id);
    if (same && idEquals(same.owner.id, route.owner.id) && idEquals(same.start, route.start) && same.owner.addr === route.owner.addr) {
      same.followers = route.followers;
      this.insertedAt.set(same, this.inserts++);
      return false;
    }
    const entries = this.entries;
    // Disjoint sorted ranges overlapping (start, end] are the run of owners inside it (starting
    // at the first owner after start, cyclically) plus the entry just after that run when its
    // range reaches over end. Nothing further can reach in without overlapping that entry.
    const doomed: number[] = [];
    const n = entries.length;
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
    doomed.sort((a, b) => b - a);
    for (const idx of doomed) entries.splice(idx, 1);
    entries.splice(this.lowerBound(route.owner.id, false), 0, route);
    this.insertedAt.set(route, this.inserts++);
    if (entries.length > this.max) {
      let oldest = 0;
      for (let k = 1; k < entries.length; k++) {
        if (this.insertedAt.get(entries[k]!)! < this.insertedAt.get(entries[oldest]!)!) oldest = k;
      }
      entries.splice(oldest, 1);
    }
    return true;
  }

  /** Index of the first owner >= id (> id when `strict`), or 0 past the end (wrap-around). */
  private lowerBound(id: Id, strict: boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareIds(this.entries[mid]!.owner.id, id);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.entries.length && strict ? 0 : lo;
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
