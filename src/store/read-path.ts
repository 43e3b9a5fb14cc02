/**
 * How a get finds a key's current record: the owner's copy first, and when the owner is gone or
 * holds nothing, the replica candidates, keeping the highest version. An owner that answered but
 * lacked a record the replicas had is repaired on the spot (fire and forget), so the next read
 * through it is served directly again.
 */
import { ErrorCode, RingwireError, describeError, isPeerFailure } from '../errors/errors.js';
import { idEquals } from '../ring/id.js';
import { expectReply, type PeerRef, type StoredRecord } from '../protocol/messages.js';
import type { LocalStore } from './local-store.js';
import { compareRecords, copyRecord, supersedes } from './record.js';
import { pushRecords, replicaTargets, type PushContext } from './replication.js';
import type { RingLookup, RingView } from './ring-view.js';
import { checkRecord, type StoreLimits } from './validate.js';

/** What a read needs from its store. */
export interface ReadContext {
  ring: RingView;
  local: LocalStore;
  push: PushContext;
  limits: StoreLimits;
  replicas: number;
}

/** A read's outcome: the best record found (null: none anywhere), or nobody could be asked. */
export type ReadOutcome = { answered: true; record: StoredRecord | null } | { answered: false; error: unknown };

/**
 * The owner's copy that came with a recursive lookup: null (none), the record when it is valid and
 * for `key`, undefined when it is unusable (the caller then reads from the owner itself).
 */
function carriedRecord(ctx: ReadContext, record: StoredRecord | null, key: Uint8Array): StoredRecord | null | undefined {
  if (record === null) return null;
  try {
    checkRecord(record, ctx.limits);
  } catch {
    return undefined;
  }
  return Buffer.compare(record.key, key) === 0 ? record : undefined;
}

/** A peer's copy of `key` (null when it holds none), validated; throws on failure. */
export async function readFrom(ctx: ReadContext, peer: PeerRef, key: Uint8Array, mustOwn = false): Promise<StoredRecord | null> {
  if (idEquals(peer.id, ctx.ring.self.id)) return ctx.local.get(key) ?? null;
  const req = mustOwn ? { type: 'read' as const, key, mustOwn } : { type: 'read' as const, key };
  const res = await ctx.push.transport.request(peer.addr, req, { timeoutMs: ctx.push.timeoutMs });
  const record = expectReply(res, 'readReply').record;
  if (record !== null) checkRecord(record, ctx.limits);
  return record;
}

/**
 * Reads `key` at the owner `lookup` found, then (owner gone or empty-handed) at the first
 * replicas-1 peers after it. Peers that fail are reported to the ring. `answered` is false only
 * when no peer at all answered, so the caller can look the key up again.
 *
 * With `mustOwn` (the owner came from the route cache) the owner must confirm it owns the key,
 * and an owner that refuses or fails ends the read unanswered: the caller then routes afresh
 * rather than trust replicas named by a stale hint.
 */
export async function readKey(ctx: ReadContext, lookup: RingLookup & { read?: { record: StoredRecord | null } }, key: Uint8Array, mustOwn = false): Promise<ReadOutcome> {
  const { ring, push } = ctx;
  const owner = lookup.owner;
  const ownerIsSelf = idEquals(owner.id, ring.self.id);
  let ownerRecord: StoredRecord | null = null;
  let ownerAlive = true;
  let error: unknown;
  try {
    // A recursive lookup may have brought the owner's copy along (it read the key on the way).
    const carried = lookup.read !== undefined ? carriedRecord(ctx, lookup.read.record, key) : undefined;
    ownerRecord = carried !== undefined ? carried : await readFrom(ctx, owner, key, mustOwn);
  } catch (err) {
    if (mustOwn && !isPeerFailure(err)) return { answered: false, error: err };
    if (!isPeerFailure(err)) throw err;
    ring.suspect(owner);
    if (mustOwn) return { answered: false, error: err };
    ownerAlive = false;
    error = err;
  }
  if (ownerRecord !== null) return { answered: true, record: ownerRecord };

  const known = lookup.successors.length > 0 || !ownerIsSelf ? lookup.successors : ring.successors;
  // A route-cache hint can name fewer followers than there are replicas to ask (a range learned
  // from the end of another owner's list): rather than read too few of them, route afresh, and
  // the owner's own list names them all.
  if (mustOwn && known.length < ctx.replicas - 1) {
    return { answered: false, error: new RingwireError(ErrorCode.LOOKUP_FAILED, `the cached route names ${known.length} of the ${ctx.replicas - 1} replicas to read`) };
  }
  const candidates = replicaTargets(owner, known, ctx.replicas - 1);
  const copies = await Promise.all(
    candidates.map((p) =>
      readFrom(ctx, p, key).then(
        (rec) => ({ ok: true as const, rec }),
        (err: unknown) => {
          if (isPeerFailure(err)) ring.suspect(p);
          push.log.debug('replica read failed', { from: p.addr, error: describeError(err) });
          error = err;
          return { ok: false as const, rec: null };
        },
      ),
    ),
  );
  let answered = ownerAlive;
  let best: StoredRecord | null = null;
  for (const c of copies) {
    if (!c.ok) continue;
    answered = true;
    if (c.rec !== null && (best === null || compareRecords(c.rec, best) > 0)) best = c.rec;
  }
  if (!answered) return { answered: false, error };
  if (ownerAlive && best !== null) {
    // the owner answered without it: hand it the record, the read already has its answer
    if (ownerIsSelf) {
      if (supersedes(best, ctx.local.get(key))) ctx.local.merge(copyRecord(best));
    } else {
      void pushRecords(push, owner, [best], 'read repair');
    }
  }
  return { answered: true, record: best };
}
