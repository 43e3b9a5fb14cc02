/**
 * The simulator: runs a Scenario with the unchanged chord and store code (createSimPeer) over the
 * in-memory network, on a batching manual clock, with one seeded random source, so the same
 * scenario gives the same result bit for bit.
 *
 * Phases: build (oracle bootstrap: every initial peer starts with the true successor list,
 * predecessor and fingers computed from the sorted ids, instead of thousands of real joins; peers
 * that join later use the real join protocol), preload keys (oracle-placed at the owner and its
 * replicas-1 successors through the store's own replicate handler), warm-up periods, an optional
 * mass crash and settle periods, then the measured phase: lookups or gets at a fixed rate while
 * Poisson joins, crashes and leaves go on. Each request is judged against the true live ring when
 * it completes.
 */
import type { Random } from '../chord/clock.js';
import { describeError } from '../errors/errors.js';
import { keyId, sha1 } from '../ring/hash.js';
import { compareIds, idEquals, idToHex, type Id } from '../ring/id.js';
import type { PeerRef, StoredRecord } from '../protocol/messages.js';
import { ManualClock } from './manual-clock.js';
import { MemoryNetwork } from './memory-network.js';
import { checkRing, oracleState, successorIndex, type RingCheck } from './oracle.js';
import { randomInt, seededRandom } from './random.js';
import { latencySampler, resolveScenario, type Scenario } from './scenario.js';
import { createSimPeer, type SimPeer } from './sim-peer.js';
import { round4, summarize, type Summary } from './stats.js';

/** Deterministic outcome of a run: identical for identical scenarios. */
export interface SimResult {
  peersStart: number;
  peersEnd: number;
  crashed: number;
  joined: number;
  joinFailures: number;
  left: number;
  virtualMs: number;
  /** The ring after warm-up (before failures): with oracle bootstrap it must already be right. */
  ringAfterWarmup: RingCheck;
  /** The ring at the end of the run. */
  ringAtEnd: RingCheck;
  requests: {
    issued: number;
    ok: number;
    /** Requests that did not produce the right answer (error after all attempts, wrong owner, missing value). */
    failed: number;
    failedFraction: number;
    /** Lookups that returned a live peer other than the true owner, or gets that found no value. */
    wrong: number;
    /** Requests that ended with an error after every attempt. */
    errors: number;
    /** Attempts repeated after an error or a dead owner (only with retries > 0; the owner is pinged before the last attempt is used). */
    retried: number;
    /** Lookups counted ok that named the owner the ring links to, while a just-joined true owner was not linked in yet. */
    pendingJoin: number;
  };
  /** Forwards per successful request (remote findSuccessor steps, as LookupResult.hops; a get's final lookup). */
  hops: Summary;
  keys: { total: number; lost: number; lostFraction: number };
  /** Keys owned per live peer at the end (KvStore.ownedKeyCount). */
  keysPerPeer: Summary;
  /** Messages sent over the simulated network. */
  messages: number;
  /** Timers fired by the clock (deliveries, timeouts, periodic steps, scheduled actions). */
  events: number;
  /** SHA-1 of every request outcome in completion order: two runs agree iff their digests do. */
  digest: string;
}

/** Wall-clock facts of a run (vary between runs and machines). */
export interface SimPerf {
  wallMs: number;
  buildMs: number;
  eventsPerSec: number;
  /** Peak resident set size of this process so far, in MiB. */
  maxRssMiB: number;
}

export interface SimReport {
  scenario: Scenario;
  result: SimResult;
  perf: SimPerf;
}

/** Progress callback: phase name and simulated time. */
export type SimProgress = (phase: string, virtualMs: number) => void;

const enc = new TextEncoder();

/** Runs one scenario to the end and reports; every peer and timer is stopped before it returns. */
export async function runScenario(partial: Partial<Scenario>, onProgress?: SimProgress): Promise<SimReport> {
  const sim = new Simulation(resolveScenario(partial), onProgress);
  try {
    return await sim.run();
  } finally {
    sim.stopAll();
  }
}

class Simulation {
  private readonly s: Scenario;
  private readonly clock = new ManualClock(0, { batch: true });
  private readonly random: Random;
  private readonly network: MemoryNetwork;
  private readonly all: SimPeer[] = [];
  /** Live members, ascending by id: the truth every answer is judged against. */
  private sorted: SimPeer[] = [];
  private readonly liveAddrs = new Set<string>();
  private readonly keyBytes: Uint8Array[] = [];
  private readonly keyIds: Id[] = [];
  private readonly onProgress: SimProgress | undefined;
  private nextAddr = 0;
  private counts = { crashed: 0, joined: 0, joinFailures: 0, left: 0 };

  constructor(scenario: Scenario, onProgress?: SimProgress) {
    this.s = scenario;
    this.random = seededRandom(scenario.seed);
    this.network = new MemoryNetwork(
      { clock: this.clock },
      { latencyMs: latencySampler(scenario.latency, this.random), defaultTimeoutMs: scenario.requestTimeoutMs },
    );
    this.onProgress = onProgress;
  }

  async run(): Promise<SimReport> {
    const s = this.s;
    const t0 = performance.now();
    this.build();
    this.preload();
    const buildMs = performance.now() - t0;
    this.onProgress?.('built', this.clock.now());
    await this.periods(s.warmupPeriods);
    const ringAfterWarmup = this.checkRing();
    this.onProgress?.('warm', this.clock.now());
    if (s.crashFraction > 0) {
      this.crashMany(Math.round(s.crashFraction * this.sorted.length));
      await this.periods(s.settlePeriods);
      this.onProgress?.('settled', this.clock.now());
    }
    const measured = await this.measure();
    const ringAtEnd = this.checkRing();
    const wallMs = performance.now() - t0;
    const keysLost = this.keysLost();
    const result: SimResult = {
      peersStart: s.peers,
      peersEnd: this.sorted.length,
      ...this.counts,
      virtualMs: this.clock.now(),
      ringAfterWarmup,
      ringAtEnd,
      requests: measured.requests,
      hops: summarize(measured.hops),
      keys: { total: s.keys, lost: keysLost, lostFraction: s.keys ? round4(keysLost / s.keys) : 0 },
      keysPerPeer: summarize(this.sorted.map((p) => p.store.ownedKeyCount())),
      messages: [...this.network.sent.values()].reduce((a, b) => a + b, 0),
      events: this.clock.fired,
      digest: measured.digest,
    };
    const perf: SimPerf = {
      wallMs: Math.round(wallMs),
      buildMs: Math.round(buildMs),
      eventsPerSec: Math.round(this.clock.fired / (wallMs / 1000)),
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    return { scenario: s, result, perf };
  }

  /** Stops every peer (timers and subscriptions), for cleanup. */
  stopAll(): void {
    for (const p of this.all) p.stop();
  }

  // --- membership ---

  private newPeer(): SimPeer {
    const s = this.s;
    const addr = `s${s.seed}-p${this.nextAddr++}`;
    const peer = createSimPeer(
      this.network,
      { clock: this.clock, random: this.random },
      {
        addr,
        chord: {
          successorListLength: s.successors,
          stabilizeIntervalMs: s.stabilizeMs,
          fixFingersIntervalMs: s.stabilizeMs,
          checkPredecessorIntervalMs: s.stabilizeMs,
          requestTimeoutMs: s.requestTimeoutMs,
        },
        store: {
          replicas: s.replicas,
          repairIntervalMs: s.repairMs,
          requestTimeoutMs: s.requestTimeoutMs,
          // gets are the measured requests: their attempts are the scenario's retries
          maxAttempts: s.op === 'get' ? 1 + s.retries : 3,
        },
      },
    );
    this.all.push(peer);
    return peer;
  }

  /** Oracle bootstrap of the initial peers, each started at a random offset within a period. */
  private build(): void {
    const peers: SimPeer[] = [];
    for (let i = 0; i < this.s.peers; i++) peers.push(this.newPeer());
    peers.sort((a, b) => compareIds(a.chord.self.id, b.chord.self.id));
    const refs = peers.map((p) => p.chord.self);
    for (let k = 0; k < peers.length; k++) {
      const peer = peers[k]!;
      peer.chord.bootstrap(oracleState(refs, k, this.s.successors));
      this.liveAddrs.add(peer.addr);
      this.clock.setTimeout(() => {
        if (peer.chord.status === 'joined') peer.chord.start();
      }, randomInt(this.random, this.s.stabilizeMs));
    }
    this.sorted = peers;
  }

  /** Places key i (`k<i>` = `v<i>`, version 1) on its owner and the next replicas-1 peers. */
  private preload(): void {
    const s = this.s;
    const refs = this.sorted.map((p) => p.chord.self);
    const batches = new Map<SimPeer, StoredRecord[]>();
    for (let i = 0; i < s.keys; i++) {
      const key = enc.encode(`k${i}`);
      const id = keyId(key);
      this.keyBytes.push(key);
      this.keyIds.push(id);
      const at = successorIndex(refs, id);
      const record: StoredRecord = { key, value: enc.encode(`v${i}`), version: 1, deleted: false };
      for (let j = 0; j < Math.min(s.replicas, this.sorted.length); j++) {
        const holder = this.sorted[(at + j) % this.sorted.length]!;
        let list = batches.get(holder);
        if (!list) batches.set(holder, (list = []));
        list.push(record);
      }
    }
    for (const [peer, records] of batches) {
      for (let i = 0; i < records.length; i += 4096) {
        // the store's own replicate handler (validation, merge) stores them: nothing bypasses it
        void peer.store.handle({ type: 'replicate', records: records.slice(i, i + 4096) });
      }
    }
  }

  private indexOf(id: Id): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.sorted[mid]!.chord.self.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private removeLive(peer: SimPeer): void {
    const i = this.indexOf(peer.chord.self.id);
    if (this.sorted[i] === peer) this.sorted.splice(i, 1);
    this.liveAddrs.delete(peer.addr);
  }

  private addLive(peer: SimPeer): void {
    this.sorted.splice(this.indexOf(peer.chord.self.id), 0, peer);
    this.liveAddrs.add(peer.addr);
  }

  private pickLive(): SimPeer | undefined {
    return this.sorted.length ? this.sorted[randomInt(this.random, this.sorted.length)] : undefined;
  }

  private crash(peer: SimPeer): void {
    this.removeLive(peer);
    peer.crash();
    this.counts.crashed++;
  }

  /** Crashes `count` distinct live peers chosen at random, all at the same instant. */
  private crashMany(count: number): void {
    const pool = this.sorted.slice();
    for (let i = 0; i < count && pool.length > 1; i++) {
      const j = i + randomInt(this.random, pool.length - i);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    for (const p of pool.slice(0, count)) this.crash(p);
  }

  private async joinOne(): Promise<void> {
    const via = this.pickLive();
    if (!via) return;
    const peer = this.newPeer();
    try {
      await peer.chord.join(via.addr);
      peer.chord.start();
      this.addLive(peer);
      this.counts.joined++;
    } catch {
      this.counts.joinFailures++;
      peer.stop();
    }
  }

  private async leaveOne(): Promise<void> {
    if (this.sorted.length <= 2) return;
    const peer = this.pickLive()!;
    this.removeLive(peer);
    this.counts.left++;
    try {
      await peer.store.handOff();
      await peer.chord.leave();
    } finally {
      peer.stop();
    }
  }

  // --- time ---

  private async periods(k: number): Promise<void> {
    for (let i = 0; i < k; i++) await this.clock.advance(this.s.stabilizeMs);
  }

  /** A Poisson process of `action` at `perPeriod` events per stabilization period, until `until()`. */
  private poisson(perPeriod: number, active: () => boolean, action: () => void): void {
    if (perPeriod <= 0) return;
    const meanMs = this.s.stabilizeMs / perPeriod;
    const next = (): void => {
      const gap = Math.max(1, Math.round(-meanMs * Math.log(1 - this.random())));
      this.clock.setTimeout(() => {
        if (!active()) return;
        action();
        next();
      }, gap);
    };
    next();
  }

  // --- the measured phase ---

  private async measure(): Promise<{ requests: SimResult['requests']; hops: number[]; digest: string }> {
    const s = this.s;
    const hops: number[] = [];
    const outcomes: string[] = [];
    const req = { issued: 0, ok: 0, failed: 0, failedFraction: 0, wrong: 0, errors: 0, retried: 0, pendingJoin: 0 };
    let outstanding = 0;
    const spacingMs = s.lookupRateHz > 0 ? 1000 / s.lookupRateHz : 0;
    const phaseEnd = this.clock.now() + Math.floor(spacingMs * Math.max(0, s.lookups - 1));
    let active = true;
    this.poisson(s.churnRate, () => active, () => void this.joinOne());
    this.poisson(s.churnRate, () => active, () => {
      if (this.sorted.length > 2) this.crash(this.pickLive()!);
    });
    this.poisson(s.leaveRate, () => active, () => void this.leaveOne());

    const issue = async (n: number): Promise<void> => {
      const entry = this.pickLive();
      const k = this.keyIds.length > 0 ? randomInt(this.random, this.keyIds.length) : -1;
      const id = k >= 0 ? this.keyIds[k]! : this.randomId();
      req.issued++;
      let outcome = 'error';
      if (entry) {
        if (s.op === 'get') {
          outcome = await this.getOnce(entry, k);
          if (outcome.startsWith('ok/')) hops.push(Number(outcome.slice(3)));
        }
        else {
          for (let attempt = 0; attempt <= s.retries; attempt++) {
            if (attempt > 0) req.retried++;
            try {
              const res = await entry.chord.findSuccessor(id);
              // With retries the client acts like the store: it contacts the owner it was given,
              // and a dead one (UNREACHABLE) sends it back for a fresh lookup.
              if (attempt < s.retries && !(await this.answers(res.owner.addr))) {
                entry.chord.suspect(res.owner);
                outcome = 'error/owner did not answer';
                continue;
              }
              const verdict = this.judge(id, res.owner);
              if (verdict !== 'wrong') {
                if (verdict === 'pending-join') req.pendingJoin++;
                outcome = `ok/${res.hops}`;
                hops.push(res.hops);
              } else outcome = 'wrong';
              break;
            } catch (err) {
              outcome = `error/${describeError(err).slice(0, 40)}`;
            }
          }
        }
      }
      if (outcome.startsWith('ok')) req.ok++;
      else {
        req.failed++;
        if (outcome === 'wrong') req.wrong++;
        else req.errors++;
      }
      outcomes.push(`${n}:${outcome}`);
    };
    for (let n = 0; n < s.lookups; n++) {
      outstanding++;
      this.clock.setTimeout(() => {
        void issue(n).finally(() => outstanding--);
      }, Math.floor(n * spacingMs));
    }
    let lastReport = 0;
    // Requests all carry timeouts, so they end; the bound only turns a bug into a report, not a hang.
    const giveUpAt = phaseEnd + 10_000 * s.stabilizeMs;
    while ((outstanding > 0 || this.clock.now() < phaseEnd) && this.clock.now() < giveUpAt) {
      const left = phaseEnd - this.clock.now();
      await this.clock.advance(left > 0 ? Math.min(s.stabilizeMs, left) : s.stabilizeMs);
      if (this.onProgress && this.clock.now() - lastReport >= 60_000) {
        lastReport = this.clock.now();
        this.onProgress(`measuring (${req.issued - outstanding}/${s.lookups} done)`, lastReport);
      }
    }
    active = false;
    req.failedFraction = req.issued ? round4(req.failed / req.issued) : 0;
    const digest = idToHex(sha1(enc.encode(outcomes.join('\n'))));
    return { requests: req, hops, digest };
  }

  /**
   * Whether `owner` is right for key `id`: 'exact' when it is the key's successor among the live
   * members; 'pending-join' when it is the successor among the members the ring already links to
   * (some live peer has them as first successor), i.e. the true owner joined moments ago and no
   * stabilize has linked it in yet: the old owner still holds the keys then, so the paper does
   * not count it as a failure either; 'wrong' otherwise.
   */
  private judge(id: Id, owner: PeerRef): 'exact' | 'pending-join' | 'wrong' {
    const truth = this.sorted[this.indexOf(id) % this.sorted.length];
    if (truth && idEquals(owner.id, truth.chord.self.id)) return 'exact';
    if (!this.liveAddrs.has(owner.addr)) return 'wrong';
    const linked = new Set<string>();
    for (const p of this.sorted) linked.add(p.chord.successors[0]!.addr);
    const members = this.sorted.filter((p) => linked.has(p.addr));
    if (members.length === 0) return 'wrong';
    let lo = 0;
    let hi = members.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(members[mid]!.chord.self.id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return idEquals(members[lo % members.length]!.chord.self.id, owner.id) ? 'pending-join' : 'wrong';
  }

  /** True when the peer at `addr` answers a ping. */
  private async answers(addr: string): Promise<boolean> {
    try {
      await this.network.transport().request(addr, { type: 'ping' }, { timeoutMs: this.s.requestTimeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  /** One store read of preloaded key k: ok when it returns the preloaded value. */
  private async getOnce(entry: SimPeer, k: number): Promise<string> {
    try {
      const res = await entry.store.get(this.keyBytes[k]!);
      return res.found && new TextDecoder().decode(res.value) === `v${k}` ? `ok/${res.hops}` : 'wrong';
    } catch (err) {
      return `error/${describeError(err).slice(0, 40)}`;
    }
  }

  private randomId(): Id {
    const id = new Uint8Array(20);
    for (let i = 0; i < 20; i++) id[i] = randomInt(this.random, 256);
    return id;
  }

  // --- checks ---

  private checkRing(): RingCheck {
    const view = this.sorted.map((p) => ({ self: p.chord.self, successors: p.chord.successors, predecessor: p.chord.predecessor }));
    return checkRing(view, (addr) => this.liveAddrs.has(addr));
  }

  /** Preloaded keys of which no live peer holds a live copy. */
  private keysLost(): number {
    if (this.keyIds.length === 0) return 0;
    const held = new Set<string>();
    for (const p of this.sorted) for (const id of p.store.liveKeyIds()) held.add(idToHex(id));
    let lost = 0;
    for (const id of this.keyIds) if (!held.has(idToHex(id))) lost++;
    return lost;
  }
}
