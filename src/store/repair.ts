/**
 * Keeping copies where the ring says they belong, as membership changes: anti-entropy rounds that
 * push owned records to the replica set, the push to a new predecessor that took over part of our
 * range, and the hand-off before a graceful leave. All of them send whole records and rely on the
 * receiver's last-writer-wins merge, so sending too much is harmless and any of them may race.
 *
 * Left out for simplicity: digest or Merkle comparison (a round resends every owned record), and
 * garbage collection of copies a peer no longer needs to hold (they are only counted in `stored`).
 */
import { ErrorCode, RingwireError, describeError, hasCode, isPeerFailure } from '../errors/errors.js';
import { betweenRightIncl, idEquals } from '../ring/id.js';
import type { PeerRef, StoredRecord } from '../protocol/messages.js';
import type { LocalStore } from './local-store.js';
import type { RingView } from './ring-view.js';
import { pushRecords, pushRecordsOrError, pushToAll, replicaTargets, type PushContext } from './replication.js';

/** What a Repairer works on. */
export interface RepairerComponents {
  ring: RingView;
  local: LocalStore;
  push: PushContext;
}

/** How many copies the store keeps. */
export interface RepairerInit {
  /** Copies per key: the owner plus replicas-1 successors. */
  replicas: number;
}

/** The maintenance operations of one store; KvStore schedules them, tests call them directly. */
export class Repairer {
  private readonly ring: RingView;
  private readonly local: LocalStore;
  private readonly push: PushContext;
  private readonly replicas: number;

  constructor(components: RepairerComponents, init: RepairerInit) {
    this.ring = components.ring;
    this.local = components.local;
    this.push = components.push;
    this.replicas = init.replicas;
  }

  /**
   * One anti-entropy round: every record we own (key id in (predecessor, self], tombstones
   * included) goes to the first replicas-1 successors. Skipped while the predecessor is unknown,
   * since we cannot tell what we own, and when alone, since there is nobody to copy to.
   * Resolves with the number of records pushed (to each target); failures are logged, not thrown.
   */
  async repair(): Promise<number> {
    const self = this.ring.self;
    const targets = replicaTargets(self, this.ring.successors, this.replicas - 1);
    const pred = this.ring.predecessor;
    if (targets.length === 0 || pred === null) return 0;
    // Records we hold but do not own go one step back, to the predecessor: a replica there is a
    // no-op merge, but a copy stranded off its replica set (written through an owner whose list
    // had not yet seen a joiner, after which that owner left or crashed) otherwise never reaches
    // the key's new owner. Found by the randomized search (src/sim/search.ts, seeds 204 and 249).
    const stray = this.records((id) => !betweenRightIncl(pred.id, id, self.id));
    if (stray.length > 0 && !idEquals(pred.id, self.id)) await pushRecords(this.push, pred, stray, 'repair (not owned, to predecessor)');
    const owned = this.records((id) => betweenRightIncl(pred.id, id, self.id));
    if (owned.length === 0) return 0;
    await pushToAll(this.push, targets, owned, 'repair');
    return owned.length;
  }

  /**
   * Called when `p` became our predecessor: p now owns (old predecessor, p], whose records we hold
   * (we were their owner or a replica), and p also joined the replica sets of the owners before it.
   * So everything outside (p, self] goes to p. Resolves with whether p accepted all of it.
   */
  async pushToPredecessor(p: PeerRef): Promise<boolean> {
    const self = this.ring.self;
    if (idEquals(p.id, self.id)) return true;
    const moving = this.records((id) => !betweenRightIncl(p.id, id, self.id));
    if (moving.length === 0) return true;
    return pushRecords(this.push, p, moving, 'new predecessor');
  }

  /**
   * Before a graceful leave: every record we hold (tombstones included) goes to our replica set,
   * the first of which becomes the owner of our range. Throws when records exist, successors exist,
   * and none of them took the records (leaving then would lose keys): NOT_READY when every one of
   * them refused because it is leaving too, REPLICATION_FAILED otherwise.
   */
  async handOff(): Promise<number> {
    const self = this.ring.self;
    const all = this.records(() => true);
    if (all.length === 0) return 0;
    const want = Math.max(1, this.replicas - 1);
    const candidates = replicaTargets(self, this.ring.successors, Number.POSITIVE_INFINITY);
    if (candidates.length === 0) {
      this.push.log.warn('hand-off with no successor: records leave with this peer', { records: all.length });
      return 0;
    }
    const failures: unknown[] = [];
    const push = async (p: PeerRef): Promise<boolean> => {
      const err = await pushRecordsOrError(this.push, p, all, 'hand-off', true);
      if (err !== null) failures.push(err);
      return err === null;
    };
    let accepted = (await Promise.all(candidates.slice(0, want).map(push))).filter(Boolean).length;
    // A successor that refused (it is leaving too) or failed is replaced by the next one, so the
    // records still reach `want` peers that stay.
    for (let i = want; accepted < want && i < candidates.length; i++) {
      if (await push(candidates[i]!)) accepted++;
    }
    if (accepted === 0) {
      const list = candidates.map((t) => t.addr).join(', ');
      if (failures.every((e) => hasCode(e, ErrorCode.NOT_READY) || isPeerFailure(e))) {
        // Every peer we know is leaving or gone (a whole host shutting down): nobody stays to take them.
        throw new RingwireError(ErrorCode.NOT_READY, `every successor is leaving or gone (${list}): ${all.length} records leave with this peer`);
      }
      throw new RingwireError(ErrorCode.REPLICATION_FAILED, `hand-off of ${all.length} records failed: none of ${list} accepted them (${failures.map(describeError).join('; ')})`);
    }
    return all.length;
  }

  private records(pred: Parameters<LocalStore['select']>[0]): StoredRecord[] {
    return this.local.select(pred).map((e) => e.record);
  }
}
