/**
 * The replicated key-value store of one peer. Any peer is an entry point: it resolves a key's
 * owner through the ring and asks the owner to write (`ownerWrite`) or reads the owner's copy
 * (`read`). The owner versions each write (last writer wins) and copies it to the next replicas-1
 * successors before acknowledging, so an acknowledged write survives the loss of any replicas-1
 * consecutive peers. Repair rounds, the push to a new predecessor and the hand-off on leave (see
 * repair.ts) keep copies where ownership moves.
 */
import type { Clock, TimerHandle } from '../chord/clock.js';
import type { Transport } from '../chord/transport.js';
import type { RouteCacheUse } from '../chord/route-cache.js';
import { ErrorCode, RingwireError, describeError, hasCode, isPeerFailure, refusal } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { keyId } from '../ring/hash.js';
import { betweenRightIncl, idEquals, idToHex, type Id } from '../ring/id.js';
import { expectReply, type OwnerWriteReply, type PeerRef, type Request, type Response, type StoredRecord } from '../protocol/messages.js';
import { definedOnly } from '../util/options.js';
import { LocalStore } from './local-store.js';
import { copyRecord, nextVersion, supersedes, tombstone } from './record.js';
import { readKey, type ReadContext } from './read-path.js';
import { Repairer } from './repair.js';
import { pushToAll, replicaTargets, type PushContext } from './replication.js';
import type { RingLookup, RingView, RingViewChange } from './ring-view.js';
import { checkKey, checkRecords, checkValue, type StoreLimits } from './validate.js';

/** Store defaults, by name. */
export const STORE_DEFAULTS = Object.freeze({
  replicas: 3, // copies of each key: the owner plus the next replicas-1 successors
  maxKeyBytes: 1024, // longest key accepted, in bytes
  maxValueBytes: 512 * 1024, // largest value accepted; larger writes fail with VALUE_TOO_LARGE
  repairIntervalMs: 5000, // period of the anti-entropy round
  repairAfterChangeMs: 100, // delay of the extra round after a neighbourhood change (coalesces bursts)
  requestTimeoutMs: 1000, // deadline of one store request to another peer
  maxAttempts: 3, // lookups per client operation before giving up on a failing owner
  batchMaxRecords: 256, // records per replicate message sent
  batchMaxBytes: 512 * 1024, // approximate bytes of records per replicate message sent
  maxRecordsPerMessage: 4096, // replicate messages with more records are refused as invalid
});

/** What a KvStore works with. */
export interface KvStoreComponents {
  ring: RingView;
  transport: Transport;
  clock: Clock;
  log?: Logger;
}

/** Options; each defaults to the STORE_DEFAULTS entry of the same name. */
export interface KvStoreInit {
  /** @default 3 */
  replicas?: number;
  /** @default 1024 */
  maxKeyBytes?: number;
  /** @default 524288 */
  maxValueBytes?: number;
  /** @default 5000 */
  repairIntervalMs?: number;
  /** @default 100 */
  repairAfterChangeMs?: number;
  /** @default 1000 */
  requestTimeoutMs?: number;
  /** @default 3 */
  maxAttempts?: number;
  /** @default 256 */
  batchMaxRecords?: number;
  /** @default 524288 */
  batchMaxBytes?: number;
}

/** Result of a put: the version the owner gave it, copies stored, lookup forwards. */
export interface PutResult { version: number; copies: number; hops: number }
/** Result of a get: `found` is false for missing and deleted keys (value empty then). */
export interface GetResult { found: boolean; value: Uint8Array; version: number; hops: number }
/** Result of a delete: `found` says whether a live value existed before it. */
export interface DeleteResult { found: boolean; version: number; hops: number }

type Options = Required<KvStoreInit> & { maxRecordsPerMessage: number };

/**
 * One peer's store: the client operations (any peer is an entry point), the peer-to-peer handlers
 * (`handle`), and the maintenance that keeps replicas placed (`repair`, `handOff`, and, once
 * started, the reactions to ring changes). Every timer runs on the injected clock.
 */
export class KvStore {
  private readonly ring: RingView;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly opts: Options;
  private readonly limits: StoreLimits;
  private readonly local = new LocalStore();
  private readonly push: PushContext;
  private readonly repairer: Repairer;
  private readonly reader: ReadContext;
  private started = false;
  /**
   * Set when the hand-off before a leave begins, and never cleared: from then on this store
   * refuses writes and replicas (NOT_READY). A copy accepted after the hand-off's snapshot would
   * leave with us while the writer counted it (the randomized search lost acknowledged writes that
   * way: seed 7852).
   */
  private departing = false;
  private unsubscribe: (() => void) | undefined;
  private periodicTimer: TimerHandle | undefined;
  private soonTimer: TimerHandle | undefined;
  private repairRunning: Promise<void> | undefined;
  private repairQueued: Promise<void> | undefined;

  constructor(components: KvStoreComponents, init: KvStoreInit = {}) {
    this.ring = components.ring;
    this.transport = components.transport;
    this.clock = components.clock;
    this.opts = { ...STORE_DEFAULTS, ...definedOnly(init) };
    // a zero or fractional option would mean a busy repair loop or a store that refuses everything
    for (const [name, value] of Object.entries(this.opts)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RingwireError(ErrorCode.INVALID_REQUEST, `${name} must be a positive integer, got ${String(value)}`);
      }
    }
    this.log = (components.log ?? silentLogger).child({ component: 'store', peer: idToHex(this.ring.self.id) });
    this.limits = { maxKeyBytes: this.opts.maxKeyBytes, maxValueBytes: this.opts.maxValueBytes };
    this.push = {
      transport: this.transport,
      log: this.log,
      timeoutMs: this.opts.requestTimeoutMs,
      limits: { maxRecords: this.opts.batchMaxRecords, maxBytes: this.opts.batchMaxBytes },
      onPeerFailure: (peer) => this.ring.suspect(peer),
    };
    this.reader = { ring: this.ring, local: this.local, push: this.push, limits: this.limits, replicas: this.opts.replicas };
    this.ring.setOwnerReader?.((key) => this.local.get(key) ?? null);
    this.repairer = new Repairer({ ring: this.ring, local: this.local, push: this.push }, { replicas: this.opts.replicas });
  }

  /** Stores `value` under `key` through the key's owner; resolves once at least 2 copies exist (1 when alone). */
  async put(key: Uint8Array, value: Uint8Array, routeCache = true): Promise<PutResult> {
    checkKey(key, this.limits);
    checkValue(value, this.limits);
    const { reply, hops } = await this.writeViaOwner(key, value, false, routeCache);
    return { version: reply.version, copies: reply.copies, hops };
  }

  /** Reads `key` from its owner, falling back to its replicas when the owner is gone or lacks it. */
  async get(key: Uint8Array, routeCache = true): Promise<GetResult> {
    checkKey(key, this.limits);
    const attempt = await this.atOwner<GetResult>(keyId(key), routeCache, async (lookup, n, mustOwn) => {
      const outcome = await readKey(this.reader, lookup, key, mustOwn);
      if (!outcome.answered) {
        this.log.debug('read found no live copy holder, retrying', { attempt: n, owner: lookup.owner.addr });
        return { retry: outcome.error };
      }
      const rec = outcome.record;
      const found = rec !== null && !rec.deleted;
      return { done: { found, value: found ? rec.value.slice() : new Uint8Array(0), version: rec?.version ?? 0, hops: lookup.hops } };
    }, key);
    if ('done' in attempt) return attempt.done;
    const lastErr = attempt.retry;
    throw new RingwireError(ErrorCode.LOOKUP_FAILED, `no live copy of the key could be reached after ${this.opts.maxAttempts} attempts (${describeError(lastErr)})`, { cause: lastErr });
  }

  /** Deletes `key` by writing a tombstone through its owner; `found` tells whether it had a live value. */
  async delete(key: Uint8Array, routeCache = true): Promise<DeleteResult> {
    checkKey(key, this.limits);
    const { reply, hops } = await this.writeViaOwner(key, new Uint8Array(0), true, routeCache);
    return { found: reply.existed, version: reply.version, hops };
  }

  /**
   * Answers the store's requests (client put/get/delete at an entry peer; ownerWrite, replicate and
   * read between peers); undefined for any other type, so a composer can try the next handler.
   * Invalid requests reject with INVALID_REQUEST or VALUE_TOO_LARGE.
   */
  handle(req: Request): Promise<Response> | undefined {
    switch (req.type) {
      case 'put':
        return this.put(req.key, req.value, !req.noRouteCache).then((r): Response => ({ type: 'putReply', ...r }));
      case 'get':
        return this.get(req.key, !req.noRouteCache).then((r): Response => ({ type: 'getReply', ...r }));
      case 'delete':
        return this.delete(req.key, !req.noRouteCache).then((r): Response => ({ type: 'deleteReply', ...r }));
      case 'ownerWrite':
        return this.handleOwnerWrite(req.key, req.value, req.deleted, req.mustOwn === true);
      case 'replicate':
        return this.handleReplicate(req.records);
      case 'read':
        return this.handleRead(req.key, req.mustOwn === true);
      default:
        return undefined;
    }
  }

  /**
   * Graceful leave, step one: pushes every record held (tombstones too) to our successors. Writes
   * and replicas arriving from now on are refused with NOT_READY, so writers go to the next owner.
   */
  async handOff(): Promise<void> {
    this.departing = true;
    await this.repairer.handOff();
  }

  /**
   * One anti-entropy round: owned records to the replica set. Failures are logged, not thrown.
   * Rounds never overlap: a call during a round queues one more round (shared by every such call),
   * so the caller always gets a round that started after it asked, on the ring as it is now.
   */
  repair(): Promise<void> {
    if (this.repairQueued) return this.repairQueued;
    if (!this.repairRunning) return this.runRepair();
    const queued = this.repairRunning.then(() => {
      this.repairQueued = undefined;
      return this.runRepair();
    });
    this.repairQueued = queued;
    return queued;
  }

  /** Starts periodic repair and reacting to ring changes, on the injected clock. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.ring.onChange((change) => this.onRingChange(change));
    this.schedulePeriodic();
  }

  /** Stops every timer and the ring subscription; requests in flight finish on their own. */
  stop(): void {
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.periodicTimer) this.clock.clearTimeout(this.periodicTimer);
    if (this.soonTimer) this.clock.clearTimeout(this.soonTimer);
    this.periodicTimer = undefined;
    this.soonTimer = undefined;
  }

  /** Live keys this peer owns (key id in (predecessor, self] as the ring sees it). */
  ownedKeyCount(): number {
    return this.local.countLive((id) => this.ring.owns(id));
  }

  /** Bytes of the keys and values held (tombstones included): a metrics gauge. */
  storedBytes(): number {
    return this.local.bytes;
  }

  /** Live records held, owned or replica. */
  recordCount(): number {
    return this.local.liveCount();
  }

  /** Key ids of the live records held, owned or replica: the host's replica-coverage check uses it. */
  liveKeyIds(): Id[] {
    const out: Id[] = [];
    for (const e of this.local.snapshot()) if (!e.record.deleted) out.push(e.keyId);
    return out;
  }

  /** A copy of the record held for `key` (tombstones included), or undefined: for tests and tools. */
  localRecord(key: Uint8Array): StoredRecord | undefined {
    const rec = this.local.get(key);
    return rec ? copyRecord(rec) : undefined;
  }

  // --- writes ---

  private async writeViaOwner(key: Uint8Array, value: Uint8Array, deleted: boolean, routeCache: boolean): Promise<{ reply: OwnerWriteReply; hops: number }> {
    const id = keyId(key);
    const attempt = await this.atOwner<{ reply: OwnerWriteReply; hops: number }>(id, routeCache, async (lookup, n, mustOwn) => {
      try {
        const reply = this.isSelf(lookup.owner)
          ? await this.ownerWrite(key, value, deleted, id)
          : expectReply(
              await this.transport.request(
                lookup.owner.addr,
                mustOwn ? { type: 'ownerWrite', key, value, deleted, mustOwn } : { type: 'ownerWrite', key, value, deleted },
                // the owner may itself wait a full timeout for its replicas
                { timeoutMs: 2 * this.opts.requestTimeoutMs },
              ),
              'ownerWriteReply',
            );
        return { done: { reply, hops: lookup.hops } };
      } catch (err) {
        if (isPeerFailure(err)) this.ring.suspect(lookup.owner);
        else if (hasCode(err, ErrorCode.NOT_READY)) await this.pause(n); // the owner is handing off: the ring moves on soon
        else if (!hasCode(err, ErrorCode.REPLICATION_FAILED) && !(mustOwn && hasCode(err, ErrorCode.NOT_OWNER))) throw err;
        this.log.debug('write attempt failed', { attempt: n, owner: lookup.owner.addr, error: describeError(err) });
        return { retry: err };
      }
    });
    if ('done' in attempt) return attempt.done;
    const lastErr = attempt.retry;
    if (hasCode(lastErr, ErrorCode.REPLICATION_FAILED)) throw lastErr;
    throw new RingwireError(
      ErrorCode.LOOKUP_FAILED,
      `the key's owner could not be reached after ${this.opts.maxAttempts} attempts (${describeError(lastErr)})`,
      { cause: lastErr },
    );
  }

  /**
   * Up to maxAttempts times: looks the key's owner up afresh and runs `step` against it. A failed
   * lookup or a step asking to retry moves on to the next attempt (the ring has meanwhile dropped
   * the dead peers it met); the result is the first `done`, or the last reason to retry.
   *
   * With `routeCache`, a cached owner is tried first with mustOwn (the owner checks the hint); if
   * that does not settle it, the route is forgotten and the attempts above follow, so a stale
   * entry costs one round trip.
   */
  private async atOwner<T>(
    id: Id,
    routeCache: boolean,
    step: (lookup: RingLookup, attempt: number, mustOwn: boolean) => Promise<{ done: T } | { retry: unknown }>,
    readKey?: Uint8Array,
  ): Promise<{ done: T } | { retry: unknown }> {
    const cached = routeCache ? this.ring.cachedRoute?.(id) : undefined;
    if (cached && !this.isSelf(cached.owner)) {
      const outcome = await step(cached, 0, true);
      if ('done' in outcome) return outcome;
      this.ring.forgetRoute?.(cached.owner);
      this.log.debug('cached route did not settle, routing', { owner: cached.owner.addr, error: describeError(outcome.retry) });
    }
    let last: { retry: unknown } = { retry: undefined };
    for (let n = 1; n <= this.opts.maxAttempts; n++) {
      const lookup = await this.lookup(id, readKey, routeCache ? 'use' : 'skip');
      if (lookup instanceof Error) {
        last = { retry: lookup };
        continue;
      }
      const outcome = await step(lookup, n, false);
      if ('done' in outcome) return outcome;
      last = outcome;
    }
    return last;
  }

  /**
   * Resolves a key's owner; a failed lookup is returned rather than thrown, because the ring has
   * dropped the dead peers it met on the way and the next attempt may well succeed.
   */
  private async lookup(id: Id, readKey: Uint8Array | undefined, cache: RouteCacheUse): Promise<RingLookup | RingwireError> {
    try {
      // A get lets the owner read on the way when the ring routes recursively (see readKey()).
      if (readKey !== undefined && this.ring.findSuccessorForRead) return await this.ring.findSuccessorForRead(id, readKey, cache);
      return await this.ring.findSuccessor(id, cache);
    } catch (err) {
      if (hasCode(err, ErrorCode.LOOKUP_FAILED)) return err as RingwireError;
      throw err;
    }
  }

  /** Waits before attempt n+1 (on the injected clock): a tenth of the request timeout per attempt. */
  private pause(n: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, Math.max(1, Math.floor((n * this.opts.requestTimeoutMs) / 10))));
  }

  /** NOT_READY once the hand-off began (see `departing`). */
  private refuseIfDeparting(what: string): void {
    if (this.departing) throw refusal(ErrorCode.NOT_READY, `this peer is leaving the ring and no longer accepts ${what}; route the request afresh`);
  }

  /** The owner's side of a write: version, store, replicate, count copies. */
  private async ownerWrite(key: Uint8Array, value: Uint8Array, deleted: boolean, id?: Id): Promise<OwnerWriteReply> {
    this.refuseIfDeparting('writes');
    const existing = this.local.get(key);
    const version = nextVersion(this.clock.now(), existing);
    const record: StoredRecord = deleted
      ? tombstone(key.slice(), version)
      : { key: key.slice(), value: value.slice(), version, deleted: false };
    const kid = id ?? keyId(key);
    this.local.merge(record, kid);
    const targets = replicaTargets(this.ring.self, this.ring.successors, this.opts.replicas - 1);
    // A write for a key outside (predecessor, self] came through a stale route (a peer joined just
    // before us, or our predecessor died): the predecessor is the likely owner, which has already
    // received our keys, so it would otherwise miss this version and serve an older one.
    const pred = this.ring.predecessor;
    if (pred && !this.isSelf(pred) && !betweenRightIncl(pred.id, kid, this.ring.self.id) && !targets.some((p) => idEquals(p.id, pred.id))) {
      targets.push(pred);
    }
    const copies = 1 + (await pushToAll(this.push, targets, [record], 'write'));
    const required = Math.min(this.opts.replicas, targets.length === 0 && this.isAlone() ? 1 : 2);
    if (copies < required) {
      throw new RingwireError(
        ErrorCode.REPLICATION_FAILED,
        `only ${copies} of the ${required} required copies were stored (replicas tried: ${targets.map((t) => t.addr).join(', ') || 'none'})`,
      );
    }
    return { type: 'ownerWriteReply', version, copies, existed: existing !== undefined && !existing.deleted };
  }

  private async handleOwnerWrite(key: Uint8Array, value: Uint8Array, deleted: boolean, mustOwn: boolean): Promise<Response> {
    checkKey(key, this.limits);
    if (typeof deleted !== 'boolean') throw new RingwireError(ErrorCode.INVALID_REQUEST, 'deleted must be a boolean');
    if (!deleted) checkValue(value, this.limits);
    if (mustOwn) this.checkOwned(key);
    // No ownership check: the entry peer's lookup is the authority, and refusing writes while the
    // ring converges (a stale predecessor) would fail them for nothing; ownerWrite copies a write
    // it should not have received to its predecessor, and LWW merges any overlap.
    return this.ownerWrite(key, deleted ? new Uint8Array(0) : value, deleted);
  }

  private async handleReplicate(records: StoredRecord[]): Promise<Response> {
    checkRecords(records, this.limits, this.opts.maxRecordsPerMessage);
    this.refuseIfDeparting('copies');
    // decoded bytes may share memory with a whole received frame: keep copies of winners only
    for (const r of records) if (supersedes(r, this.local.get(r.key))) this.local.merge(copyRecord(r));
    return { type: 'ack' };
  }

  // --- reads ---

  private async handleRead(key: Uint8Array, mustOwn: boolean): Promise<Response> {
    checkKey(key, this.limits);
    if (mustOwn) this.checkOwned(key);
    return { type: 'readReply', record: this.local.get(key) ?? null };
  }

  // --- maintenance scheduling ---

  private runRepair(): Promise<void> {
    const running = this.repairer
      .repair()
      .then(
        () => undefined,
        (err: unknown) => this.log.error('repair round failed', { error: describeError(err) }),
      )
      .finally(() => {
        this.repairRunning = undefined;
      });
    this.repairRunning = running;
    return running;
  }

  private onRingChange(change: RingViewChange): void {
    if (!this.started) return;
    const to = change.predecessor?.to;
    const from = change.predecessor?.from ?? null;
    if (to && !this.isSelf(to) && (from === null || !idEquals(from.id, to.id))) {
      this.repairer
        .pushToPredecessor(to)
        .catch((err: unknown) => this.log.error('push to new predecessor failed', { to: to.addr, error: describeError(err) }));
    }
    if (change.predecessor || change.successorsChanged) this.scheduleSoon();
  }

  private schedulePeriodic(): void {
    this.periodicTimer = this.clock.setTimeout(() => {
      this.periodicTimer = undefined;
      void this.repair().finally(() => {
        if (this.started) this.schedulePeriodic();
      });
    }, this.opts.repairIntervalMs);
  }

  private scheduleSoon(): void {
    if (this.soonTimer) return;
    this.soonTimer = this.clock.setTimeout(() => {
      this.soonTimer = undefined;
      if (this.started) void this.repair();
    }, this.opts.repairAfterChangeMs);
  }

  /** Refuses a request sent through a route cache for a key outside (predecessor, self]. */
  private checkOwned(key: Uint8Array): void {
    if (!this.ring.owns(keyId(key))) {
      const pred = this.ring.predecessor;
      throw refusal(ErrorCode.NOT_OWNER, `this peer does not own the key (its range starts after ${pred ? pred.addr : 'an unknown predecessor'}); route the request afresh`);
    }
  }

  private isSelf(peer: PeerRef): boolean {
    return idEquals(peer.id, this.ring.self.id);
  }

  /** Alone: no successor other than ourselves. */
  private isAlone(): boolean {
    return this.ring.successors.every((p) => this.isSelf(p));
  }
}

