/**
 * The finger table: entry i points at successor(self + 2^i), the peer that lets a lookup halve
 * the remaining distance to a key. Starts are computed once at construction, so refreshing and
 * routing never allocate ids.
 *
 * Refreshing is cheap thanks to two facts used by `fillUpTo` and `fillRun`: every finger whose
 * start lies in (self, successor] is the successor (most of the 160 fingers in a ring of any
 * realistic size), and once successor(start_i) = s is known, every later finger whose start lies
 * in (start_i, s] is s as well. A full refresh thus costs about log2(N) lookups, not 160.
 */
import { ID_BITS, addPowerOfTwo, betweenRightIncl, idEquals, type Id } from '../ring/id.js';
import type { PeerRef } from '../protocol/messages.js';
import { samePeerAndAddr } from './peer-ref.js';

/** Fingers of one peer; entries are null until known (or after the peer they named failed). */
export class FingerTable {
  /** start_i = self + 2^i, for i in [0, 160). */
  readonly starts: readonly Id[];
  private readonly entries: (PeerRef | null)[];
  private readonly selfId: Id;
  /** `routing`'s list, rebuilt on first use after an entry changed; null until then. */
  private runs: PeerRef[] | null = null;

  constructor(selfId: Id) {
    this.selfId = selfId;
    const starts: Id[] = [];
    for (let i = 0; i < ID_BITS; i++) starts.push(addPowerOfTwo(selfId, i));
    this.starts = starts;
    this.entries = new Array<PeerRef | null>(ID_BITS).fill(null);
  }

  /** The 160 entries, live (not a copy): read them, never write them. */
  get all(): readonly (PeerRef | null)[] {
    return this.entries;
  }

  /**
   * The entries in finger order with nulls left out and each run of one peer kept once: what
   * routing scans (closestPreceding gives the same answer from it as from all 160 entries). In a
   * ring of N peers that is about log2 N entries, so a routing step reads a handful of pointers
   * instead of 160. Live until the next change: read it, never write it.
   */
  get routing(): readonly PeerRef[] {
    if (this.runs === null) {
      const runs: PeerRef[] = [];
      for (const f of this.entries) if (f !== null && !samePeerAndAddr(f, runs[runs.length - 1] ?? null)) runs.push(f);
      this.runs = runs;
    }
    return this.runs;
  }

  get(i: number): PeerRef | null {
    return this.entries[i] ?? null;
  }

  set(i: number, peer: PeerRef | null): void {
    this.put(i, peer);
  }

  /** Points every finger at `peer` (a peer alone points all of them at itself). */
  fill(peer: PeerRef | null): void {
    this.entries.fill(peer);
    this.runs = null;
  }

  private put(i: number, peer: PeerRef | null): void {
    // The same peer freshly decoded from a reply is not a change: keeping the stored object keeps
    // `routing` built and keeps the new one (and the socket read its id is a view into) from
    // being retained until the next refresh.
    if (samePeerAndAddr(this.entries[i] ?? null, peer)) return;
    this.entries[i] = peer;
    this.runs = null;
  }

  /**
   * Sets every finger whose start lies in (self, successor] to `successor`, with no lookup, and
   * returns how many there are: fingers [0, n) are then settled. A successor equal to self (a
   * lone peer) settles all of them.
   */
  fillUpTo(successor: PeerRef): number {
    let i = 0;
    while (i < ID_BITS && betweenRightIncl(this.selfId, this.starts[i]!, successor.id)) {
      this.put(i, successor);
      i++;
    }
    return i;
  }

  /**
   * Records `owner` = successor(start_i) for finger i, and for every following finger whose start
   * also lies in (start_i, owner] (they share the same successor). Returns the first index not
   * settled, at most 160.
   */
  fillRun(i: number, owner: PeerRef): number {
    const start = this.starts[i]!;
    this.put(i, owner);
    let j = i + 1;
    // owner == start would make (start, owner] the whole circle: only finger i is then known.
    if (idEquals(owner.id, start)) return j;
    while (j < ID_BITS && betweenRightIncl(start, this.starts[j]!, owner.id)) {
      this.put(j, owner);
      j++;
    }
    return j;
  }

  /** Clears every finger naming `id` (a peer seen to fail or leave); true when one was cleared. */
  remove(id: Id): boolean {
    let changed = false;
    for (let i = 0; i < ID_BITS; i++) {
      const f = this.entries[i];
      if (f && idEquals(f.id, id)) {
        this.put(i, null);
        changed = true;
      }
    }
    return changed;
  }

  /** The distinct entries in finger order (nulls skipped): the peer's long-range contacts. */
  distinct(): PeerRef[] {
    const out: PeerRef[] = [];
    let prev: PeerRef | null = null;
    for (const f of this.entries) {
      if (!f || f === prev) continue;
      prev = f;
      if (!out.some((p) => idEquals(p.id, f.id))) out.push(f);
    }
    return out;
  }
}
