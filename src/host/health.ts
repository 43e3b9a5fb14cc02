/**
 * The true ring, computed from the live membership, and how far the peers' own state is from it.
 * Pure functions over snapshots, so the health report and tests share one definition of
 * "consistent".
 */
import { addPowerOfTwo, compareIds, idFromHex, idToHex, betweenRightIncl, ID_BITS, type Id } from '../ring/index.js';
import type { PeerSnapshot } from './worker-protocol.js';

export interface Health {
  peers: number;
  /**
   * Fraction of peers whose predecessor and whole successor list (the next min(r, n-1) peers)
   * match the true ring: the state lookups answer from, so a lookup through any of them is right.
   */
  ringConsistent: number;
  /**
   * Fraction of peers whose successor, predecessor and every finger match the true ring (NaN when
   * the fingers were not checked).
   */
  fullyConsistent: number;
  /** Keys (by id) stored on fewer peers of their true replica set than the target. */
  keysBelowReplicaTarget: number | null;
  /** Distinct live keys seen across the peers (null when keys were not collected). */
  keys: number | null;
  /** Example differences, for humans. */
  problems: string[];
}

/** Sorted live membership and a successor function over it. */
export class TrueRing {
  readonly ids: Id[];
  readonly hex: string[];

  constructor(peerIds: string[]) {
    this.ids = peerIds.map(idFromHex).sort(compareIds);
    this.hex = this.ids.map(idToHex);
  }

  /** Index of the first peer whose id is >= `key` (wrapping to 0). */
  successorIndex(key: Id): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.ids[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.ids.length ? 0 : lo;
  }

  successorOf(key: Id): string {
    return this.hex[this.successorIndex(key)]!;
  }

  /** The owner and the next replicas-1 peers of a key. */
  replicaSet(key: Id, replicas: number): string[] {
    const start = this.successorIndex(key);
    const n = Math.min(replicas, this.ids.length);
    return Array.from({ length: n }, (_, i) => this.hex[(start + i) % this.ids.length]!);
  }

  /** True owner check used by tests: is `key` in (pred(peer), peer]? */
  owns(peerIndex: number, key: Id): boolean {
    const pred = this.ids[(peerIndex - 1 + this.ids.length) % this.ids.length]!;
    return betweenRightIncl(pred, key, this.ids[peerIndex]!);
  }
}

/**
 * Compares every snapshot with the true ring of the snapshots' own membership. `keysByPeer` maps a
 * peer id (hex) to the key ids it holds; when given, replica coverage is checked too. With
 * `checkFingers` false the fingers are not compared (fullyConsistent is NaN): a caller waiting for
 * the ring to form asks for snapshots without fingers, which at 1,024 peers cost each worker
 * 164,000 hex strings to build and post, and this function as many successor searches.
 */
export function computeHealth(
  peers: PeerSnapshot[],
  replicas: number,
  keysByPeer?: Map<string, string[]>,
  successorListLength = 8,
  checkFingers = true,
): Health {
  const ring = new TrueRing(peers.map((p) => p.id));
  const indexOf = new Map(ring.hex.map((h, i) => [h, i]));
  const problems: string[] = [];
  let ringOk = 0;
  let fullOk = 0;
  const n = ring.ids.length;
  for (const peer of peers) {
    const i = indexOf.get(peer.id)!;
    const succ = ring.hex[(i + 1) % n]!;
    const pred = ring.hex[(i - 1 + n) % n]!;
    // A lone peer's predecessor stays unknown until someone notifies it: that is consistent too.
    const listLength = Math.max(1, Math.min(successorListLength, n - 1));
    let listOk = peer.successors.length === listLength;
    for (let k = 0; k < listLength && listOk; k++) listOk = peer.successors[k] === ring.hex[(i + 1 + k) % n];
    const okRing = listOk && (peer.predecessor === pred || (n === 1 && peer.predecessor === null));
    if (!okRing && problems.length < 5) {
      problems.push(`${peer.addr}: successor ${peer.successors[0]?.slice(0, 8)} (true ${succ.slice(0, 8)}), predecessor ${peer.predecessor?.slice(0, 8) ?? 'unknown'} (true ${pred.slice(0, 8)})`);
    }
    if (!okRing) continue;
    ringOk++;
    if (!checkFingers) continue;
    const self = ring.ids[i]!;
    let fingersOk = true;
    for (let b = 0; b < ID_BITS && fingersOk; b++) {
      if (peer.fingers[b] !== ring.successorOf(addPowerOfTwo(self, b))) fingersOk = false;
    }
    if (fingersOk) fullOk++;
  }
  let below: number | null = null;
  let keys: number | null = null;
  if (keysByPeer) {
    const holders = new Map<string, Set<string>>();
    for (const [peerId, ids] of keysByPeer) {
      for (const k of ids) {
        let set = holders.get(k);
        if (!set) holders.set(k, (set = new Set()));
        set.add(peerId);
      }
    }
    below = 0;
    keys = holders.size;
    for (const [k, set] of holders) {
      const target = ring.replicaSet(idFromHex(k), replicas);
      if (target.filter((p) => set.has(p)).length < target.length) below++;
    }
  }
  return {
    peers: n,
    ringConsistent: n === 0 ? 1 : ringOk / n,
    fullyConsistent: !checkFingers ? NaN : n === 0 ? 1 : fullOk / n,
    keysBelowReplicaTarget: below,
    keys,
    problems,
  };
}
