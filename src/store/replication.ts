/**
 * Moving records between peers: splitting them into `replicate` messages of bounded size and
 * sending them to one peer, or to a set of peers at once. Used by writes (one record), repair,
 * the push to a new predecessor and the hand-off on leave, which differ only in what they send
 * and to whom.
 */
import { ErrorCode, describeError, hasCode, isPeerFailure } from '../errors/errors.js';
import type { Transport } from '../chord/transport.js';
import type { Logger } from '../log/logger.js';
import { idEquals } from '../ring/id.js';
import { expectReply, type PeerRef, type StoredRecord } from '../protocol/messages.js';
import { recordSizeBytes } from './record.js';

/** Bounds on one replicate message. */
export interface BatchLimits {
  /** At most this many records per message. */
  maxRecords: number;
  /** At most about this many bytes of records per message (a lone larger record goes alone). */
  maxBytes: number;
}

/**
 * Splits `records` into batches within `limits`, keeping their order. A record larger than
 * `maxBytes` by itself still gets a batch of its own: values are capped separately, and refusing
 * to move a stored record would lose it.
 */
export function batchRecords(records: readonly StoredRecord[], limits: BatchLimits): StoredRecord[][] {
  const batches: StoredRecord[][] = [];
  let current: StoredRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordSizeBytes(r);
    if (current.length > 0 && (current.length >= limits.maxRecords || bytes + size > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * The first `count` distinct peers of `successors` other than `self`: the replica set of the keys
 * `self` owns. A short or self-wrapping list (small rings) yields fewer.
 */
export function replicaTargets(self: PeerRef, successors: readonly PeerRef[], count: number): PeerRef[] {
  const out: PeerRef[] = [];
  for (const p of successors) {
    if (out.length >= count) break;
    if (idEquals(p.id, self.id) || out.some((q) => idEquals(q.id, p.id))) continue;
    out.push(p);
  }
  return out;
}

/** What the senders need: how to reach peers and whom to blame. */
export interface PushContext {
  transport: Transport;
  log: Logger;
  timeoutMs: number;
  limits: BatchLimits;
  /** Called when a peer failed (not merely answered with an error), so routing can drop it. */
  onPeerFailure(peer: PeerRef): void;
}

/**
 * Sends every record to `peer` in batches, one after another. Resolves null when all were
 * accepted, else the first failure (logged, with the peer reported when it is gone), since the
 * rest would most likely fail the same way and repair retries later anyway. A peer refusing with
 * NOT_READY is leaving the ring: logged at debug level only. `leaving` is the hand-off of a peer
 * that is itself leaving: it sums failures up itself and its routing no longer matters, so failures
 * are neither logged above debug nor reported to routing.
 */
export async function pushRecordsOrError(ctx: PushContext, peer: PeerRef, records: readonly StoredRecord[], why: string, leaving = false): Promise<unknown> {
  for (const batch of batchRecords(records, ctx.limits)) {
    try {
      const res = await ctx.transport.request(peer.addr, { type: 'replicate', records: batch }, { timeoutMs: ctx.timeoutMs });
      expectReply(res, 'ack');
    } catch (err) {
      if (isPeerFailure(err) && !leaving) ctx.onPeerFailure(peer);
      const fields = { to: peer.addr, why, records: batch.length, error: describeError(err) };
      if (leaving || hasCode(err, ErrorCode.NOT_READY)) ctx.log.debug('replicate refused or failed', fields);
      else ctx.log.warn('replicate failed', fields);
      return err ?? new Error('replicate failed');
    }
  }
  return null;
}

/** `pushRecordsOrError` as a boolean: true when `peer` accepted every record. */
export async function pushRecords(ctx: PushContext, peer: PeerRef, records: readonly StoredRecord[], why: string): Promise<boolean> {
  return (await pushRecordsOrError(ctx, peer, records, why)) === null;
}

/** Pushes `records` to every peer in `peers` in parallel; resolves with how many accepted all. */
export async function pushToAll(ctx: PushContext, peers: readonly PeerRef[], records: readonly StoredRecord[], why: string): Promise<number> {
  if (records.length === 0 || peers.length === 0) return records.length === 0 ? peers.length : 0;
  const results = await Promise.all(peers.map((p) => pushRecords(ctx, p, records, why)));
  return results.filter(Boolean).length;
}
