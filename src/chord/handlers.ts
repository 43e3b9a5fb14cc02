/**
 * The Chord requests a peer answers: ping, getState, findSuccessor (one routing step), lookup (a
 * client's whole lookup), notify (rectify) and leave. Every field from the wire is validated
 * first (INVALID_REQUEST), and only a joined peer answers (NOT_READY otherwise), so a stopped or
 * leaving peer drops out of routing at once.
 */
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { between, isId, type Id } from '../ring/id.js';
import type { Logger } from '../log/logger.js';
import type { Ack, PeerRef, Request, Response } from '../protocol/messages.js';
import { findSuccessorStep, type LookupResult } from './lookup.js';
import { checkOptionalPeerRef, checkPeerList, checkPeerRef, describePeer, samePeer, samePeerAndAddr } from './peer-ref.js';
import { MAX_WIRE_LIST, type Probe } from './probe.js';
import type { RingState } from './ring-state.js';
import type { RouteCacheUse } from './route-cache.js';
import { indexOfPeer, spliceLeaver } from './successor-list.js';

/** The request types ChordPeer.handle answers. */
export const CHORD_REQUEST_TYPES: ReadonlySet<Request['type']> = new Set([
  'ping',
  'getState',
  'notify',
  'findSuccessor',
  'leave',
  'lookup',
  'successorsChanged',
]);

/** What the handlers need from their peer. */
export interface HandlerHost {
  readonly ring: RingState;
  readonly probe: Probe;
  readonly log: Logger;
  /** True while the peer is joined (re-read after every await). */
  isJoined(): boolean;
  findSuccessor(key: Id, cache?: RouteCacheUse): Promise<LookupResult>;
  /** findSuccessor through the route cache (client lookups). */
  findSuccessorCached(key: Id): Promise<LookupResult>;
  stabilize(): Promise<void>;
  /** Asks for a stabilize round soon (a successor's list changed); coalesced and rate-limited. */
  nudge(): void;
}

/** Answers one Chord request (see CHORD_REQUEST_TYPES); rejects with a RingwireError. */
export async function handleChordRequest(host: HandlerHost, req: Request): Promise<Response> {
  if (!host.isJoined()) throw new RingwireError(ErrorCode.NOT_READY, 'peer is not in a ring');
  const ring = host.ring;
  switch (req.type) {
    case 'ping':
      return { type: 'pong' };
    case 'getState':
      return { type: 'state', self: ring.self, predecessor: ring.predecessor, successors: ring.successors.slice() };
    case 'findSuccessor':
      if (!isId(req.key)) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'findSuccessor.key must be a 20-byte id');
      return findSuccessorStep(ring.stepState(), req.key);
    case 'lookup': {
      if (!isId(req.keyId)) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'lookup.keyId must be a 20-byte id');
      const found = req.noRouteCache ? await host.findSuccessor(req.keyId, 'skip') : await host.findSuccessorCached(req.keyId);
      return { type: 'lookupReply', owner: found.owner, hops: found.hops, path: found.path };
    }
    case 'successorsChanged':
      // Only a hint: the stabilize it triggers verifies everything it adopts.
      host.nudge();
      return { type: 'ack' };
    case 'notify':
      return rectify(host, checkPeerRef(req.peer, 'notify.peer'));
    case 'leave':
      return handleLeave(
        host,
        checkPeerRef(req.peer, 'leave.peer'),
        checkOptionalPeerRef(req.predecessor, 'leave.predecessor'),
        checkPeerList(req.successors, 'leave.successors', MAX_WIRE_LIST),
      );
    default:
      throw new RingwireError(ErrorCode.UNKNOWN_MESSAGE, `chord does not handle ${req.type}`);
  }
}

/**
 * Zave's rectify: the notifier becomes our predecessor when the predecessor is unknown, dead
 * (checked with a ping, not assumed) or the notifier lies strictly between it and us; and in
 * every case only after the notifier itself answered a ping. The steady state (our predecessor
 * notifying again) costs no request.
 */
export async function rectify(host: HandlerHost, n: PeerRef): Promise<Ack> {
  const ack: Ack = { type: 'ack' };
  const { ring, probe } = host;
  const self = ring.self;
  if (samePeer(n, self)) return ack;
  const pred = ring.predecessor;
  if (pred && samePeerAndAddr(pred, n)) return ack;
  const closer = !pred || samePeer(pred, n) || between(pred.id, n.id, self.id);
  if (!closer && (await probe.answers(pred!))) return ack;
  if (!(await probe.answers(n)) || !host.isJoined()) return ack;
  // Re-read after the pings: another notify may have installed a better predecessor meanwhile.
  const cur = ring.predecessor;
  if (cur === null || cur === pred || between(cur.id, n.id, self.id)) ring.setPredecessor(n);
  return ack;
}

/**
 * A peer leaves. Holding it in our successor list (we are its predecessor, or further back), we
 * replace it in place by its successors; when it was our first successor, stabilize runs at once
 * to verify (and notify) the new one. As its successor, we forget it as predecessor and take its
 * predecessor only once that one answered.
 */
export async function handleLeave(host: HandlerHost, leaver: PeerRef, leaverPred: PeerRef | null, leaverSuccs: readonly PeerRef[]): Promise<Ack> {
  const { ring, probe } = host;
  if (samePeer(leaver, ring.self)) return { type: 'ack' };
  host.log.info('neighbour leaves', { leaver: describePeer(leaver) });
  ring.fingers.remove(leaver.id);
  const idx = indexOfPeer(ring.successors, leaver);
  if (idx >= 0) ring.setSuccessors(spliceLeaver(ring.self, ring.successors, idx, leaverSuccs, ring.r));
  if (samePeer(ring.predecessor, leaver)) {
    ring.setPredecessor(null);
    const candidate = leaverPred && !samePeer(leaverPred, ring.self) && !samePeer(leaverPred, leaver) ? leaverPred : null;
    if (candidate && (await probe.answers(candidate)) && host.isJoined()) {
      const cur = ring.predecessor;
      if (cur === null || between(cur.id, candidate.id, ring.self.id)) ring.setPredecessor(candidate);
    }
  }
  if (idx === 0) {
    try {
      await host.stabilize();
    } catch (err) {
      host.log.warn('stabilize after a leave failed', { error: describeError(err) });
    }
  }
  return { type: 'ack' };
}
