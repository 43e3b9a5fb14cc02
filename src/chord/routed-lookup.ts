/**
 * Recursive routing (Chord's recursive mode, answered straight to the origin): the entry peer
 * sends a RouteLookup to its closest preceding live peer, every peer that cannot resolve the key
 * passes it on the same way, and the peer that can sends a RouteDone straight back to the entry
 * peer. A lookup of h hops then costs h+1 one-way messages instead of the iterative 2h.
 *
 * The iterative lookup (lookup.ts) stays the safety net, as in the Chord paper: the origin waits
 * for its RouteDone no longer than one request timeout, and a lookup that errs, stalls or is lost
 * with a crashed hop is resolved iteratively from the origin, which sees every failure itself.
 * A forwarding hop that cannot reach its first choice tries its next candidate before giving up.
 * Nothing a RouteDone says is taken on trust beyond what an iterative step's reply would be: the
 * origin checks the answer and confirms an owner with too short a list exactly as lookup.ts does.
 */
import { ErrorCode, RingwireError, describeError, hasCode } from '../errors/errors.js';
import { between, isId, type Id } from '../ring/id.js';
import type { Logger } from '../log/logger.js';
import type { Ack, PeerRef, RouteDone, RouteLookup, StoredRecord } from '../protocol/messages.js';
import type { Clock, Random, TimerHandle } from './clock.js';
import { findSuccessorStep, isGone, iterativeLookup, MAX_REPLY_NODES, STEP_REPLY_CANDIDATES, type LookupContext, type LookupResult, type StepState } from './lookup.js';
import { checkPeerList, samePeer } from './peer-ref.js';
import type { Transport } from './transport.js';

/** What recursive routing needs from its peer. */
export interface RoutedLookupHost {
  readonly self: PeerRef;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly lookupContext: LookupContext;
  /** This peer's routing state now. */
  stepState(): StepState;
  isJoined(): boolean;
  /** A peer failed a send: forget it (it is then skipped by later routing too). */
  suspect(peer: PeerRef): void;
  /** Our copy of a store key for a get answered here (null: none); undefined when no store runs here. */
  ownerRead(key: Uint8Array): StoredRecord | null | undefined;
}

/** A recursive lookup's result; `read` is present when the owner also read the key for a get. */
export type RoutedResult = LookupResult & { read?: { record: StoredRecord | null } };

const ack: Ack = { type: 'ack' };

/** `req` one hop further on; the optional fields are copied only when set, as a spread would. */
function nextHop(req: RouteLookup, path: PeerRef[], hops: number, final: boolean | undefined): RouteLookup {
  const next: RouteLookup = { type: 'routeLookup', key: req.key, origin: req.origin, token: req.token, path, hops };
  if (req.readKey !== undefined) next.readKey = req.readKey;
  if (req.wantPath !== undefined) next.wantPath = req.wantPath;
  if (req.wholeList !== undefined) next.wholeList = req.wholeList;
  if (final !== undefined) next.final = final;
  return next;
}

/** Lookups this peer originated and is waiting on, and the handlers of both message types. */
export class RoutedLookups {
  private readonly host: RoutedLookupHost;
  private readonly waiting = new Map<number, { resolve: (done: RouteDone | null) => void; timer: TimerHandle }>();

  constructor(host: RoutedLookupHost) {
    this.host = host;
  }

  /** True when the transport can carry one-way messages. */
  get available(): boolean {
    return typeof this.host.transport.send === 'function';
  }

  /** Lookups waiting for their RouteDone (tests, and stop leaves none behind). */
  get pendingCount(): number {
    return this.waiting.size;
  }

  /**
   * successor(key) resolved recursively, starting at `candidates` (the entry peer's closest
   * preceding peers, best first). Resolves null when the recursive attempt did not settle it
   * (no candidate reachable, an error on the way, no answer within the request timeout): the
   * caller then routes iteratively.
   */
  async lookup(key: Id, candidates: readonly PeerRef[], opts: { readKey?: Uint8Array; wantPath?: boolean; wholeList?: boolean } = {}): Promise<RoutedResult | null> {
    const readKey = opts.readKey;
    const host = this.host;
    const token = this.newToken();
    const answered = new Promise<RouteDone | null>((resolve) => {
      const timer = host.clock.setTimeout(() => {
        this.waiting.delete(token);
        resolve(null);
      }, host.lookupContext.requestTimeoutMs);
      this.waiting.set(token, { resolve, timer });
    });
    const msg: RouteLookup = { type: 'routeLookup', key, origin: host.self.addr, token, path: [], hops: 0 };
    if (readKey !== undefined) msg.readKey = readKey;
    if (opts.wantPath === true) msg.wantPath = true;
    if (opts.wholeList === true) msg.wholeList = true;
    const sent = this.forward(msg, candidates, null);
    if (!(sent === true || (sent !== false && (await sent)))) {
      this.settle(token, null);
      return null;
    }
    const done = await answered;
    if (done === null) {
      host.log.debug('recursive lookup got no answer in time, routing iteratively');
      return null;
    }
    if (done.errorCode) {
      host.log.debug('recursive lookup failed on the way, routing iteratively', { code: done.errorCode });
      return null;
    }
    try {
      const nodes = checkPeerList(done.nodes, 'routeDone.nodes', MAX_REPLY_NODES, ErrorCode.PROTOCOL_ERROR);
      let path = checkPeerList(done.path, 'routeDone.path', host.lookupContext.maxLookupSteps, ErrorCode.PROTOCOL_ERROR);
      let hops = Math.max(path.length, Math.min(host.lookupContext.maxLookupSteps, done.hops ?? 0));
      if (nodes.length === 0) return null;
      // An owner that read for a get was reached by the read, not by a routing step (routing only
      // ever forwards to peers before the key): as with an iterative lookup and its read, that
      // last message is not a hop.
      if (done.read === true && hops > 0) {
        hops--;
        if (path.length > 0 && samePeer(path[path.length - 1], nodes[0])) path = path.slice(0, -1);
      }
      const rangeStart = done.rangeStart !== undefined && done.rangeStart.length === 20 ? done.rangeStart : undefined;
      // The answer is a done step: settle it as the iterative driver settles one (skip owners
      // known to be gone, confirm an owner whose list came short).
      const rest = await iterativeLookup(host.lookupContext, key, [], { localDone: nodes, localRangeStart: rangeStart });
      // Field by field rather than a spread: this runs once per routed operation.
      const result: RoutedResult = { owner: rest.owner, successors: rest.successors, hops: rest.hops + hops, path: rest.path.length === 0 ? path : [...path, ...rest.path] };
      if (rest.rangeStart !== undefined) result.rangeStart = rest.rangeStart;
      // The owner's copy counts only when the owner that read it is the owner settled on.
      if (readKey !== undefined && done.read === true && rest.hops === 0 && samePeer(rest.owner, nodes[0])) result.read = { record: done.record ?? null };
      return result;
    } catch (err) {
      host.log.debug('recursive answer did not settle, routing iteratively', { error: describeError(err) });
      return null;
    }
  }

  /**
   * A hop of someone's lookup: resolve it here and answer the origin, or pass it on. Answered at
   * once when the next hop's connection is open (the usual case), so a hop costs no promise.
   */
  onRouteLookup(req: RouteLookup): Ack | Promise<Ack> {
    const host = this.host;
    if (!isId(req.key)) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'routeLookup.key must be a 20-byte id');
    if (typeof req.origin !== 'string' || req.origin.length === 0) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'routeLookup.origin must be an address');
    const wantPath = req.wantPath === true;
    const path = wantPath ? [...checkPeerList(req.path, 'routeLookup.path', host.lookupContext.maxLookupSteps, ErrorCode.INVALID_REQUEST), host.self] : [];
    const hops = Math.max(path.length, (Number.isSafeInteger(req.hops) ? req.hops! : 0) + 1);
    if (!host.isJoined()) return this.answer(req, path, hops, [], undefined, ErrorCode.NOT_READY);
    const state = host.stepState();
    const step = findSuccessorStep(state, req.key, STEP_REPLY_CANDIDATES);
    // The owner and enough followers to settle the lookup at the origin (lookup.ts minFollowers)
    // and to read from replicas; the whole list when the origin's route cache learns every
    // follower's range from it (ChordPeer remember): a fresh cache then warms in about half the
    // misses. Otherwise the rest would only cost encoding.
    const nodes = step.done && req.wholeList !== true ? step.nodes.slice(0, 1 + host.lookupContext.minFollowers) : step.nodes;
    const readKey = req.readKey !== undefined && req.readKey.length > 0 ? req.readKey : undefined;
    if (step.done) {
      const owner = step.nodes[0]!;
      if (samePeer(owner, host.self)) {
        // We own the key (it is in (predecessor, self]): for a get, our copy goes with the answer.
        const record = readKey !== undefined ? host.ownerRead(readKey) : undefined;
        if (record !== undefined) return this.answer(req, path, hops, nodes, step.rangeStart, undefined, record);
        return this.answer(req, path, hops, nodes, step.rangeStart);
      }
      if (req.final === true || hops >= host.lookupContext.maxLookupSteps) return this.answer(req, path, hops, nodes, step.rangeStart);
      if (readKey !== undefined) {
        // A get goes on to the owner, which reads and answers: one message instead of the
        // origin's read round trip, and the owner's answer carries its whole list.
        return this.forwardOr(this.forward(nextHop(req, path, hops, true), [owner], null), () => this.answer(req, path, hops, nodes, step.rangeStart));
      }
      // The owner sits deep in our list, so the origin would have to ask it for its followers (a
      // round trip). One more forward to the peer just before the owner gets an answer with the
      // owner first and its whole list instead.
      const at = state.successors.findIndex((s) => samePeer(s, owner));
      if (step.nodes.length - 1 >= host.lookupContext.minFollowers || at < 1) return this.answer(req, path, hops, nodes, step.rangeStart);
      return this.forwardOr(this.forward(nextHop(req, path, hops, true), [state.successors[at - 1]!], host.self), () => this.answer(req, path, hops, nodes, step.rangeStart));
    }
    // A final hop that does not see the key as resolved disagrees with its sender: the origin
    // settles it iteratively rather than this peer routing on.
    if (req.final === true) return this.answer(req, path, hops, [], undefined, ErrorCode.NOT_OWNER);
    if (hops >= host.lookupContext.maxLookupSteps) return this.answer(req, path, hops, [], undefined, ErrorCode.LOOKUP_FAILED);
    // Only peers strictly closer to the key and not yet on the path: the walk cannot loop.
    return this.forwardOr(this.forward(nextHop(req, path, hops, req.final), step.nodes, host.self), () => this.answer(req, path, hops, [], undefined, ErrorCode.LOOKUP_FAILED));
  }

  /** `ack` once `sent` says a candidate took the message; otherwise whatever `fallback` answers. */
  private forwardOr(sent: boolean | Promise<boolean>, fallback: () => Ack): Ack | Promise<Ack> {
    if (sent === true) return ack;
    if (sent === false) return fallback();
    return sent.then((ok) => (ok ? ack : fallback()));
  }

  /**
   * Sends the origin of `req` its RouteDone. Built field by field, not spread: with object spreads
   * (V8 copies them through a generic path here) this handler had 8% of the self time in the
   * bench-hotpath profile, most of it on the spread lines.
   */
  private answer(req: RouteLookup, path: PeerRef[], hops: number, nodes: PeerRef[], rangeStart: Id | undefined, errorCode?: string, record?: StoredRecord | null): Ack {
    const done: RouteDone = { type: 'routeDone', token: req.token, nodes, path, hops };
    if (rangeStart !== undefined) done.rangeStart = rangeStart;
    if (errorCode !== undefined) done.errorCode = errorCode;
    if (record !== undefined) {
      done.read = true;
      done.record = record;
    }
    this.sendDone(req.origin, done);
    return ack;
  }

  /** The answer to a lookup we originated (a late or unknown token is dropped). */
  onRouteDone(req: RouteDone): Ack {
    this.settle(req.token, req);
    return ack;
  }

  /** Gives up every lookup still waiting (the peer stops): their callers route iteratively or fail. */
  stop(): void {
    for (const token of [...this.waiting.keys()]) this.settle(token, null);
  }

  /**
   * Sends `msg` to the first of `candidates` that takes it: not us, not on its path, not recently
   * gone, and (when forwarding for someone) strictly between `from` and the key. A candidate that
   * cannot be reached is suspected and the next one tried. False when none took it. Settled at
   * once (no promise) while every candidate tried has an open connection.
   */
  private forward(msg: RouteLookup, candidates: readonly PeerRef[], from: PeerRef | null): boolean | Promise<boolean> {
    const transport = this.host.transport;
    if (!transport.send) return false;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (!this.canTake(c, msg, from)) continue;
      if (transport.trySend === undefined) return this.forwardAsync(msg, candidates, i, from);
      try {
        if (transport.trySend(c.addr, msg)) return true;
      } catch (err) {
        this.sendFailed(c, err);
        continue;
      }
      // No connection open to this candidate yet: the rest goes through `send`, which opens one.
      return this.forwardAsync(msg, candidates, i, from);
    }
    return false;
  }

  /** `forward` from `candidates[start]` on, through the transport's `send`. */
  private async forwardAsync(msg: RouteLookup, candidates: readonly PeerRef[], start: number, from: PeerRef | null): Promise<boolean> {
    const host = this.host;
    const send = host.transport.send!;
    for (let i = start; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (!this.canTake(c, msg, from)) continue;
      try {
        await send.call(host.transport, c.addr, msg, { timeoutMs: host.lookupContext.requestTimeoutMs });
        return true;
      } catch (err) {
        this.sendFailed(c, err);
      }
    }
    return false;
  }

  /** Whether `c` may take `msg` next (see `forward`). */
  private canTake(c: PeerRef, msg: RouteLookup, from: PeerRef | null): boolean {
    const host = this.host;
    if (samePeer(c, host.self) || host.lookupContext.isRecentlyGone(c.addr)) return false;
    if (from && !between(from.id, c.id, msg.key)) return false;
    for (const p of msg.path) if (p.addr === c.addr) return false;
    return true;
  }

  private sendFailed(c: PeerRef, err: unknown): void {
    if (isGone(err)) this.host.suspect(c);
    this.host.log.debug('could not pass a lookup on, trying the next candidate', { to: c.addr, error: describeError(err) });
  }

  private sendDone(origin: string, done: RouteDone): void {
    const host = this.host;
    if (origin === host.self.addr) {
      this.onRouteDone(done);
      return;
    }
    const transport = host.transport;
    try {
      if (transport.trySend?.(origin, done) === true) return;
    } catch (err) {
      this.doneFailed(origin, err);
      return;
    }
    transport.send?.(origin, done, { timeoutMs: host.lookupContext.requestTimeoutMs }).catch((err: unknown) => this.doneFailed(origin, err));
  }

  /** The origin is gone or unreachable: it has no use for the answer any more. */
  private doneFailed(origin: string, err: unknown): void {
    if (!hasCode(err, ErrorCode.CLOSED)) this.host.log.debug('could not answer a recursive lookup', { origin, error: describeError(err) });
  }

  private settle(token: number, done: RouteDone | null): void {
    const w = this.waiting.get(token);
    if (!w) return;
    this.waiting.delete(token);
    this.host.clock.clearTimeout(w.timer);
    w.resolve(done);
  }

  /** A random non-zero uint32 not in use: a stranger cannot guess which lookups are open. */
  private newToken(): number {
    for (;;) {
      const t = Math.floor(this.host.random() * 0xffff_ffff) + 1;
      if (!this.waiting.has(t)) return t;
    }
  }
}
