/**
 * The sans-IO Chord peer: successor list, predecessor and fingers, and the protocols that keep
 * them right (join, stabilize, rectify, fix fingers, check predecessor, lookup, leave), following
 * Zave's corrected Chord (see DESIGN.md). It talks only to a Transport and a Clock, so tests run
 * whole rings in memory on a manual clock, and the node layer plugs in TCP.
 *
 * Two rules shape every step: a pointer learned from someone else is adopted only after that peer
 * answered us, and a peer seen failing is dropped at once (the next successor takes over).
 * Steps may run concurrently with request handlers; each re-reads the state after every await and
 * only replaces whole values (lists are immutable), so an interleaving can make a step's result
 * stale for one round, never corrupt.
 */
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { between, betweenRightIncl, idToHex, isId, type Id } from '../ring/id.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { expectReply, type Ack, type LookupReply, type PeerRef, type Request, type Response, type State } from '../protocol/messages.js';
import type { Clock, Random, TimerHandle } from './clock.js';
import type { Transport } from './transport.js';
import { resolveChordConfig, type ChordConfig, type ChordInit } from './defaults.js';
import { FingerTable } from './finger-table.js';
import { findSuccessorStep, isGone, iterativeLookup, LOCAL_CANDIDATES, type LookupContext, type LookupResult } from './lookup.js';
import { GoneCache } from './gone-cache.js';
import { checkOptionalPeerRef, checkPeerList, checkPeerRef, describePeer, samePeer, samePeerAndAddr } from './peer-ref.js';
import { indexOfPeer, mergeSuccessors, sameList, spliceLeaver, withoutPeer } from './successor-list.js';

export { CHORD_DEFAULTS, type ChordInit } from './defaults.js';
export type { LookupResult } from './lookup.js';

/** What a ChordPeer is built on: injected so tests swap in the memory network and a manual clock. */
export interface ChordComponents {
  transport: Transport;
  clock: Clock;
  /** Reserved for jittered scheduling; the peer is deterministic given transport and clock. */
  random: Random;
  log?: Logger;
}

/**
 * A change of the peer's neighbourhood, reported after it happened: the store layer hands off
 * keys when the predecessor changes and repairs replicas when the successor list changes.
 */
export interface RingChange {
  predecessor?: { from: PeerRef | null; to: PeerRef | null };
  successorsChanged: boolean;
}

/** Lifecycle: idle (built) -> joined (create/join) -> leaving (leave) -> stopped. */
export type ChordStatus = 'idle' | 'joined' | 'leaving' | 'stopped';

type StepName = 'stabilize' | 'fixFingers' | 'checkPredecessor';

/** Stabilize rounds a suspected peer is skipped by lookups (unless it answers us meanwhile). */
const GONE_TTL_STABILIZE_ROUNDS = 3;

/** Longest successor list accepted from the wire. */
const MAX_WIRE_LIST = 256;

/** One Chord peer. See the module comment for the rules it keeps. */
export class ChordPeer {
  /** This peer: its id and the address others reach it at. */
  readonly self: PeerRef;
  private readonly components: ChordComponents;
  private readonly config: ChordConfig;
  private readonly log: Logger;
  private readonly fingerTable: FingerTable;
  private readonly lookupContext: LookupContext;
  private readonly gone: GoneCache;
  private pred: PeerRef | null = null;
  private succs: readonly PeerRef[];
  private state: ChordStatus = 'idle';
  private running = false;
  private fingerCursor = 0;
  private readonly timers = new Map<StepName, TimerHandle>();
  private readonly inflight = new Map<StepName, Promise<void>>();
  private readonly listeners = new Set<(c: RingChange) => void>();

  constructor(components: ChordComponents, init: ChordInit) {
    if (!isId(init.id)) throw new RingwireError(ErrorCode.INVALID_ID, 'ChordInit.id must be a 20-byte id');
    if (typeof init.addr !== 'string' || init.addr.length === 0) {
      throw new RingwireError(ErrorCode.INVALID_REQUEST, 'ChordInit.addr must be a non-empty address');
    }
    this.components = components;
    this.config = resolveChordConfig(init);
    this.self = Object.freeze({ id: Uint8Array.from(init.id), addr: init.addr });
    this.log = (components.log ?? silentLogger).child({ component: 'chord', peer: idToHex(this.self.id), addr: init.addr });
    this.fingerTable = new FingerTable(this.self.id);
    // Long enough for the dead peer's neighbours to stabilize it out of the lists they hand out.
    this.gone = new GoneCache(components, { ttlMs: GONE_TTL_STABILIZE_ROUNDS * this.config.stabilizeIntervalMs });
    this.succs = [this.self];
    this.lookupContext = {
      self: this.self,
      transport: components.transport,
      requestTimeoutMs: this.config.requestTimeoutMs,
      maxLookupSteps: this.config.maxLookupSteps,
      onPeerGone: (p) => this.suspect(p),
      isRecentlyGone: (addr) => this.gone.has(addr),
      minFollowers: Math.ceil(this.config.successorListLength / 2),
    };
  }

  /** The predecessor, or null while unknown (just joined, or the old one failed). */
  get predecessor(): PeerRef | null {
    return this.pred;
  }

  /** The successor list, nearest first: entry 0 is the successor; [self] when alone. */
  get successors(): readonly PeerRef[] {
    return this.succs;
  }

  /** The 160 fingers: finger i ~ successor(self + 2^i), null where not known (yet). */
  get fingers(): readonly (PeerRef | null)[] {
    return this.fingerTable.all;
  }

  get status(): ChordStatus {
    return this.state;
  }

  /** Starts a new ring of one: this peer is its own successor and owns every key. */
  create(): void {
    this.requireIdle('create');
    this.state = 'joined';
    this.fingerTable.fill(this.self);
    this.log.info('created a ring');
  }

  /**
   * Joins the ring `bootstrapAddr` belongs to: finds successor(self) through it, adopts that
   * successor once it answered us, and copies the successor list of the peer that placed us; the
   * predecessor stays unknown until someone notifies us. Stabilize and notify do the rest.
   * Rejects with JOIN_FAILED (reason in the message), e.g. when a live peer already has our id.
   */
  async join(bootstrapAddr: string): Promise<void> {
    this.requireIdle('join');
    if (typeof bootstrapAddr !== 'string' || bootstrapAddr.length === 0) {
      throw new RingwireError(ErrorCode.JOIN_FAILED, 'join needs a bootstrap address');
    }
    let found: LookupResult;
    try {
      found = await iterativeLookup(this.lookupContext, this.self.id, [], { bootstrapAddr });
    } catch (err) {
      throw new RingwireError(ErrorCode.JOIN_FAILED, `could not find our place through ${bootstrapAddr}: ${describeError(err)}`, { cause: err });
    }
    const nodes = [found.owner, ...found.successors];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (samePeer(n, this.self)) {
        // Our own stale entry (we restarted at the same address) is skipped; another live peer
        // with our id is a duplicate the ring cannot hold.
        if (n.addr !== this.self.addr && (await this.answers(n))) {
          throw new RingwireError(ErrorCode.JOIN_FAILED, `duplicate id: ${describePeer(n)} is alive with our id ${idToHex(this.self.id)}`);
        }
        continue;
      }
      if (!(await this.answers(n))) continue;
      if (this.state !== 'idle') throw new RingwireError(ErrorCode.JOIN_FAILED, `peer was ${this.state} while joining`);
      this.state = 'joined';
      this.setSuccessors(mergeSuccessors(this.self, n, nodes.slice(i + 1), this.config.successorListLength));
      this.fingerTable.fillUpTo(this.succs[0]!);
      this.log.info('joined', { via: bootstrapAddr, successor: describePeer(n), hops: found.hops });
      return;
    }
    throw new RingwireError(ErrorCode.JOIN_FAILED, `no live successor among the ${nodes.length} peers ${bootstrapAddr} named`);
  }

  /**
   * Runs stabilize, fixFingers and checkPredecessor periodically on the clock, each on its own
   * timer: first run one period after start, re-armed once the step finished (so a slow step never
   * overlaps itself). A no-op when already running.
   */
  start(): void {
    if (this.state !== 'joined') throw new RingwireError(ErrorCode.NOT_READY, `cannot start a peer that is ${this.state}`);
    if (this.running) return;
    this.running = true;
    this.arm('stabilize', this.config.stabilizeIntervalMs);
    this.arm('fixFingers', this.config.fixFingersIntervalMs);
    this.arm('checkPredecessor', this.config.checkPredecessorIntervalMs);
  }

  /** Clears every timer and leaves the ring silently (a crash, as far as others can tell). */
  stop(): void {
    this.running = false;
    for (const handle of this.timers.values()) this.components.clock.clearTimeout(handle);
    this.timers.clear();
    if (this.state !== 'stopped') this.log.info('stopped');
    this.state = 'stopped';
  }

  /**
   * Leaves gracefully: tells the successor (carrying our predecessor) and then the predecessor
   * (carrying our successor list) so both close the gap at once, then stops. A neighbour that
   * does not answer is left to find out by stabilize; leave itself never fails.
   */
  async leave(): Promise<void> {
    if (this.state !== 'joined') {
      this.stop();
      return;
    }
    this.state = 'leaving';
    const msg: Request = { type: 'leave', peer: this.self, predecessor: this.pred, successors: this.succs.slice() };
    const succ = this.succs[0]!;
    const targets = [succ];
    if (this.pred && !samePeer(this.pred, succ) && !samePeer(this.pred, this.self)) targets.push(this.pred);
    for (const target of targets) {
      if (samePeer(target, this.self)) continue;
      try {
        await this.request(target.addr, msg);
      } catch (err) {
        this.log.warn('leave notice not delivered', { to: describePeer(target), error: describeError(err) });
      }
    }
    this.stop();
  }

  /**
   * One round of Zave's stabilize: a dead first successor is dropped and the next one tried; a
   * live one is asked for its predecessor p and list; p (closer to us) is adopted only if it
   * answers, walking back while each new successor knows a closer one; the list becomes successor
   * + its list truncated to r; the final successor is notified. Concurrent calls share one run.
   */
  stabilize(): Promise<void> {
    return this.once('stabilize', () => this.runStabilize());
  }

  /**
   * Refreshes up to fingersPerRound fingers, cycling through the table across calls. Fingers in
   * (self, successor] and those sharing a just-found successor are set without a lookup.
   */
  fixFingers(): Promise<void> {
    return this.once('fixFingers', () => this.runFixFingers());
  }

  /** Pings the predecessor; one that fails (or is no longer in a ring) becomes unknown. */
  checkPredecessor(): Promise<void> {
    return this.once('checkPredecessor', () => this.runCheckPredecessor());
  }

  /**
   * successor(key) by an iterative lookup driven from here: answered from our own state when the
   * key is ours or our successor's (0 hops), otherwise by asking the closest preceding peers.
   * Rejects with NOT_READY unless joined, LOOKUP_FAILED when no live route is found.
   */
  async findSuccessor(key: Id): Promise<LookupResult> {
    if (!isId(key)) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'a lookup key must be a 20-byte id');
    if (this.state !== 'joined') throw new RingwireError(ErrorCode.NOT_READY, `peer is ${this.state}`);
    // Our own state first, by the same rule a remote step applies (0 hops when it is enough).
    const local = findSuccessorStep(this.stepState(), key, LOCAL_CANDIDATES);
    if (local.done) return iterativeLookup(this.lookupContext, key, [], { localDone: local.nodes });
    return iterativeLookup(this.lookupContext, key, local.nodes);
  }

  /** True when keyId is in (predecessor, self]; with the predecessor unknown, only when alone. */
  owns(keyId: Id): boolean {
    if (this.pred) return betweenRightIncl(this.pred.id, keyId, this.self.id);
    return samePeer(this.succs[0], this.self);
  }

  /**
   * The caller saw `peer` fail: forget it everywhere at once (successor list, fingers,
   * predecessor). The successor list keeps at least one entry, falling back to self. For a few
   * stabilize rounds lookups also skip it when other peers still name it (unless it answers us).
   */
  suspect(peer: PeerRef): void {
    if (samePeer(peer, this.self)) return;
    this.gone.add(peer.addr);
    if (samePeer(this.pred, peer)) this.setPredecessor(null);
    this.setSuccessors(withoutPeer(this.self, this.succs, peer));
    this.fingerTable.remove(peer.id);
  }

  /**
   * Answers the Chord requests (ping, getState, notify, findSuccessor, leave, lookup); returns
   * undefined for any other type so the node layer can route it elsewhere. Unless joined, every
   * answer is NOT_READY; malformed ids or peers are INVALID_REQUEST.
   */
  handle(req: Request): Promise<Response> | undefined {
    switch (req.type) {
      case 'ping':
      case 'getState':
      case 'notify':
      case 'findSuccessor':
      case 'leave':
      case 'lookup':
        return this.dispatch(req);
      default:
        return undefined;
    }
  }

  /** Calls `listener` after every predecessor or successor-list change; returns unsubscribe. */
  onChange(listener: (c: RingChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Distinct finger entries in finger order (for the Info message). */
  fingerPeers(): PeerRef[] {
    return this.fingerTable.distinct();
  }

  // --- request handling ---

  private async dispatch(req: Request): Promise<Response> {
    if (this.state !== 'joined') throw new RingwireError(ErrorCode.NOT_READY, `peer is ${this.state}`);
    switch (req.type) {
      case 'ping':
        return { type: 'pong' };
      case 'getState':
        return { type: 'state', self: this.self, predecessor: this.pred, successors: this.succs.slice() };
      case 'findSuccessor':
        if (!isId(req.key)) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'findSuccessor.key must be a 20-byte id');
        return findSuccessorStep(this.stepState(), req.key);
      case 'lookup': {
        if (!isId(req.keyId)) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'lookup.keyId must be a 20-byte id');
        const found = await this.findSuccessor(req.keyId);
        const reply: LookupReply = { type: 'lookupReply', owner: found.owner, hops: found.hops };
        return reply;
      }
      case 'notify':
        return this.rectify(checkPeerRef(req.peer, 'notify.peer'));
      case 'leave':
        return this.onLeave(
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
   * every case only after the notifier itself answered a ping.
   */
  private async rectify(n: PeerRef): Promise<Ack> {
    const ack: Ack = { type: 'ack' };
    if (samePeer(n, this.self)) return ack;
    const pred = this.pred;
    if (pred && samePeerAndAddr(pred, n)) return ack;
    const closer = !pred || samePeer(pred, n) || between(pred.id, n.id, this.self.id);
    if (!closer && (await this.answers(pred!))) return ack;
    if (!(await this.answers(n)) || this.state !== 'joined') return ack;
    // Re-read after the pings: another notify may have installed a better predecessor meanwhile.
    const cur = this.pred;
    if (cur === null || cur === pred || between(cur.id, n.id, this.self.id)) this.setPredecessor(n);
    return ack;
  }

  /**
   * A neighbour leaves. As its successor, we forget it as predecessor and take its predecessor
   * once that one answered. As a predecessor (or anyone holding it in the list), we replace it by
   * its successors in place; when it was our first successor, stabilize runs at once to verify
   * (and notify) the new one.
   */
  private async onLeave(leaver: PeerRef, leaverPred: PeerRef | null, leaverSuccs: PeerRef[]): Promise<Ack> {
    if (samePeer(leaver, this.self)) return { type: 'ack' };
    this.log.info('neighbour leaves', { leaver: describePeer(leaver) });
    this.fingerTable.remove(leaver.id);
    const idx = indexOfPeer(this.succs, leaver);
    if (idx >= 0) {
      this.setSuccessors(spliceLeaver(this.self, this.succs, idx, leaverSuccs, this.config.successorListLength));
    }
    if (samePeer(this.pred, leaver)) {
      this.setPredecessor(null);
      if (leaverPred && !samePeer(leaverPred, this.self) && !samePeer(leaverPred, leaver) && (await this.answers(leaverPred))) {
        const cur = this.pred;
        if (this.state === 'joined' && (cur === null || between(cur.id, leaverPred.id, this.self.id))) this.setPredecessor(leaverPred);
      }
    }
    if (idx === 0) {
      try {
        await this.stabilize();
      } catch (err) {
        this.log.warn('stabilize after a leave failed', { error: describeError(err) });
      }
    }
    return { type: 'ack' };
  }

  // --- the periodic steps ---

  private async runStabilize(): Promise<void> {
    const r = this.config.successorListLength;
    // Each failed attempt drops one entry, so r+1 attempts exhaust any list.
    for (let attempt = 0; attempt <= r && this.state === 'joined'; attempt++) {
      let succ = this.succs[0]!;
      let view: { predecessor: PeerRef | null; successors: readonly PeerRef[] };
      if (samePeer(succ, this.self)) {
        view = { predecessor: this.pred, successors: [] };
      } else {
        try {
          view = await this.getState(succ);
        } catch (err) {
          if (!isGone(err)) throw err;
          this.log.info('successor gone, trying the next', { successor: describePeer(succ), error: describeError(err) });
          this.suspect(succ);
          continue;
        }
      }
      // Walk back towards closer successors; each one is adopted only after it answered.
      for (let walk = 0; walk < this.config.maxLookupSteps; walk++) {
        const p = view.predecessor;
        if (!p || samePeer(p, this.self) || !between(this.self.id, p.id, succ.id)) break;
        try {
          view = await this.getState(p);
        } catch (err) {
          this.log.debug('closer successor did not answer, not adopted', { candidate: describePeer(p), error: describeError(err) });
          break;
        }
        succ = p;
      }
      if (this.state !== 'joined') return;
      if (samePeer(succ, this.self)) return; // alone, and nobody has notified us yet
      this.setSuccessors(mergeSuccessors(this.self, succ, view.successors, r));
      try {
        await this.request(succ.addr, { type: 'notify', peer: this.self });
      } catch (err) {
        this.log.debug('notify failed', { successor: describePeer(succ), error: describeError(err) });
      }
      return;
    }
  }

  private async runFixFingers(): Promise<void> {
    if (this.state !== 'joined') return;
    const total = this.fingerTable.starts.length;
    const settled = this.fingerTable.fillUpTo(this.succs[0]!);
    let i = this.fingerCursor < settled ? settled : this.fingerCursor;
    let remaining = total - settled; // visit every other finger at most once per call
    let budget = this.config.fingersPerRound;
    while (budget > 0 && remaining > 0 && this.state === 'joined') {
      if (i >= total) i = settled;
      budget--;
      let next = i + 1;
      try {
        const found = await this.findSuccessor(this.fingerTable.starts[i]!);
        next = this.fingerTable.fillRun(i, found.owner);
      } catch (err) {
        this.log.debug('finger lookup failed', { finger: i, error: describeError(err) });
      }
      remaining -= next - i;
      i = next;
    }
    this.fingerCursor = i >= total ? 0 : i;
  }

  private async runCheckPredecessor(): Promise<void> {
    const pred = this.pred;
    if (!pred || this.state !== 'joined') return;
    try {
      await this.request(pred.addr, { type: 'ping' });
    } catch (err) {
      if (!isGone(err)) throw err;
      this.gone.add(pred.addr);
      if (this.pred === pred) {
        this.log.info('predecessor gone', { predecessor: describePeer(pred), error: describeError(err) });
        this.setPredecessor(null);
      }
    }
  }

  // --- plumbing ---

  private stepState(): Parameters<typeof findSuccessorStep>[0] {
    return {
      self: this.self,
      predecessor: this.pred,
      successors: this.succs,
      fingers: this.fingerTable.all,
      r: this.config.successorListLength,
    };
  }

  private requireIdle(what: string): void {
    if (this.state !== 'idle') {
      throw new RingwireError(what === 'join' ? ErrorCode.JOIN_FAILED : ErrorCode.NOT_READY, `cannot ${what}: peer is ${this.state}`);
    }
  }

  private request(addr: string, req: Request): Promise<Response> {
    return this.components.transport.request(addr, req, { timeoutMs: this.config.requestTimeoutMs });
  }

  /** True when `peer` answers a ping: the check behind every pointer we adopt. */
  private async answers(peer: PeerRef): Promise<boolean> {
    try {
      expectReply(await this.request(peer.addr, { type: 'ping' }), 'pong');
      this.gone.alive(peer.addr);
      return true;
    } catch {
      return false;
    }
  }

  /** A peer's state, checked: a reply from a different id at that address counts as gone. */
  private async getState(peer: PeerRef): Promise<{ predecessor: PeerRef | null; successors: readonly PeerRef[] }> {
    const res: State = expectReply(await this.request(peer.addr, { type: 'getState' }), 'state');
    const code = ErrorCode.PROTOCOL_ERROR;
    const self = checkPeerRef(res.self, 'state.self', code);
    if (!samePeer(self, peer)) throw new RingwireError(code, `${peer.addr} is now ${describePeer(self)}, not ${describePeer(peer)}`);
    this.gone.alive(peer.addr);
    return {
      predecessor: checkOptionalPeerRef(res.predecessor, 'state.predecessor', code),
      successors: checkPeerList(res.successors, 'state.successors', MAX_WIRE_LIST, code),
    };
  }

  /** Runs `fn` unless a run of `name` is in flight, in which case callers share that run. */
  private once(name: StepName, fn: () => Promise<void>): Promise<void> {
    const running = this.inflight.get(name);
    if (running) return running;
    const p = fn().finally(() => this.inflight.delete(name));
    this.inflight.set(name, p);
    return p;
  }

  private arm(name: StepName, periodMs: number): void {
    const handle = this.components.clock.setTimeout(() => {
      this.timers.delete(name);
      this[name]()
        .catch((err: unknown) => this.log.warn(`${name} failed`, { error: describeError(err) }))
        .finally(() => {
          if (this.running && this.state === 'joined') this.arm(name, periodMs);
        });
    }, periodMs);
    this.timers.set(name, handle);
  }

  private setPredecessor(p: PeerRef | null): void {
    const from = this.pred;
    if (samePeerAndAddr(from, p)) return;
    this.pred = p;
    this.log.debug('predecessor changed', { from: describePeer(from), to: describePeer(p) });
    this.emit({ predecessor: { from, to: p }, successorsChanged: false });
  }

  private setSuccessors(list: readonly PeerRef[]): void {
    if (sameList(this.succs, list)) return;
    this.succs = list;
    this.emit({ successorsChanged: true });
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
