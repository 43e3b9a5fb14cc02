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
 *
 * This file holds the lifecycle and the periodic steps; ring-state.ts the pointers, handlers.ts
 * the requests we answer, lookup.ts routing, probe.ts the checks we send.
 */
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { between, betweenRightIncl, idToHex, isId, type Id } from '../ring/id.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { PeerRef, Request, Response, StoredRecord } from '../protocol/messages.js';
import type { Clock, Random, TimerHandle } from './clock.js';
import type { Transport } from './transport.js';
import { resolveChordConfig, type ChordConfig, type ChordInit } from './defaults.js';
import { CHORD_REQUEST_TYPES, handleChordRequest, type HandlerHost } from './handlers.js';
import { findSuccessorStep, isGone, iterativeLookup, LOCAL_CANDIDATES, MAX_REPLY_NODES, type LookupContext, type LookupResult } from './lookup.js';
import { RouteCache, type RouteCacheUse } from './route-cache.js';
import { RoutedLookups, type RoutedResult } from './routed-lookup.js';
import { checkPeerList } from './peer-ref.js';
import { expectReply } from '../protocol/messages.js';
import { PeriodicSteps, SingleFlight } from './periodic.js';
import { describePeer, samePeer } from './peer-ref.js';
import { Probe, type NeighbourState } from './probe.js';
import { RingState, type RingChange } from './ring-state.js';
import { mergeSuccessors, sameList } from './successor-list.js';

export { CHORD_DEFAULTS, type ChordInit } from './defaults.js';
export type { LookupResult } from './lookup.js';
export type { RingChange } from './ring-state.js';

/** What a ChordPeer is built on: injected so tests swap in the memory network and a manual clock. */
export interface ChordComponents {
  transport: Transport;
  clock: Clock;
  /** Reserved for jittered scheduling; today the peer is deterministic given transport and clock. */
  random: Random;
  log?: Logger;
}

/** Lifecycle: idle (built) -> joined (create/join) -> leaving (leave) -> stopped. */
export type ChordStatus = 'idle' | 'joined' | 'leaving' | 'stopped';

type StepName = 'stabilize' | 'fixFingers' | 'checkPredecessor';

/** Most nudged (hint-triggered) stabilize rounds per stabilize period. */
const NUDGE_ROUNDS_PER_PERIOD = 8;

/** Stabilize rounds a suspected peer is skipped by lookups (unless it answers us meanwhile). */
const GONE_TTL_STABILIZE_ROUNDS = 3;

/** Rounds the last successor left may fail before stabilize restarts from another live peer. */
const LAST_SUCCESSOR_ROUNDS = 3;

/** Largest multiplier of the fix-fingers period on a ring whose fingers stopped changing. */
const FINGER_BACKOFF_MAX = 8;

/** One Chord peer. See the module comment for the rules it keeps. */
export class ChordPeer {
  /** This peer: its id and the address others reach it at. */
  readonly self: PeerRef;
  private readonly config: ChordConfig;
  private readonly log: Logger;
  private readonly ring: RingState;
  private readonly probe: Probe;
  private readonly lookupContext: LookupContext;
  private readonly host: HandlerHost;
  private readonly periodic: PeriodicSteps<StepName>;
  private readonly single = new SingleFlight<StepName>();
  private state: ChordStatus = 'idle';
  private fingerCursor = 0;
  /**
   * Multiplier of the fix-fingers period: doubled (up to FINGER_BACKOFF_MAX) after every full pass
   * over the table that changed no finger, back to 1 on any change. An idle ring of hundreds of
   * peers in one process otherwise spends most of a core on finger lookups that find nothing new;
   * correctness never waits on fingers (the successor list routes), only lookup length does.
   */
  private fingerBackoff = 1;
  /**
   * Multiplier of the stabilize and checkPredecessor periods: doubled (up to quietBackoffMax)
   * after every stabilize round that changed nothing, back to 1 on any ring change or suspected
   * peer. An idle ring then costs a fraction of its maintenance traffic, which under load is
   * capacity for the clients, while a ring that changes repairs at the configured speed.
   */
  private quietBackoff = 1;
  /** Recursive lookups (routed-lookup.ts): ours waiting for answers, and hops of others'. */
  private readonly routed: RoutedLookups;
  /** Lookups go recursive first (the transport carries one-way messages and it is not turned off). */
  private readonly recursive: boolean;
  /** The store's local read (setOwnerReader), so the owner answers a recursive get with its copy. */
  private ownerReader: ((key: Uint8Array) => StoredRecord | null) | undefined;
  /** Ring changes seen so far (predecessor or successor list), to tell a quiet round. */
  private ringChanges = 0;
  /** Consecutive stabilize rounds in which the only successor left did not answer. */
  private lastSuccessorFailures = 0;
  private fingerPassChanged = false;
  /** Owner ranges learned from lookups (null when the route cache is off). */
  private readonly routes: RouteCache | null;
  /** A nudged stabilize is waiting to run (further nudges join it). */
  private nudgeQueued = false;
  /** When the last nudged stabilize started (clock ms), for the rate limit. */
  private lastNudgeAt = -Infinity;
  private nudgeTimer: TimerHandle | undefined;
  private readonly unsubscribeLost: () => void;
  /** Set by quiesce(): a leave is under way, maintenance is over. */
  private quiesced = false;
  private readonly clock: Clock;

  constructor(components: ChordComponents, init: ChordInit) {
    if (!isId(init.id)) throw new RingwireError(ErrorCode.INVALID_ID, 'ChordInit.id must be a 20-byte id');
    if (typeof init.addr !== 'string' || init.addr.length === 0) {
      throw new RingwireError(ErrorCode.INVALID_REQUEST, 'ChordInit.addr must be a non-empty address');
    }
    this.config = resolveChordConfig(init);
    this.routes = init.routeCache === false ? null : new RouteCache();
    this.clock = components.clock;
    this.self = Object.freeze({ id: Uint8Array.from(init.id), addr: init.addr });
    this.log = (components.log ?? silentLogger).child({ component: 'chord', peer: idToHex(this.self.id), addr: init.addr });
    const r = this.config.successorListLength;
    // Long enough for a dead peer's neighbours to stabilize it out of the lists they hand out.
    const goneTtlMs = GONE_TTL_STABILIZE_ROUNDS * this.config.stabilizeIntervalMs;
    this.ring = new RingState({ clock: components.clock, log: this.log }, { self: this.self, r, goneTtlMs });
    // Any change ends a quiet spell: maintenance runs at full speed again (a new neighbour may
    // well be a better finger somewhere, too).
    this.ring.onChange(() => {
      this.ringChanges++;
      this.speedUp();
    });
    this.probe = new Probe(components, { timeoutMs: this.config.requestTimeoutMs, gone: this.ring.gone });
    this.periodic = new PeriodicSteps({ clock: components.clock, log: this.log }, { gridMs: this.config.timerGridMs });
    this.lookupContext = {
      self: this.self,
      transport: components.transport,
      requestTimeoutMs: this.config.requestTimeoutMs,
      maxLookupSteps: this.config.maxLookupSteps,
      onPeerGone: (p) => this.suspect(p),
      isRecentlyGone: (addr) => this.ring.gone.has(addr),
      minFollowers: Math.ceil(r / 2),
    };
    this.routed = new RoutedLookups({
      self: this.self,
      transport: components.transport,
      clock: components.clock,
      random: components.random,
      log: this.log,
      lookupContext: this.lookupContext,
      stepState: () => this.ring.stepState(),
      isJoined: () => this.state === 'joined',
      suspect: (p) => this.suspect(p),
      ownerRead: (key) => this.ownerReader?.(key),
    });
    this.recursive = init.recursiveLookups !== false && this.routed.available;
    this.host = {
      ring: this.ring,
      probe: this.probe,
      log: this.log,
      isJoined: () => this.state === 'joined',
      findSuccessor: (key, cache) => this.findSuccessor(key, cache),
      findSuccessorCached: (key) => this.findSuccessorCached(key),
      stabilize: () => this.stabilize(),
      nudge: () => this.nudge(),
    };
    this.unsubscribeLost = components.transport.onConnectionLost?.((addr) => this.onConnectionLost(addr)) ?? (() => undefined);
  }

  /** The predecessor, or null while unknown (just joined, or the old one failed). */
  get predecessor(): PeerRef | null {
    return this.ring.predecessor;
  }

  /** The successor list, nearest first: entry 0 is the successor; [self] when alone. */
  get successors(): readonly PeerRef[] {
    return this.ring.successors;
  }

  /** The 160 fingers: finger i ~ successor(self + 2^i), null where not known (yet). */
  get fingers(): readonly (PeerRef | null)[] {
    return this.ring.fingers.all;
  }

  /**
   * Periodic (timer-driven) stabilize rounds since start: the peer's own clock of "stabilization
   * periods", which stretches with load where wall-clock time does not.
   */
  get stabilizeRounds(): number {
    return this.periodic.rounds('stabilize');
  }

  /** Where the peer is in its lifecycle; only a joined peer answers requests. */
  get status(): ChordStatus {
    return this.state;
  }

  /** Starts a new ring of one: this peer is its own successor and owns every key. */
  create(): void {
    if (this.state !== 'idle') throw new RingwireError(ErrorCode.NOT_READY, `cannot create a ring: peer is ${this.state}`);
    this.state = 'joined';
    this.ring.fingers.fill(this.self);
    this.log.info('created a ring');
  }

  /**
   * Joins the ring `bootstrapAddr` belongs to: finds successor(self) through it, adopts that
   * successor once it answered us, and copies the successor list of the peer that placed us; the
   * predecessor stays unknown until someone notifies us. Stabilize and notify do the rest.
   * Rejects with JOIN_FAILED (reason in the message), e.g. when a live peer already has our id.
   */
  async join(bootstrapAddr: string): Promise<void> {
    if (this.state !== 'idle') throw new RingwireError(ErrorCode.JOIN_FAILED, `cannot join: peer is ${this.state}`);
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
        if (n.addr !== this.self.addr && (await this.probe.answers(n))) {
          throw new RingwireError(ErrorCode.JOIN_FAILED, `duplicate id: ${describePeer(n)} is alive with our id ${idToHex(this.self.id)}`);
        }
        continue;
      }
      if (!(await this.probe.answers(n))) continue;
      if (this.state !== 'idle') throw new RingwireError(ErrorCode.JOIN_FAILED, `peer was ${this.state} while joining`);
      this.state = 'joined';
      this.ring.setSuccessors(mergeSuccessors(this.self, n, nodes.slice(i + 1), this.ring.r));
      this.ring.fingers.fillUpTo(this.ring.successors[0]!);
      this.log.info('joined', { via: bootstrapAddr, successor: describePeer(n), hops: found.hops });
      return;
    }
    throw new RingwireError(ErrorCode.JOIN_FAILED, `no live successor among the ${nodes.length} peers ${bootstrapAddr} named`);
  }

  /**
   * Enters a ring with pointers computed from outside: the "oracle bootstrap" of the simulator,
   * which builds rings of thousands of peers from the sorted membership instead of running
   * thousands of joins. It skips the rule that a pointer is adopted only after it answered, which
   * is sound only because the caller hands over the true ring; the periodic steps then maintain it
   * exactly as after a join. `fingers` (160 entries, null where unknown) defaults to the fingers
   * implied by the first successor alone.
   */
  bootstrap(state: { predecessor: PeerRef | null; successors: readonly PeerRef[]; fingers?: readonly (PeerRef | null)[] }): void {
    if (this.state !== 'idle') throw new RingwireError(ErrorCode.NOT_READY, `cannot bootstrap: peer is ${this.state}`);
    if (state.successors.length === 0) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'bootstrap needs at least one successor');
    this.state = 'joined';
    this.ring.setSuccessors(state.successors.slice(0, this.ring.r));
    this.ring.setPredecessor(state.predecessor);
    if (state.fingers) state.fingers.forEach((f, i) => this.ring.fingers.set(i, f));
    else this.ring.fingers.fillUpTo(this.ring.successors[0]!);
  }

  /**
   * Runs stabilize, fixFingers and checkPredecessor periodically on the clock, each on its own
   * timer: first run one period after start, re-armed once the step finished (so a slow step never
   * overlaps itself); a failing run is logged. A no-op when already running.
   */
  start(): void {
    if (this.state !== 'joined') throw new RingwireError(ErrorCode.NOT_READY, `cannot start a peer that is ${this.state}`);
    this.periodic.start({
      stabilize: { periodMs: () => this.config.stabilizeIntervalMs * this.quietBackoff, run: () => this.stabilize() },
      fixFingers: { periodMs: () => this.config.fixFingersIntervalMs * this.fingerBackoff, run: () => this.fixFingers() },
      checkPredecessor: { periodMs: () => this.config.checkPredecessorIntervalMs * this.quietBackoff, run: () => this.checkPredecessor() },
    });
  }

  /**
   * Before a graceful leave's hand-off: stops maintenance (periodic steps, nudges, reactions to
   * dropped connections and neighbours' leave notices) while the peer keeps answering requests.
   * A leaving peer has no use for them, and when a whole host stops, its neighbours vanish during
   * the hand-off: maintenance would only suspect them one by one and warn that every successor
   * seems gone.
   */
  quiesce(): void {
    this.quiesced = true;
    this.periodic.stop();
    this.unsubscribeLost();
    if (this.nudgeTimer !== undefined) this.clock.clearTimeout(this.nudgeTimer);
    this.nudgeTimer = undefined;
    this.nudgeQueued = false;
  }

  /** Clears every timer; from now on handle() answers NOT_READY (a crash, as others see it). */
  stop(): void {
    this.periodic.stop();
    this.routed.stop();
    this.unsubscribeLost();
    if (this.nudgeTimer !== undefined) this.clock.clearTimeout(this.nudgeTimer);
    this.nudgeTimer = undefined;
    this.nudgeQueued = false;
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
    const pred = this.ring.predecessor;
    const succ = this.ring.successors[0]!;
    const msg: Request = { type: 'leave', peer: this.self, predecessor: pred, successors: this.ring.successors.slice() };
    // In a ring of two the successor is also the predecessor: one notice serves both roles.
    const targets = pred && !samePeer(pred, succ) ? [succ, pred] : [succ];
    for (const target of targets) {
      if (samePeer(target, this.self)) continue;
      try {
        await this.probe.request(target.addr, msg);
      } catch (err) {
        this.log.debug('leave notice not delivered', { to: describePeer(target), error: describeError(err) });
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
    if (this.quiesced) return Promise.resolve(); // leaving: see quiesce()
    return this.single.run('stabilize', () => this.runStabilize());
  }

  /**
   * Runs a stabilize round soon because our successor told us its list changed (a repair
   * rippling back along the ring): after the round in flight, if any, so the round reads the
   * successor's new state. Nudges coalesce into one queued round, and nudged rounds start at most
   * NUDGE_ROUNDS_PER_PERIOD times a period, so a flood of hints costs a bounded amount of work.
   */
  nudge(): void {
    if (this.state !== 'joined' || this.nudgeQueued) return;
    this.nudgeQueued = true;
    void this.single.idle('stabilize').then(() => {
      const gapMs = this.config.stabilizeIntervalMs / NUDGE_ROUNDS_PER_PERIOD;
      const waitMs = Math.max(0, this.lastNudgeAt + gapMs - this.clock.now());
      if (this.state !== 'joined') {
        this.nudgeQueued = false;
        return;
      }
      this.nudgeTimer = this.clock.setTimeout(() => {
        this.nudgeTimer = undefined;
        this.nudgeQueued = false;
        if (this.state !== 'joined') return;
        this.lastNudgeAt = this.clock.now();
        this.stabilize().catch((err: unknown) => this.log.warn('nudged stabilize failed', { error: describeError(err) }));
      }, waitMs);
    });
  }

  /**
   * Refreshes up to fingersPerRound fingers by lookup, cycling through the table across calls.
   * Fingers in (self, successor] and those sharing a just-found successor are set without one.
   */
  fixFingers(): Promise<void> {
    return this.single.run('fixFingers', () => this.runFixFingers());
  }

  /** Pings the predecessor; one that fails (or is no longer in a ring) becomes unknown. */
  checkPredecessor(): Promise<void> {
    return this.single.run('checkPredecessor', () => this.runCheckPredecessor());
  }

  /**
   * successor(key): answered from our own state when it is enough (0 hops), otherwise routed
   * recursively (routed-lookup.ts) where the transport allows, and iteratively from here when that
   * does not settle it: asking the closest preceding peers, skipping dead ones.
   * Rejects with NOT_READY unless joined, LOOKUP_FAILED when no live route is found. `cache`:
   * what the answer does to the route cache (RouteCacheUse); the peer's own lookups learn.
   */
  findSuccessor(key: Id, cache: RouteCacheUse = 'learn'): Promise<LookupResult> {
    return this.resolve(key, undefined, cache);
  }

  /**
   * findSuccessor for a get of store key `readKey`: a recursive lookup then ends at the owner,
   * which reads the key and sends its copy with the answer (`read`), saving the read round trip.
   * Without `read` (answered locally, iteratively, or by a peer without a store) the caller reads.
   * The result's `path` may be left empty (`hops` counts the steps all the same).
   */
  findSuccessorForRead(key: Id, readKey: Uint8Array, cache: RouteCacheUse = 'learn'): Promise<RoutedResult> {
    return this.resolve(key, readKey, cache);
  }

  /** Installs the store's local read (see findSuccessorForRead). */
  setOwnerReader(read: (key: Uint8Array) => StoredRecord | null): void {
    this.ownerReader = read;
  }

  private async resolve(key: Id, readKey: Uint8Array | undefined, cache: RouteCacheUse): Promise<RoutedResult> {
    this.checkLookup(key);
    // Our own state first, by the same rule a remote step applies.
    const local = findSuccessorStep(this.ring.stepState(), key, LOCAL_CANDIDATES);
    if (local.done) {
      const owner = local.nodes[0]!;
      const enough = local.nodes.length > this.lookupContext.minFollowers || samePeer(owner, this.self);
      if (enough && !this.ring.gone.has(owner.addr)) return { owner, successors: local.nodes.slice(1), hops: 0, path: [] };
      return this.remember(await iterativeLookup(this.lookupContext, key, [], { localDone: local.nodes, localRangeStart: local.rangeStart }), cache);
    }
    if (this.recursive) {
      // A get has no use for the route itself (only its length): it is not carried along.
      const wholeList = cache === 'use' && this.routes !== null;
      const routed = await this.routed.lookup(key, local.nodes, readKey !== undefined ? { readKey, wholeList } : { wantPath: true, wholeList });
      if (routed) return this.remember(routed, cache);
      if (this.state !== 'joined') throw new RingwireError(ErrorCode.NOT_READY, `peer is ${this.state}`);
    }
    return this.remember(await iterativeLookup(this.lookupContext, key, local.nodes), cache);
  }

  /**
   * successor(key) for a client lookup: through the route cache when it holds the key's range
   * and our own state cannot answer. The cached owner is asked directly and must confirm that it
   * owns the key (one hop); when it does not (or is gone) the entry is dropped and the key is
   * routed as usual, so a stale entry costs one round trip, never a wrong owner.
   */
  async findSuccessorCached(key: Id): Promise<LookupResult> {
    this.checkLookup(key);
    const local = findSuccessorStep(this.ring.stepState(), key, LOCAL_CANDIDATES);
    const route = local.done ? undefined : this.cachedRoute(key);
    if (!route) return this.findSuccessor(key, 'use');
    const owner = route.owner;
    try {
      const res = await this.lookupContext.transport.request(owner.addr, { type: 'findSuccessor', key }, { timeoutMs: this.config.requestTimeoutMs });
      const reply = expectReply(res, 'findSuccessorReply');
      checkPeerList(reply.nodes, 'findSuccessorReply.nodes', MAX_REPLY_NODES, ErrorCode.PROTOCOL_ERROR);
      if (reply.done && samePeer(reply.nodes[0], owner)) {
        const result: LookupResult = { owner, successors: reply.nodes.slice(1), hops: 1, path: [owner] };
        if (reply.rangeStart !== undefined && reply.rangeStart.length === 20) result.rangeStart = reply.rangeStart;
        return this.remember(result, 'use');
      }
    } catch (err) {
      if (isGone(err)) this.suspect(owner);
      else this.log.debug('cached route failed', { owner: owner.addr, error: describeError(err) });
    }
    this.routes?.forgetOwner(owner);
    const found = await this.findSuccessor(key, 'use');
    return { ...found, hops: found.hops + 1, path: [owner, ...found.path] };
  }

  /**
   * The cached owner of `key` with its followers, or undefined (no entry, cache off, not
   * joined). The store sends such requests with mustOwn, so the owner checks the hint.
   */
  cachedRoute(key: Id): LookupResult | undefined {
    if (!this.routes || this.state !== 'joined') return undefined;
    const e = this.routes.find(key);
    if (!e) return undefined;
    if (this.ring.gone.has(e.owner.addr)) {
      this.routes.forgetOwner(e.owner);
      return undefined;
    }
    return { owner: e.owner, successors: e.followers, hops: 0, path: [] };
  }

  /** Drops cached routes to `owner`: it refused a mustOwn request or failed. */
  forgetRoute(owner: PeerRef): void {
    this.routes?.forgetOwner(owner);
  }

  /** Entries in the route cache (0 when it is off). */
  routeCacheSize(): number {
    return this.routes?.size ?? 0;
  }

  private checkLookup(key: Id): void {
    if (!isId(key)) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'a lookup key must be a 20-byte id');
    if (this.state !== 'joined') throw new RingwireError(ErrorCode.NOT_READY, `peer is ${this.state}`);
  }

  /**
   * Caches the owner's range a routed lookup learned (never our own: local state answers it) and,
   * when that range was new to the cache, the ranges of the owner's followers too: each follower
   * owns (the peer before it in the list, itself]. Up to five ranges per answer instead of one
   * (a RouteDone names the owner and ceil(r/2) followers) fill an entry peer's cache that much
   * sooner; a follower entry made stale by a join costs one refused round trip like any other.
   */
  private remember(result: LookupResult, cache: RouteCacheUse): LookupResult {
    const routes = this.routes;
    if (!routes || cache === 'skip' || result.rangeStart === undefined || samePeer(result.owner, this.self)) return result;
    if (!routes.insert({ start: result.rangeStart, owner: result.owner, followers: result.successors })) return result;
    const list = result.successors;
    let prev = result.owner;
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      // Our own range is answered locally; past it, or back at the owner, the list has wrapped.
      if (samePeer(f, this.self) || samePeer(f, result.owner) || !betweenRightIncl(prev.id, f.id, result.rangeStart)) break;
      routes.insert({ start: prev.id, owner: f, followers: list.slice(i + 1) });
      prev = f;
    }
    return result;
  }

  /** True when keyId is in (predecessor, self]; with the predecessor unknown, only when alone. */
  owns(keyId: Id): boolean {
    return this.ring.owns(keyId);
  }

  /**
   * The caller saw `peer` fail: forget it everywhere at once (successor list, fingers,
   * predecessor). The successor list keeps at least one entry, falling back to self. For a few
   * stabilize rounds lookups also skip it where other peers still name it (unless it answers us).
   */
  suspect(peer: PeerRef): void {
    this.routes?.forgetOwner(peer);
    this.speedUp();
    this.ring.suspect(peer);
  }

  /** Back to the configured maintenance periods, with timers armed for longer ones brought forward. */
  private speedUp(): void {
    if (this.fingerBackoff !== 1) {
      this.fingerBackoff = 1;
      this.periodic.expedite('fixFingers');
    }
    if (this.quietBackoff !== 1) {
      this.quietBackoff = 1;
      this.periodic.expedite('stabilize');
      this.periodic.expedite('checkPredecessor');
    }
  }

  /**
   * Answers the Chord requests (ping, getState, notify, findSuccessor, leave, lookup); returns
   * undefined for any other type so the node layer can route it elsewhere. Unless joined, every
   * answer is NOT_READY; malformed ids or peers are INVALID_REQUEST.
   */
  handle(req: Request): Response | Promise<Response> | undefined {
    // One-way: answered to the origin, also when we cannot route (NOT_READY), so it need not wait;
    // both answer at once when they can (see RequestHandler).
    if (req.type === 'routeLookup') return this.routed.onRouteLookup(req);
    if (req.type === 'routeDone') return this.routed.onRouteDone(req);
    return CHORD_REQUEST_TYPES.has(req.type) ? handleChordRequest(this.host, req) : undefined;
  }

  /** Calls `listener` after every predecessor or successor-list change; returns unsubscribe. */
  onChange(listener: (c: RingChange) => void): () => void {
    return this.ring.onChange(listener);
  }

  /** Distinct finger entries in finger order (for the Info message). */
  fingerPeers(): PeerRef[] {
    return this.ring.fingers.distinct();
  }

  // --- the periodic steps ---

  private async runStabilize(): Promise<void> {
    const ring = this.ring;
    const changesBefore = this.ringChanges;
    // Each failed attempt drops one entry, so r+1 attempts exhaust any list.
    for (let attempt = 0; attempt <= ring.r && this.state === 'joined'; attempt++) {
      let succ = ring.successors[0]!;
      let view: NeighbourState;
      if (samePeer(succ, this.self)) {
        view = { predecessor: ring.predecessor, successors: [] };
      } else {
        try {
          view = await this.probe.getState(succ);
        } catch (err) {
          if (!isGone(err)) throw err;
          this.log.info('successor gone, trying the next', { successor: describePeer(succ), error: describeError(err) });
          ring.suspect(succ);
          if (!samePeer(ring.successors[0], succ)) continue;
          // The list kept its last entry (see RingState.suspect): every successor we knew is
          // gone, which is beyond Chord's failure assumption, or we are starved and everything
          // times out. After a few rounds of this, start again from the nearest live peer we
          // still know; the walk below then closes in on the true successor.
          if (++this.lastSuccessorFailures < LAST_SUCCESSOR_ROUNDS) return;
          const fallback = await this.nearestLivePeer(succ);
          if (!fallback) return;
          succ = fallback.peer;
          view = fallback.view;
        }
      }
      // Walk back towards closer successors; each one is adopted only after it answered. Bounded,
      // though in practice a walk is long only while many peers join at once.
      for (let walk = 0; walk < this.config.maxLookupSteps; walk++) {
        const p = view.predecessor;
        if (!p || samePeer(p, this.self) || !between(this.self.id, p.id, succ.id)) break;
        try {
          view = await this.probe.getState(p);
        } catch (err) {
          this.log.debug('closer successor did not answer, not adopted', { candidate: describePeer(p), error: describeError(err) });
          break;
        }
        succ = p;
      }
      if (this.state !== 'joined' || samePeer(succ, this.self)) return; // alone, nobody notified us yet
      this.lastSuccessorFailures = 0;
      const before = ring.successors;
      ring.setSuccessors(mergeSuccessors(this.self, succ, view.successors, ring.r));
      if (!sameList(before, ring.successors)) this.hintPredecessor();
      try {
        await this.probe.request(succ.addr, { type: 'notify', peer: this.self });
        if (this.ringChanges === changesBefore) this.quietBackoff = Math.min(this.config.quietBackoffMax, this.quietBackoff * 2);
      } catch (err) {
        this.log.debug('notify failed', { successor: describePeer(succ), error: describeError(err) });
      }
      return;
    }
  }

  /**
   * The first peer after us, among fingers (nearest first) and the predecessor, that answers a
   * getState: a verified restart point for stabilize when the whole successor list is gone.
   */
  private async nearestLivePeer(dead: PeerRef): Promise<{ peer: PeerRef; view: NeighbourState } | null> {
    const seen = new Set<string>([this.self.addr, dead.addr]);
    const candidates: PeerRef[] = [];
    for (const f of [...this.ring.fingers.all, this.ring.predecessor]) {
      if (!f || seen.has(f.addr) || this.ring.gone.has(f.addr)) continue;
      seen.add(f.addr);
      candidates.push(f);
    }
    for (const c of candidates) {
      try {
        return { peer: c, view: await this.probe.getState(c) };
      } catch (err) {
        this.log.debug('fallback successor candidate did not answer', { candidate: describePeer(c), error: describeError(err) });
      }
    }
    this.log.warn('every successor and every other known peer seem gone', { successor: describePeer(dead) });
    return null;
  }

  /**
   * A connection to `addr` dropped: if that is our successor or predecessor, check it now rather
   * than at the next period (a crashed neighbour is then found in a round trip). The check itself
   * decides; the dropped connection alone changes nothing.
   */
  private onConnectionLost(addr: string): void {
    if (this.state !== 'joined') return;
    if (this.ring.successors[0]?.addr === addr) this.nudge();
    if (this.ring.predecessor?.addr === addr) {
      this.checkPredecessor().catch((err: unknown) => this.log.debug('checkPredecessor after a dropped connection failed', { error: describeError(err) }));
    }
  }

  /**
   * Tells the predecessor our list changed, so it need not wait a whole period to copy it
   * (fire and forget: a lost hint only means the ordinary period does the work).
   */
  private hintPredecessor(): void {
    const pred = this.ring.predecessor;
    if (!pred || samePeer(pred, this.self)) return;
    this.probe.request(pred.addr, { type: 'successorsChanged' }).catch((err: unknown) => {
      this.log.debug('successorsChanged hint not delivered', { to: describePeer(pred), error: describeError(err) });
    });
  }

  private async runFixFingers(): Promise<void> {
    if (this.state !== 'joined') return;
    const fingers = this.ring.fingers;
    const total = fingers.starts.length;
    const firstBefore = fingers.get(0);
    const settled = fingers.fillUpTo(this.ring.successors[0]!);
    if (!firstBefore || !samePeer(firstBefore, fingers.get(0))) this.fingerPassChanged = true;
    let i = this.fingerCursor < settled ? settled : this.fingerCursor;
    let remaining = total - settled; // visit every other finger at most once per call
    let budget = this.config.fingersPerRound;
    while (budget > 0 && remaining > 0 && this.state === 'joined') {
      if (i >= total) i = settled;
      budget--;
      let next = i + 1;
      try {
        const before = fingers.get(i);
        // On a ring whose fingers stopped changing, first ask the finger whether it still owns its
        // start: one request to one peer instead of a lookup routed through several.
        const kept = before !== null && this.fingerBackoff > 1 ? await this.stillFinger(fingers.starts[i]!, before) : null;
        const owner = kept ?? (await this.findSuccessor(fingers.starts[i]!)).owner;
        if (!before || !samePeer(before, owner)) this.fingerPassChanged = true;
        next = fingers.fillRun(i, owner);
      } catch (err) {
        this.log.debug('finger lookup failed', { finger: i, error: describeError(err) });
      }
      remaining -= next - i;
      i = next;
      if (i >= total) {
        // A full pass over the table: back off when it found nothing new.
        this.fingerBackoff = this.fingerPassChanged ? 1 : Math.min(FINGER_BACKOFF_MAX, this.fingerBackoff * 2);
        this.fingerPassChanged = false;
      }
    }
    this.fingerCursor = i >= total ? 0 : i;
  }

  /**
   * `finger` when it is still successor(start): its predecessor precedes `start`, so no peer
   * joined between them (as far as the finger knows: one that just joined is found once the
   * finger's predecessor pointer has caught up, on a later pass). Null when that is not so or the
   * finger does not answer, and when our own state settles the start (a lookup then sends
   * nothing, or less than a check would); the caller then looks the start up.
   */
  private async stillFinger(start: Id, finger: PeerRef): Promise<PeerRef | null> {
    if (samePeer(finger, this.self) || findSuccessorStep(this.ring.stepState(), start, LOCAL_CANDIDATES).done) return null;
    try {
      const view = await this.probe.getState(finger);
      return view.predecessor !== null && betweenRightIncl(view.predecessor.id, start, finger.id) ? finger : null;
    } catch (err) {
      if (isGone(err)) this.suspect(finger);
      return null;
    }
  }

  private async runCheckPredecessor(): Promise<void> {
    const pred = this.ring.predecessor;
    if (!pred || this.state !== 'joined') return;
    try {
      await this.probe.request(pred.addr, { type: 'ping' });
    } catch (err) {
      if (!isGone(err)) throw err;
      this.ring.gone.add(pred.addr);
      if (this.ring.predecessor === pred) {
        this.log.info('predecessor gone', { predecessor: describePeer(pred), error: describeError(err) });
        this.ring.setPredecessor(null);
      }
    }
  }
}
