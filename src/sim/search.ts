/**
 * Randomized correctness search: random schedules of joins, crashes, graceful leaves and writes
 * on small rings (2..12 peers, successor lists of 2 or 3), with random message delays (so
 * messages overtake each other), run on the unchanged chord and store code. After every step the
 * ring is checked against Zave's invariant whenever the failure assumption holds; at the end the
 * schedule goes quiet and the ring must become exactly right and every acknowledged write must be
 * readable. A failing schedule is shrunk (events dropped while it still fails) to a short trace
 * that replays deterministically from its seed.
 *
 * The checked properties, precisely (members = peers whose chord status is 'joined'):
 * - failure assumption (A): at least r+1 members, or no crash/leave has happened yet; and every
 *   member has a member in its successor list. Here a peer that was told to leave no longer counts
 *   as a member, even while it still hands off its keys. Crashes and leaves are only scheduled when A holds
 *   after them; while A is broken nothing is checked (Chord promises nothing then), and once it
 *   broke after a crash or leave, no later invariant check is made either.
 * - ring invariant (Zave's "valid", as observable; a peer told to leave is not a member here either):
 *   let succ(p) be the first member in p's list.
 *   Following succ from every member reaches one and the same cycle (exactly one ring, every
 *   member on it or on an appendage leading to it), and the cycle is ordered: it goes around the
 *   identifier circle exactly once.
 * - convergence: unless A broke after a crash or leave (a peer left with no member in its list:
 *   possible when lists are still short while the ring grows), after the last event and at most
 *   QUIET_PERIODS stabilization periods without failures, every member's successor is the next member and its predecessor the previous one.
 * - durability: every acknowledged put can be read back (its value) through a random member after
 *   convergence, unless a crash removed the last live copy of it not held by a leaving peer
 *   (counted as excused, not failed).
 */
import type { Random } from '../chord/clock.js';
import { compareIds, idEquals, idToHex } from '../ring/id.js';
import { ManualClock } from './manual-clock.js';
import { MemoryNetwork } from './memory-network.js';
import { checkRing, oracleState } from './oracle.js';
import { seededRandom } from './random.js';
import { createSimPeer, type SimPeer } from './sim-peer.js';
import { leaveGracefully } from '../store/peer-handler.js';

/** One step of a schedule. `pick` in [0,1) chooses a peer among the candidates at that moment. */
export type SearchEvent =
  | { t: 'join'; pick: number }
  | { t: 'crash'; pick: number }
  | { t: 'leave'; pick: number }
  | { t: 'put'; pick: number; key: number }
  | { t: 'wait'; ms: number };

/** A schedule: everything needed to replay a run. */
export interface Schedule {
  seed: number;
  r: number;
  replicas: number;
  initialPeers: number;
  events: SearchEvent[];
}

/** What went wrong in a run, or null. */
export interface Violation {
  kind: 'invariant' | 'convergence' | 'lost-key' | 'exception';
  /** Index of the event after which it was seen (events.length = during the quiet end). */
  afterEvent: number;
  detail: string;
}

export interface RunOutcome {
  violation: Violation | null;
  checks: number;
  /** Checks skipped because the failure assumption was broken. */
  skipped: number;
  acked: number;
  excusedKeys: number;
  /** The failure assumption broke after a crash or leave: convergence and durability were not required. */
  excusedRun: boolean;
}

const STABILIZE_MS = 100;
const REQUEST_TIMEOUT_MS = 250;
const MAX_PEERS = 12;
const QUIET_PERIODS = 200;
const CHECK_EVERY_MS = 10;

/** A random schedule for `seed` (sizes and mix drawn from the seed too). */
export function randomSchedule(seed: number): Schedule {
  const random = seededRandom(seed ^ 0x5eed);
  const r = random() < 0.5 ? 2 : 3;
  const initialPeers = 1 + Math.floor(random() * 5);
  const events: SearchEvent[] = [];
  const n = 8 + Math.floor(random() * 25);
  let key = 0;
  for (let i = 0; i < n; i++) {
    const x = random();
    if (x < 0.3) events.push({ t: 'join', pick: random() });
    else if (x < 0.45) events.push({ t: 'crash', pick: random() });
    else if (x < 0.55) events.push({ t: 'leave', pick: random() });
    else if (x < 0.75) events.push({ t: 'put', pick: random(), key: key++ });
    else events.push({ t: 'wait', ms: Math.floor(random() * 3 * STABILIZE_MS) });
  }
  return { seed, r, replicas: Math.min(r, 2 + Math.floor(random() * 2)), initialPeers, events };
}

/** Replays a schedule and checks it; deterministic for a given schedule. */
export async function runSchedule(schedule: Schedule): Promise<RunOutcome> {
  const run = new ScheduleRun(schedule);
  try {
    return await run.go();
  } finally {
    run.stopAll();
  }
}

class ScheduleRun {
  private readonly sc: Schedule;
  private readonly clock = new ManualClock(0);
  private readonly random: Random;
  private readonly network: MemoryNetwork;
  private readonly peers: SimPeer[] = [];
  private readonly acked = new Map<number, string>();
  /** Keys of every put issued (acknowledged or still in flight): a crash may excuse either. */
  private readonly issued: number[] = [];
  private readonly excused = new Set<number>();
  private failuresSoFar = 0;
  /** Peers told to leave: still members while they hand off, but already gone as far as A goes. */
  private readonly departing = new Set<SimPeer>();
  /** The failure assumption was seen broken after a crash or leave: Chord promises nothing then. */
  private brokenAfterFailure = false;
  private checks = 0;
  private skipped = 0;
  private violation: Violation | null = null;
  private eventIndex = 0;

  constructor(sc: Schedule) {
    this.sc = sc;
    this.random = seededRandom(sc.seed);
    // 1..20 ms per message: replies and requests between the same peers overtake each other
    this.network = new MemoryNetwork({ clock: this.clock }, { latencyMs: () => 1 + Math.floor(this.random() * 20), defaultTimeoutMs: REQUEST_TIMEOUT_MS });
  }

  stopAll(): void {
    for (const p of this.peers) p.stop();
  }

  private newPeer(): SimPeer {
    const addr = `x${this.sc.seed}-${this.peers.length}`;
    const peer = createSimPeer(this.network, { clock: this.clock, random: this.random }, {
      addr,
      chord: {
        successorListLength: this.sc.r,
        stabilizeIntervalMs: STABILIZE_MS,
        fixFingersIntervalMs: STABILIZE_MS,
        checkPredecessorIntervalMs: STABILIZE_MS,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      },
      store: { replicas: this.sc.replicas, repairIntervalMs: 5 * STABILIZE_MS, repairAfterChangeMs: 20, requestTimeoutMs: REQUEST_TIMEOUT_MS },
    });
    this.peers.push(peer);
    return peer;
  }

  /** Members: joined, in id order. */
  private members(): SimPeer[] {
    return this.peers.filter((p) => p.chord.status === 'joined').sort((a, b) => compareIds(a.chord.self.id, b.chord.self.id));
  }

  private isMember(addr: string): boolean {
    return this.peers.some((p) => p.addr === addr && p.chord.status === 'joined');
  }

  async go(): Promise<RunOutcome> {
    const initial: SimPeer[] = [];
    for (let i = 0; i < this.sc.initialPeers; i++) initial.push(this.newPeer());
    initial.sort((a, b) => compareIds(a.chord.self.id, b.chord.self.id));
    const refs = initial.map((p) => p.chord.self);
    initial.forEach((p, k) => {
      p.chord.bootstrap(oracleState(refs, k, this.sc.r));
      p.chord.start();
    });
    for (const ev of this.sc.events) {
      this.apply(ev);
      await this.advanceChecking(ev.t === 'wait' ? ev.ms : CHECK_EVERY_MS);
      if (this.violation) return this.outcome();
      this.eventIndex++;
    }
    // quiet end: no more failures, the ring must become exactly right
    let converged = false;
    for (let k = 0; k < QUIET_PERIODS && !this.violation; k++) {
      await this.advanceChecking(STABILIZE_MS);
      const m = this.members();
      const check = checkRing(m.map((p) => ({ self: p.chord.self, successors: p.chord.successors, predecessor: p.chord.predecessor })), (a) => this.isMember(a));
      if (check.ok && check.wrongPredecessor === 0) {
        converged = true;
        break;
      }
      if (k === QUIET_PERIODS - 1 && !this.brokenAfterFailure) this.fail('convergence', `not converged after ${QUIET_PERIODS} quiet periods: ${check.detail || `${check.wrongPredecessor} wrong predecessors`}`);
    }
    if (converged && !this.violation && !this.brokenAfterFailure) {
      // two repair rounds so every copy is where it belongs, then read everything back
      await this.advanceChecking(12 * STABILIZE_MS);
      await this.checkKeys();
    }
    return this.outcome();
  }

  private outcome(): RunOutcome {
    return { violation: this.violation, checks: this.checks, skipped: this.skipped, acked: this.acked.size, excusedKeys: this.excused.size, excusedRun: this.brokenAfterFailure };
  }

  private fail(kind: Violation['kind'], detail: string): void {
    this.violation ??= { kind, afterEvent: this.eventIndex, detail };
  }

  /** Failure assumption: would it hold with `without` removed (now)? */
  private assumptionHolds(without?: SimPeer): boolean {
    const m = this.members().filter((p) => p !== without && !this.departing.has(p));
    if (this.failuresSoFar + (without ? 1 : 0) > 0 && m.length < this.sc.r + 1) return false;
    const live = new Set(m.map((p) => p.addr));
    // a peer's own entry counts only when it is the one member (alone, it is its own successor)
    return m.every((p) => p.chord.successors.some((s) => (idEquals(s.id, p.chord.self.id) ? m.length === 1 : live.has(s.addr))));
  }

  private apply(ev: SearchEvent): void {
    const members = this.members().filter((p) => !this.departing.has(p));
    const pick = <T>(list: T[], x: number): T | undefined => list[Math.floor(x * list.length)];
    switch (ev.t) {
      case 'join': {
        if (this.peers.filter((p) => p.chord.status !== 'stopped').length >= MAX_PEERS) return;
        const via = pick(members, ev.pick);
        if (!via) return;
        const peer = this.newPeer();
        peer.chord.join(via.addr).then(
          () => {
            if (peer.chord.status === 'joined') peer.chord.start();
          },
          () => peer.stop(), // a join may fail (its bootstrap died meanwhile): it simply never joined
        );
        return;
      }
      case 'crash': {
        const victim = pick(members, ev.pick);
        if (!victim || !this.assumptionHolds(victim)) return;
        this.failuresSoFar++;
        this.excuseKeysOnlyOn(victim);
        victim.crash();
        return;
      }
      case 'leave': {
        const leaver = pick(members, ev.pick);
        if (!leaver || !this.assumptionHolds(leaver)) return;
        this.failuresSoFar++;
        this.departing.add(leaver);
        // as PeerNode.leave (store and maintenance stop at once); a failed hand-off ends it like a crash
        void (async () => {
          try {
            await leaveGracefully(leaver.chord, leaver.store);
          } catch {
            this.excuseKeysOnlyOn(leaver);
          } finally {
            leaver.stop();
          }
        })();
        return;
      }
      case 'put': {
        const via = pick(members, ev.pick);
        if (!via) return;
        const value = `v${ev.key}`;
        this.issued.push(ev.key);
        via.store.put(keyBytes(this.sc.seed, ev.key), new TextEncoder().encode(value)).then(
          () => this.acked.set(ev.key, value),
          () => undefined, // an unacknowledged write promises nothing
        );
        return;
      }
      case 'wait':
        return;
    }
  }

  /** A crash of `victim` excuses the acknowledged keys of which it holds the last live copy. */
  private excuseKeysOnlyOn(victim: SimPeer): void {
    for (const k of this.issued) {
      const key = keyBytes(this.sc.seed, k);
      if (!victim.store.localRecord(key)) continue;
      // a peer that is leaving does not count as a survivor: it is going away too
      const others = this.peers.some(
        (p) => p !== victim && !this.departing.has(p) && p.chord.status !== 'stopped' && this.network.isListening(p.addr) && p.store.localRecord(key),
      );
      if (!others) this.excused.add(k);
    }
  }

  private async advanceChecking(ms: number): Promise<void> {
    for (let done = 0; done < ms && !this.violation; done += CHECK_EVERY_MS) {
      await this.clock.advance(Math.min(CHECK_EVERY_MS, ms - done));
      this.checkInvariant();
    }
  }

  /**
   * Zave's invariant (see the module comment), when the failure assumption holds and has held
   * since the first failure: her proof needs it at all times, and once it broke two rings can form
   * for good (seed 5937: a peer finished joining as its only two successors crashed, a later peer
   * joined through it, and the two closed a ring of their own).
   */
  private checkInvariant(): void {
    if (this.brokenAfterFailure) {
      this.skipped++;
      return;
    }
    if (!this.assumptionHolds()) {
      if (this.failuresSoFar > 0) this.brokenAfterFailure = true;
      this.skipped++;
      return;
    }
    this.checks++;
    // A peer told to leave has stopped its maintenance (PeerNode.leave quiesces it) and only hands
    // its keys off: its list goes stale while its neighbours move on. As in A, it counts as gone
    // (seed 43476: a leaver's two successors left during its hand-off, and its stale list was
    // taken for a broken chain).
    const m = this.members().filter((p) => !this.departing.has(p));
    if (m.length === 0) return;
    const byAddr = new Map(m.map((p) => [p.addr, p]));
    const succ = (p: SimPeer): SimPeer | undefined => {
      for (const s of p.chord.successors) {
        // a peer alone points at itself: a ring of one (a second ring if others exist, caught below)
        if (idEquals(s.id, p.chord.self.id)) return p;
        const q = byAddr.get(s.addr);
        if (q) return q;
      }
      return undefined;
    };
    // the cycle reached from the first member
    let cycleStart: SimPeer | undefined;
    {
      const seen = new Set<SimPeer>();
      let p: SimPeer | undefined = m[0];
      while (p && !seen.has(p)) {
        seen.add(p);
        p = succ(p);
      }
      if (!p) return this.fail('invariant', `${m[0]!.addr}'s successor chain ends at a peer with no member successor (${describe(m)})`);
      cycleStart = p;
    }
    const cycle = new Set<SimPeer>();
    let winds = 0;
    for (let p = cycleStart; ; ) {
      cycle.add(p);
      const q = succ(p)!;
      if (compareIds(q.chord.self.id, p.chord.self.id) <= 0) winds++;
      p = q;
      if (p === cycleStart) break;
    }
    if (winds !== 1) return this.fail('invariant', `the ring is not ordered: it winds ${winds} times around the circle (${describe(m)})`);
    for (const start of m) {
      const seen = new Set<SimPeer>();
      let p: SimPeer | undefined = start;
      while (p && !cycle.has(p) && !seen.has(p)) {
        seen.add(p);
        p = succ(p);
      }
      if (!p || !cycle.has(p)) return this.fail('invariant', `${start.addr} does not reach the ring: a second ring or a broken chain (${describe(m)})`);
    }
  }

  private async checkKeys(): Promise<void> {
    const m = this.members();
    if (m.length === 0) return;
    let i = 0;
    for (const [k, value] of this.acked) {
      if (this.excused.has(k)) continue;
      const via = m[i++ % m.length]!;
      const read = via.store.get(keyBytes(this.sc.seed, k));
      let settled = false;
      read.then(
        () => (settled = true),
        () => (settled = true),
      );
      // never await a promise the clock has to move for: advance until it settled (bounded)
      for (let t = 0; !settled && t < 20 * REQUEST_TIMEOUT_MS; t += CHECK_EVERY_MS) await this.clock.advance(CHECK_EVERY_MS);
      if (!settled) {
        this.fail('lost-key', `reading acknowledged key ${k} through ${via.addr} never finished`);
        return;
      }
      try {
        const res = await read;
        const got = new TextDecoder().decode(res.value);
        if (!res.found || got !== value) this.fail('lost-key', `acknowledged key ${k} read through ${via.addr}: ${res.found ? `value ${got}` : 'not found'}, want ${value}`);
      } catch (err) {
        this.fail('lost-key', `acknowledged key ${k} could not be read through ${via.addr}: ${String(err)}`);
      }
      if (this.violation) return;
    }
  }
}

function keyBytes(seed: number, k: number): Uint8Array {
  return new TextEncoder().encode(`key-${seed}-${k}`);
}

function describe(m: SimPeer[]): string {
  return m.map((p) => `${p.addr}(${idToHex(p.chord.self.id).slice(0, 4)})->[${p.chord.successors.map((s) => s.addr).join(',')}]`).join(' ');
}

/**
 * Shrinks a failing schedule: drops events one at a time (then halves runs of them) as long as
 * the run still fails with a violation of the same kind. Returns the smallest schedule found.
 */
export async function shrink(schedule: Schedule, kind: Violation['kind'], budgetRuns = 200): Promise<Schedule> {
  let best = schedule;
  let runs = 0;
  let progress = true;
  while (progress && runs < budgetRuns) {
    progress = false;
    for (let i = best.events.length - 1; i >= 0 && runs < budgetRuns; i--) {
      const candidate = { ...best, events: best.events.filter((_, j) => j !== i) };
      runs++;
      const out = await runSchedule(candidate);
      if (out.violation?.kind === kind) {
        best = candidate;
        progress = true;
      }
    }
  }
  return best;
}

/** A schedule as text: seed, parameters and one event per line. */
export function formatSchedule(s: Schedule): string {
  const ev = s.events.map((e, i) => {
    switch (e.t) {
      case 'wait':
        return `  ${i}: wait ${e.ms} ms`;
      case 'put':
        return `  ${i}: put key ${e.key} via member #${e.pick.toFixed(3)}`;
      default:
        return `  ${i}: ${e.t} member #${e.pick.toFixed(3)}`;
    }
  });
  return [`seed ${s.seed}: r=${s.r}, replicas=${s.replicas}, ${s.initialPeers} initial peers, ${s.events.length} events`, ...ev].join('\n');
}

/** Result of searching seeds [from, from+count). */
export interface SearchReport {
  seeds: number;
  checks: number;
  skipped: number;
  acked: number;
  excusedKeys: number;
  /** Runs in which the failure assumption broke after a failure (only the invariant before that was checked). */
  excusedRuns: number;
  failures: { schedule: Schedule; violation: Violation; shrunk: Schedule; trace: string }[];
}

/** Runs `count` seeds from `from`; each failure is shrunk and traced. */
export async function search(from: number, count: number, onFailure?: (f: SearchReport['failures'][number]) => void): Promise<SearchReport> {
  const rep: SearchReport = { seeds: 0, checks: 0, skipped: 0, acked: 0, excusedKeys: 0, excusedRuns: 0, failures: [] };
  for (let seed = from; seed < from + count; seed++) {
    const schedule = randomSchedule(seed);
    let out: RunOutcome;
    try {
      out = await runSchedule(schedule);
    } catch (err) {
      out = { violation: { kind: 'exception', afterEvent: -1, detail: String(err) }, checks: 0, skipped: 0, acked: 0, excusedKeys: 0, excusedRun: false };
    }
    rep.seeds++;
    rep.checks += out.checks;
    rep.skipped += out.skipped;
    rep.acked += out.acked;
    rep.excusedKeys += out.excusedKeys;
    if (out.excusedRun) rep.excusedRuns++;
    if (out.violation) {
      const shrunk = await shrink(schedule, out.violation.kind);
      const again = await runSchedule(shrunk);
      const failure = { schedule, violation: again.violation ?? out.violation, shrunk, trace: `${formatSchedule(shrunk)}\n  => ${(again.violation ?? out.violation).kind} after event ${(again.violation ?? out.violation).afterEvent}: ${(again.violation ?? out.violation).detail}` };
      rep.failures.push(failure);
      onFailure?.(failure);
    }
  }
  return rep;
}
