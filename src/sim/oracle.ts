/**
 * Ground truth computed from outside the ring: who owns a key among the live peers, what a
 * correct peer's pointers are, and whether the peers' own pointers form the ring (Zave's
 * invariant). The simulator uses it to build rings (oracle bootstrap), to judge every lookup and
 * to check the ring; none of it is visible to the peers themselves.
 */
import { ID_BITS, addPowerOfTwo, betweenRightIncl, idEquals, successorIndex } from '../ring/id.js';
import type { PeerRef } from '../protocol/messages.js';

export { successorIndex };

/** The correct pointers of the peer at index k of `sorted`. */
export interface OracleState {
  predecessor: PeerRef | null;
  successors: PeerRef[];
  fingers: (PeerRef | null)[];
}

/**
 * What a correct ring gives sorted[k]: the next min(r, n-1) peers ([self] when alone), the
 * previous peer (null when alone), finger i = successor(self + 2^i). Fingers are found a run at a
 * time (a finger's owner also owns every later start up to it), so this costs about log2 n binary
 * searches, not 160.
 */
export function oracleState(sorted: readonly PeerRef[], k: number, r: number): OracleState {
  const n = sorted.length;
  const self = sorted[k]!;
  if (n === 1) return { predecessor: null, successors: [self], fingers: new Array<PeerRef | null>(ID_BITS).fill(self) };
  const successors: PeerRef[] = [];
  for (let j = 1; j <= Math.min(r, n - 1); j++) successors.push(sorted[(k + j) % n]!);
  const fingers: (PeerRef | null)[] = new Array<PeerRef | null>(ID_BITS).fill(null);
  let i = 0;
  while (i < ID_BITS) {
    const start = addPowerOfTwo(self.id, i);
    const owner = sorted[successorIndex(sorted, start)]!;
    fingers[i] = owner;
    i++;
    if (idEquals(owner.id, start)) continue;
    while (i < ID_BITS && betweenRightIncl(start, addPowerOfTwo(self.id, i), owner.id)) fingers[i++] = owner;
  }
  return { predecessor: sorted[(k - 1 + n) % n]!, successors, fingers };
}

/** What a peer's pointers look like, for the invariant check. */
export interface PeerPointers {
  self: PeerRef;
  successors: readonly PeerRef[];
  predecessor: PeerRef | null;
}

/** Outcome of checking the ring. */
export interface RingCheck {
  /** Zave's invariant: following each peer's first live successor visits every live peer once, in id order. */
  ok: boolean;
  /** Live peers whose first live successor is not the next live peer. */
  wrongSuccessor: number;
  /** Live peers whose predecessor is not the previous live peer (null counts as wrong). */
  wrongPredecessor: number;
  /** Live peers with no live entry in their successor list (the failure assumption is broken). */
  noLiveSuccessor: number;
  /** The first problem, for a failing trace; empty when ok. */
  detail: string;
}

/**
 * Checks the live peers (`sorted` ascending by id) against the ring they must form. A peer's
 * "first live successor" skips dead entries, as its next stabilize would; dead entries themselves
 * are allowed (they are dropped in time). `ok` needs every first live successor right, which makes
 * the successor walk one cycle through all peers in id order.
 */
export function checkRing(sorted: readonly PeerPointers[], isLive: (addr: string) => boolean): RingCheck {
  const n = sorted.length;
  let wrongSuccessor = 0;
  let wrongPredecessor = 0;
  let noLiveSuccessor = 0;
  let detail = '';
  for (let k = 0; k < n; k++) {
    const p = sorted[k]!;
    const next = sorted[(k + 1) % n]!;
    const prev = sorted[(k - 1 + n) % n]!;
    const first = p.successors.find((s) => isLive(s.addr) || idEquals(s.id, p.self.id));
    if (!first) {
      noLiveSuccessor++;
      wrongSuccessor++;
      if (!detail) detail = `${p.self.addr} has no live successor in its list`;
    } else if (!idEquals(first.id, next.self.id)) {
      wrongSuccessor++;
      if (!detail) detail = `${p.self.addr} successor ${first.addr}, want ${next.self.addr}`;
    }
    const pred = p.predecessor;
    const wantPred = n === 1 ? null : prev.self;
    if ((pred === null) !== (wantPred === null) || (pred && wantPred && !idEquals(pred.id, wantPred.id))) wrongPredecessor++;
  }
  return { ok: wrongSuccessor === 0, wrongSuccessor, wrongPredecessor, noLiveSuccessor, detail };
}
