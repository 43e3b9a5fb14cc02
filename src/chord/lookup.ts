/**
 * Lookup: the one routing step a peer answers (`findSuccessorStep`) and the iterative driver that
 * chains such steps from the peer that started the lookup (`iterativeLookup`).
 *
 * Iterative rather than recursive so that the driver sees every failure itself: a candidate that
 * does not answer is skipped (and reported, so the peer drops it) and the next best one is asked,
 * and a lookup around a dead peer completes within one call. This is the hot path of every
 * get/put, so candidate selection works in place on small arrays and never builds id strings.
 */
import { ErrorCode, RingwireError, describeError, hasCode, isPeerFailure } from '../errors/errors.js';
import { between, betweenRightIncl, idEquals, idToHex, idTop32, type Id } from '../ring/id.js';
import { expectReply, type FindSuccessorReply, type PeerRef } from '../protocol/messages.js';
import { checkPeerList, samePeer } from './peer-ref.js';
import type { Transport } from './transport.js';

/**
 * The answer to "who owns key": `owner` is successor(key); `successors` are the peers after the
 * owner as known by the peer that resolved the lookup (replica candidates, possibly empty); `hops`
 * counts successful remote findSuccessor steps (0 = answered from the entry peer's own state).
 */
export interface LookupResult {
  owner: PeerRef;
  successors: PeerRef[];
  hops: number;
  /**
   * The peers that answered the remote steps, in order (path.length === hops), so a user can see
   * the route; the bootstrap peer of a join, whose id is not known yet, is left out.
   */
  path: PeerRef[];
  /**
   * The id just before the owner's range, as the answering peer knew it (the owner's
   * predecessor): with it the owner's whole range (rangeStart, owner] can be cached. Absent when
   * the answer did not say, or the owner was not the first node of the answer.
   */
  rangeStart?: Id;
}

/** Candidates a peer returns in a not-done step reply: enough to route around a dead one. */
export const STEP_REPLY_CANDIDATES = 4;
/** Candidates the entry peer seeds a lookup with from its own state. */
export const LOCAL_CANDIDATES = 8;
/** Most nodes accepted in one step reply (a successor list plus the replier itself). */
export const MAX_REPLY_NODES = 256;

/**
 * Inserts `p` into `out`, which is kept sorted best first: closest to `key` going clockwise
 * (i.e. p before q when p lies in (q, key)). Duplicates (by id) are ignored and the array never
 * grows past `max`. All entries must differ from key, which holds for preceding candidates.
 */
export function addCandidate(out: PeerRef[], p: PeerRef, key: Id, max: number): void {
  let pos = -1;
  for (let i = 0; i < out.length; i++) {
    const q = out[i]!;
    if (q === p || idEquals(q.id, p.id)) return;
    if (pos < 0 && between(q.id, p.id, key)) pos = i;
  }
  if (pos < 0) pos = out.length;
  if (pos >= max) return;
  // Shift by hand (splice is a slow call for arrays this small); a full array drops its last.
  for (let i = out.length < max ? out.length : max - 1; i > pos; i--) out[i] = out[i - 1]!;
  out[pos] = p;
}

/** The ring in units of 2^128: idTop32 differences are taken modulo this. */
const UNITS = 0x1_0000_0000;
/**
 * closestPreceding's ranks, index for index with its result, for up to 64 candidates (routing asks
 * for 4 or 8). Module-level because the function is synchronous and never re-entered: one buffer
 * serves every call without allocating.
 */
const RANKS = new Float64Array(64);

/**
 * Up to `max` distinct peers from `fingers` and `successors` that lie strictly between `self`
 * and `key`, best (closest to key) first: Chord's closest preceding nodes, with the successor list
 * included so routing still progresses while fingers are stale or cleared.
 *
 * A peer's clockwise distance from self is u * 2^128 + (the difference of the ids' last 16 bytes,
 * which lies strictly between -2^128 and 2^128), u being the difference of their first four bytes
 * (idTop32) modulo 2^32. So a larger u means farther from self, whether for two peers or for a
 * peer and the key, and whole ids are compared only when the u are equal, or 0 (the peer, or the
 * key, is then just after self or just before it, a whole circle away): odds of about 2^-31 per
 * pair for random ids. A candidate costs a few arithmetic operations where comparing whole ids
 * against the key and against every kept candidate cost some fifty byte-wise comparisons a step.
 */
export function closestPreceding(
  self: Id,
  key: Id,
  fingers: readonly (PeerRef | null)[],
  successors: readonly PeerRef[],
  max: number,
): PeerRef[] {
  const out: PeerRef[] = [];
  if (max <= 0) return out;
  const ranks = max <= 64 ? RANKS : new Float64Array(max);
  const base = idTop32(self);
  // The key's distance in units; UNITS when key == self ((self, self) is the whole circle but
  // self). 0 otherwise: the key is just after or just before self, so decide every peer in full.
  let keyUnits = idTop32(key) - base;
  if (keyUnits < 0) keyUnits += UNITS;
  let exact = false;
  if (keyUnits === 0) {
    if (idEquals(self, key)) keyUnits = UNITS;
    else exact = true;
  }
  let prev: PeerRef | null = null;
  for (let i = fingers.length - 1; i >= 0; i--) {
    const f = fingers[i];
    // Neighbouring fingers usually hold the same object: test each run once.
    if (!f || f === prev) continue;
    prev = f;
    consider(out, ranks, f, self, key, base, keyUnits, exact, max);
  }
  for (let i = successors.length - 1; i >= 0; i--) consider(out, ranks, successors[i]!, self, key, base, keyUnits, exact, max);
  return out;
}

/**
 * Adds `p` to `out` (best first, at most `max`) when it lies in (self, key) and is not there yet.
 * Its rank is its distance from self in units of 2^128 (see closestPreceding); 0 says nothing (it
 * may then lie just after self or just before it, a whole circle away).
 */
function consider(out: PeerRef[], ranks: Float64Array, p: PeerRef, self: Id, key: Id, base: number, keyUnits: number, exact: boolean, max: number): void {
  let units = idTop32(p.id) - base;
  if (units < 0) units += UNITS;
  if (exact || units === 0 || units === keyUnits) {
    if (!between(self, p.id, key)) return;
  } else if (units > keyUnits) {
    return;
  }
  const n = out.length;
  let pos = n;
  // Fingers come farthest first, and then the successor list, nearest to self: in a settled
  // ring every new candidate ranks below the last one kept, which this settles at once.
  const last = n > 0 ? ranks[n - 1]! : 0;
  for (let i = units > 0 && last > units ? n : 0; i < n; i++) {
    const r = ranks[i]!;
    // p ranks above out[i] (lies in (out[i], key)) when it is more units from self; with equal
    // or unknown ranks the ids decide.
    if (units > 0 && r > 0 && units !== r) {
      if (units > r) {
        pos = i;
        break;
      }
      continue;
    }
    const q = out[i]!;
    // The same peer: out is sorted strictly, so a copy of p can only be met here.
    if (q === p || idEquals(q.id, p.id)) return;
    if (between(q.id, p.id, key)) {
      pos = i;
      break;
    }
  }
  if (pos >= max) return;
  // Shift by hand (splice is a slow call for arrays this small); a full array drops its last.
  for (let i = n < max ? n : max - 1; i > pos; i--) {
    out[i] = out[i - 1]!;
    ranks[i] = ranks[i - 1]!;
  }
  out[pos] = p;
  ranks[pos] = units;
}

/** What a peer knows, as the step function needs it. */
export interface StepState {
  self: PeerRef;
  predecessor: PeerRef | null;
  successors: readonly PeerRef[];
  /** The fingers in finger order: all 160 (null where unknown), or FingerTable.routing's short list. */
  fingers: readonly (PeerRef | null)[];
  r: number;
}

/**
 * The nodes from `successors[i]` (the owner) on, as this peer knows them: its list from i, plus
 * itself when the list is shorter than r (the ring is smaller than r+1, so the list wrapped around
 * to us and we are the next peer after the last entry).
 */
export function ownerAndFollowers(state: StepState, i: number): PeerRef[] {
  const list = state.successors.slice(i);
  if (state.successors.length < state.r && !samePeer(state.successors[0], state.self)) list.push(state.self);
  return list;
}

/**
 * One routing step for `key` at this peer. Done when the key is ours to place, and then `nodes`
 * starts with the owner, followed by the peers after it:
 * - a lone peer owns everything: [self];
 * - key in (self, successor]: the successor list (owner first); more generally key in
 *   (successors[i-1], successors[i]] for any entry of the list: the list from i. Answering from
 *   the whole list (not only the first successor) is what lets a lookup for a key just after a
 *   dead peer D succeed: D's predecessor knows D's successor even though D cannot answer;
 * - key in (predecessor, self]: [self, ...successors].
 * Otherwise `nodes` are up to `maxCandidates` closest preceding candidates (fingers and list),
 * best first.
 */
export function findSuccessorStep(state: StepState, key: Id, maxCandidates = STEP_REPLY_CANDIDATES): FindSuccessorReply {
  const { self, predecessor, successors } = state;
  const last = successors[successors.length - 1]!;
  if (samePeer(last, self)) return { type: 'findSuccessorReply', done: true, nodes: [self], rangeStart: self.id };
  if (betweenRightIncl(self.id, key, last.id)) {
    let prev = self.id;
    for (let i = 0; i < successors.length; i++) {
      const s = successors[i]!;
      if (betweenRightIncl(prev, key, s.id)) return { type: 'findSuccessorReply', done: true, nodes: ownerAndFollowers(state, i), rangeStart: prev };
      prev = s.id;
    }
  }
  if (predecessor && betweenRightIncl(predecessor.id, key, self.id)) {
    return { type: 'findSuccessorReply', done: true, nodes: [self, ...successors], rangeStart: predecessor.id };
  }
  const nodes = closestPreceding(self.id, key, state.fingers, successors, maxCandidates);
  // The list is sorted, so its first entry lies in (self, key) here and nodes is never empty;
  // the guard covers a list that is not in ring order (mid-repair).
  if (nodes.length === 0) nodes.push(successors[0]!);
  return { type: 'findSuccessorReply', done: false, nodes };
}

/** What the driver needs from its peer. */
export interface LookupContext {
  readonly self: PeerRef;
  readonly transport: Transport;
  readonly requestTimeoutMs: number;
  readonly maxLookupSteps: number;
  /** Called for a candidate that failed (gone or not in a ring): the peer forgets it. */
  onPeerGone(peer: PeerRef): void;
  /** True for an address that failed recently: never asked, never returned as owner. */
  isRecentlyGone(addr: string): boolean;
  /** Followers wanted with the owner; fewer trigger one confirming step at the owner. */
  readonly minFollowers: number;
}

/**
 * True when an error says the peer cannot take part in routing: it is unreachable (isPeerFailure)
 * or it answered NOT_READY (stopped, leaving, not yet joined).
 */
export function isGone(err: unknown): boolean {
  return isPeerFailure(err) || hasCode(err, ErrorCode.NOT_READY);
}

/** How a lookup starts, besides the entry peer's own closest preceding candidates. */
export interface LookupStart {
  /** Asked first, its id unknown: the bootstrap peer of a join. */
  bootstrapAddr?: string;
  /** A done answer from the entry peer's own state, owner first, to confirm (see below). */
  localDone?: readonly PeerRef[];
  /** The rangeStart of localDone. */
  localRangeStart?: Id;
}

/**
 * Resolves successor(key) by asking peers one at a time, always the known candidate closest to the
 * key that has not been asked yet. `seeds` are the entry peer's own candidates. A candidate that
 * fails is skipped and reported through onPeerGone. Candidates in a not-done reply must lie
 * strictly between the replier and the key, and every peer is asked at most once, so the walk
 * cannot loop; it stops with LOOKUP_FAILED after maxLookupSteps requests or when no candidate is
 * left.
 *
 * A done answer names the owner and the followers its sender knows. The first owner that has not
 * failed (in this lookup, or recently as far as the context knows) is taken. When it comes with
 * fewer than `minFollowers` followers (the key sat deep in the sender's list), one more step at
 * the owner itself fetches its full list, which the store needs for replicas, and proves it alive;
 * an owner that fails there is skipped for the next entry.
 */
export async function iterativeLookup(ctx: LookupContext, key: Id, seeds: readonly PeerRef[], start: LookupStart = {}): Promise<LookupResult> {
  const pool: PeerRef[] = [];
  for (const s of seeds) if (!samePeer(s, ctx.self)) addCandidate(pool, s, key, Number.MAX_SAFE_INTEGER);
  const asked = new Set<string>();
  const failed = new Set<string>();
  let pendingBootstrap = start.bootstrapAddr;
  let done: readonly PeerRef[] | undefined = start.localDone;
  let doneStart: Id | undefined = start.localRangeStart;
  let steps = 0;
  let hops = 0;
  const path: PeerRef[] = [];
  let lastError: unknown;

  /** One remote step; null when the peer failed (recorded), the reply otherwise. */
  const ask = async (addr: string, target: PeerRef | null): Promise<FindSuccessorReply | null> => {
    if (steps >= ctx.maxLookupSteps) {
      throw new RingwireError(ErrorCode.LOOKUP_FAILED, `lookup of ${idToHex(key)} gave up after ${steps} steps`, { cause: lastError });
    }
    steps++;
    asked.add(addr);
    try {
      const res = await ctx.transport.request(addr, { type: 'findSuccessor', key }, { timeoutMs: ctx.requestTimeoutMs });
      const reply = expectReply(res, 'findSuccessorReply');
      checkPeerList(reply.nodes, 'findSuccessorReply.nodes', MAX_REPLY_NODES, ErrorCode.PROTOCOL_ERROR);
      hops++;
      if (target) path.push(target);
      return reply;
    } catch (err) {
      lastError = err;
      failed.add(addr);
      if (target && isGone(err)) ctx.onPeerGone(target);
      return null;
    }
  };
  const usable = (p: PeerRef): boolean => !failed.has(p.addr) && !ctx.isRecentlyGone(p.addr);

  for (;;) {
    if (done) {
      const nodes = done;
      const nodesStart = doneStart;
      done = undefined;
      doneStart = undefined;
      for (let i = 0; i < nodes.length; i++) {
        const owner = nodes[i]!;
        if (!usable(owner)) continue;
        const followers = nodes.slice(i + 1);
        const settled = followers.length >= ctx.minFollowers || samePeer(owner, ctx.self) || asked.has(owner.addr);
        // The range start names the node before nodes[0]: it describes later entries' ranges not.
        const rangeStart = i === 0 ? nodesStart : undefined;
        if (settled || steps >= ctx.maxLookupSteps) {
          return withRange({ owner, successors: followers, hops, path }, rangeStart);
        }
        const confirm = await ask(owner.addr, owner);
        if (!confirm) continue; // the owner is dead: the next entry takes over
        const full = confirm.done && confirm.nodes.length > 0 && samePeer(confirm.nodes[0], owner);
        // An owner that disagrees (its predecessor is still unknown) does not outvote the answer.
        return withRange({ owner, successors: full ? confirm.nodes.slice(1) : followers, hops, path }, full ? replyRangeStart(confirm) : rangeStart);
      }
      // every node it named failed us: try the remaining candidates
    }

    let target: PeerRef | null = null;
    let addr: string;
    if (pendingBootstrap !== undefined) {
      addr = pendingBootstrap;
      pendingBootstrap = undefined;
    } else {
      while (pool.length > 0 && (asked.has(pool[0]!.addr) || ctx.isRecentlyGone(pool[0]!.addr))) pool.shift();
      const next = pool.shift();
      if (!next) break;
      target = next;
      addr = next.addr;
    }
    const reply = await ask(addr, target);
    if (!reply) continue;
    if (reply.done) {
      done = reply.nodes;
      doneStart = replyRangeStart(reply);
      continue;
    }
    for (const n of reply.nodes) {
      if (samePeer(n, ctx.self) || asked.has(n.addr)) continue;
      // Only strictly closer candidates: a replier cannot send the walk backwards or in circles.
      if (target && !between(target.id, n.id, key)) continue;
      addCandidate(pool, n, key, Number.MAX_SAFE_INTEGER);
    }
  }
  const why = lastError === undefined ? 'no candidate left' : `last failure: ${describeError(lastError)}`;
  throw new RingwireError(ErrorCode.LOOKUP_FAILED, `lookup of ${idToHex(key)} found no live route after ${steps} steps (${why})`, {
    cause: lastError,
  });
}

/** A reply's range start when it carries a well-formed one (an old peer or a bad one may not). */
function replyRangeStart(reply: FindSuccessorReply): Id | undefined {
  const start = reply.rangeStart;
  return start !== undefined && start.length === 20 ? start : undefined;
}

function withRange(result: LookupResult, rangeStart: Id | undefined): LookupResult {
  if (rangeStart !== undefined) result.rangeStart = rangeStart;
  return result;
}
