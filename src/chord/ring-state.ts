/**
 * What one peer knows about the ring: predecessor, successor list, fingers and the peers that
 * failed lately, with every change reported to listeners. The protocols (peer.ts) decide what to
 * change; this class makes each change atomic (whole values replaced, never mutated in place),
 * reports it once, and keeps the invariant that the successor list is never empty.
 */
import { betweenRightIncl, type Id } from '../ring/id.js';
import { describeError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import type { PeerRef } from '../protocol/messages.js';
import type { Clock } from './clock.js';
import { FingerTable } from './finger-table.js';
import { GoneCache } from './gone-cache.js';
import type { StepState } from './lookup.js';
import { describePeer, samePeer, samePeerAndAddr } from './peer-ref.js';
import { sameList, withoutPeer } from './successor-list.js';

/**
 * A change of the peer's neighbourhood, reported after it happened: the store layer hands off
 * keys when the predecessor changes and repairs replicas when the successor list changes.
 */
export interface RingChange {
  predecessor?: { from: PeerRef | null; to: PeerRef | null };
  successorsChanged: boolean;
}

/** The pointers of one peer. Not exported from the layer: ChordPeer exposes read-only views. */
export class RingState {
  readonly self: PeerRef;
  /** r, the successor list length. */
  readonly r: number;
  readonly fingers: FingerTable;
  /** Peers seen failing lately: lookups skip them even where other peers still name them. */
  readonly gone: GoneCache;
  private pred: PeerRef | null = null;
  private succs: readonly PeerRef[];
  private readonly listeners = new Set<(c: RingChange) => void>();
  private readonly log: Logger;

  constructor(components: { clock: Clock; log: Logger }, init: { self: PeerRef; r: number; goneTtlMs: number }) {
    this.self = init.self;
    this.r = init.r;
    this.log = components.log;
    this.fingers = new FingerTable(init.self.id);
    this.gone = new GoneCache(components, { ttlMs: init.goneTtlMs });
    this.succs = [init.self];
  }

  /** null while unknown. */
  get predecessor(): PeerRef | null {
    return this.pred;
  }

  /** Nearest first; [self] when alone. An immutable value: replaced on change, never edited. */
  get successors(): readonly PeerRef[] {
    return this.succs;
  }

  /** True when the successor list is just [self]. */
  get alone(): boolean {
    return samePeer(this.succs[0], this.self);
  }

  /** True when keyId is in (predecessor, self]; with the predecessor unknown, only when alone. */
  owns(keyId: Id): boolean {
    if (this.pred) return betweenRightIncl(this.pred.id, keyId, this.self.id);
    return this.alone;
  }

  /** Replaces the predecessor; reports only a real change (another id or address). */
  setPredecessor(p: PeerRef | null): void {
    const from = this.pred;
    if (samePeerAndAddr(from, p)) return;
    this.pred = p;
    this.log.debug('predecessor changed', { from: describePeer(from), to: describePeer(p) });
    this.emit({ predecessor: { from, to: p }, successorsChanged: false });
  }

  /** Replaces the list (a non-empty, immutable array); reports only a real change. */
  setSuccessors(list: readonly PeerRef[]): void {
    if (list.length === 0) list = [this.self];
    if (sameList(this.succs, list)) return;
    this.succs = list;
    this.emit({ successorsChanged: true });
  }

  /**
   * Forgets `peer` everywhere at once (predecessor, successor list, fingers) and remembers it as
   * gone. The last remaining successor is never dropped: a peer whose whole list seems dead is
   * beyond Chord's failure assumption, and far more often it is us that is starved (timeouts,
   * out of file descriptors). Falling back to [self] there would make this peer adopt its
   * predecessor as successor on the next stabilize and split the ring into loops; keeping the
   * entry lets stabilize retry it until it answers.
   */
  suspect(peer: PeerRef): void {
    if (samePeer(peer, this.self)) return;
    this.gone.add(peer.addr);
    if (samePeer(this.pred, peer)) this.setPredecessor(null);
    const rest = withoutPeer(this.self, this.succs, peer);
    if (rest.length === 1 && samePeer(rest[0]!, this.self) && !samePeer(this.succs[0]!, this.self)) {
      this.log.warn('every successor seems gone; keeping the last one to retry', { successor: describePeer(peer) });
    } else {
      this.setSuccessors(rest);
    }
    this.fingers.remove(peer.id);
  }

  /** A snapshot for one routing step (cheap: references, no copies). */
  stepState(): StepState {
    return { self: this.self, predecessor: this.pred, successors: this.succs, fingers: this.fingers.routing, r: this.r };
  }

  /** Calls `listener` after every change (a throwing listener is logged, never propagated). */
  onChange(listener: (c: RingChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(change: RingChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error('ring change listener threw', { error: describeError(err) });
      }
    }
  }
}
