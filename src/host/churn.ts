/**
 * The churn driver: against a running ClusterHost, crashes, leaves and adds peers at a fixed rate
 * while client loops run lookups, gets of keys written beforehand and new writes, then measures
 * how long the ring takes to become consistent once churn stops and whether any acknowledged
 * write was lost. Used by the churn test (one burst of crashes) and `make bench-churn`
 * (continuous churn); the figures it reports are what the targets are stated in.
 */
import type { Random } from '../chord/clock.js';
import { describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { RingClient } from '../net/client.js';
import { RetryingClient } from '../net/retrying-client.js';
import type { ClusterHost } from './cluster-host.js';
import { computeHealth } from './health.js';

export const CHURN_DEFAULTS = Object.freeze({
  eventsPerSec: 1, // membership events (crash, leave or join) per second
  durationMs: 60_000, // how long churn lasts
  crashWeight: 1, // relative odds of each kind of event
  leaveWeight: 1,
  joinWeight: 1,
  clients: 4, // concurrent client loops
  opsPerSec: 100, // client operations per second, over all loops
  writeShare: 0.2, // fraction of client operations that are new writes (the rest: half lookups, half gets)
  preloadKeys: 500, // keys written (and acknowledged) before churn starts
  settleTimeoutMs: 120_000, // longest wait for a consistent ring after churn
  verifyTimeoutMs: 30_000, // how long a missing acknowledged key may take to reappear before it counts as lost
  requestTimeoutMs: 5_000, // per client request; a dead entry peer fails fast (connection refused) anyway
  entryRefreshMs: 5_000, // how stale the clients' list of entry peers may get, as a real client's would
});

export interface ChurnInit {
  eventsPerSec?: number;
  durationMs?: number;
  crashWeight?: number;
  leaveWeight?: number;
  joinWeight?: number;
  /** Crashes and leaves are turned into joins below this many peers. @default successors + 1 */
  minPeers?: number;
  clients?: number;
  opsPerSec?: number;
  writeShare?: number;
  preloadKeys?: number;
  settleTimeoutMs?: number;
  verifyTimeoutMs?: number;
  requestTimeoutMs?: number;
  entryRefreshMs?: number;
}

export interface ChurnComponents {
  host: ClusterHost;
  random?: Random;
  log?: Logger;
}

/** Successes and failures of one kind of client operation, with example failures for humans. */
export interface OpTally {
  ok: number;
  failed: number;
  /** ok / (ok + failed); 1 when none ran. */
  successRate: number;
  /** Operations that succeeded only through a second (or later) entry peer. */
  retried: number;
  examples: string[];
}

export interface ChurnReport {
  peersBefore: number;
  peersAfter: number;
  events: { crash: number; leave: number; join: number; failed: number };
  lookups: OpTally;
  gets: OpTally;
  writes: OpTally;
  /** Acknowledged keys (preloaded + written during churn) checked after the ring settled. */
  acknowledgedKeys: number;
  /** Acknowledged keys not readable with their value at the first check after churn. */
  missingAtFirstCheck: number;
  /** Acknowledged keys still not readable after verifyTimeoutMs: lost. */
  lost: number;
  lostExamples: string[];
  /** From the end of churn to every peer's successor list and predecessor matching the true ring. */
  consistentAfterMs: number;
  consistentAfterPeriods: number;
  /** The same in the peers' own stabilize rounds (see Convergence.rounds). */
  consistentAfterRounds: number;
  stabilizeMs: number;
  durationMs: number;
}

/** A tally being counted. */
class Tally {
  ok = 0;
  failed = 0;
  retried = 0;
  readonly examples: string[] = [];

  success(retries: number): void {
    this.ok++;
    if (retries > 0) this.retried++;
  }

  failure(what: string): void {
    this.failed++;
    if (this.examples.length < 5) this.examples.push(what);
  }

  report(): OpTally {
    const total = this.ok + this.failed;
    return { ok: this.ok, failed: this.failed, successRate: total === 0 ? 1 : this.ok / total, retried: this.retried, examples: [...this.examples] };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Indices (into a ring of `n` peers in id order) of `count` peers to fail such that no run of
 * `maxRun` consecutive peers is entirely chosen: runs of maxRun-1 spread evenly around the ring.
 * Throws when the ring is too small for that.
 */
export function spreadVictims(n: number, count: number, maxRun: number): number[] {
  const run = Math.max(1, maxRun - 1);
  const blocks = Math.ceil(count / run);
  const stride = Math.floor(n / Math.max(1, blocks));
  if (count > n || stride <= run) throw new RangeError(`cannot pick ${count} of ${n} peers without ${maxRun} consecutive ones`);
  const out: number[] = [];
  for (let b = 0; b < blocks && out.length < count; b++) {
    for (let j = 0; j < run && out.length < count; j++) out.push(b * stride + j);
  }
  return out;
}

/** Crashes every peer in `ids` at the same moment; resolves once all are down. */
export async function crashAtOnce(host: ClusterHost, ids: readonly string[]): Promise<void> {
  await Promise.all(ids.map((id) => host.removePeer(id, 'crash')));
}

/** How long the ring took to become consistent, in wall-clock time and in the peers' own rounds. */
export interface Convergence {
  ms: number;
  /** ms / the configured stabilize period. */
  periods: number;
  /**
   * The most timer-driven stabilize rounds any surviving peer ran meanwhile: periods as the peers
   * lived them, which on a loaded machine are longer than configured.
   */
  rounds: number;
}

/**
 * Polls the host until the ring is consistent (every peer's predecessor and successor list match
 * the true ring). Polls a few times per stabilization period so the figure is accurate to a
 * fraction of one; each poll's own duration is part of the error, hence `rounds` too.
 */
export async function timeToConsistent(host: ClusterHost, timeoutMs: number): Promise<Convergence> {
  const t0 = performance.now();
  const pollMs = Math.max(20, Math.min(100, host.init.stabilizeMs / 4));
  let problems: string[] = [];
  let start: Map<string, number> | undefined;
  while (performance.now() - t0 < timeoutMs) {
    const { peers } = await host.snapshot(false);
    start ??= new Map(peers.map((p) => [p.id, p.stabilizeRounds ?? 0]));
    const h = computeHealth(peers, host.init.replicas, undefined, host.init.successors);
    if (h.ringConsistent === 1 && h.peers === host.list().length) {
      const ms = performance.now() - t0;
      let rounds = 0;
      for (const p of peers) rounds = Math.max(rounds, (p.stabilizeRounds ?? 0) - (start.get(p.id) ?? p.stabilizeRounds ?? 0));
      return { ms, periods: ms / host.init.stabilizeMs, rounds };
    }
    problems = h.problems;
    await sleep(pollMs);
  }
  throw new Error(`ring not consistent ${timeoutMs} ms after churn: ${problems.join('; ')}`);
}

/**
 * The client-side view of a churn run: a retrying client over the host's peers as they were up
 * to `entryRefreshMs` ago (0: always current), so clients do meet entry peers that died since.
 */
export function clientFor(host: ClusterHost, random: Random, requestTimeoutMs: number, entryRefreshMs = 0): { client: RingClient; ring: RetryingClient } {
  const client = new RingClient({ requestTimeoutMs, connectTimeoutMs: Math.min(2000, requestTimeoutMs) });
  let entries: string[] = [];
  let refreshedAt = -Infinity;
  const current = (): readonly string[] => {
    if (performance.now() - refreshedAt >= entryRefreshMs) {
      entries = host.list().map((p) => p.addr);
      refreshedAt = performance.now();
    }
    return entries;
  };
  const ring = new RetryingClient({ client, entries: current, random });
  return { client, ring };
}

/** Writes `count` keys with `concurrency` in flight; resolves with the acknowledged key -> value map. */
export async function preload(ring: RetryingClient, count: number, prefix: string, concurrency = 32): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const key = `${prefix}${i}`;
      const value = `v${i}-${key.length}`;
      await ring.put(key, value);
      acked.set(key, value);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return acked;
}

/**
 * Reads every acknowledged key; keys missing or wrong are re-read until `timeoutMs` (repair may
 * still be moving them). Resolves with the keys missing at the first check and those still missing.
 */
export async function verifyKeys(
  ring: RetryingClient,
  acked: ReadonlyMap<string, string>,
  timeoutMs: number,
  concurrency = 32,
): Promise<{ missingAtFirstCheck: number; lost: string[] }> {
  const check = async (keys: string[]): Promise<string[]> => {
    const missing: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const key = keys[next++]!;
        try {
          const { value } = await ring.get(key);
          if (!value.found || Buffer.from(value.value).toString() !== acked.get(key)) missing.push(key);
        } catch {
          missing.push(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
    return missing;
  };
  const deadline = performance.now() + timeoutMs;
  let missing = await check([...acked.keys()]);
  const first = missing.length;
  while (missing.length > 0 && performance.now() < deadline) {
    await sleep(250);
    missing = await check(missing);
  }
  return { missingAtFirstCheck: first, lost: missing };
}

/**
 * Runs one churn scenario against `host` (started, ring consistent) and reports what clients saw.
 * Membership events run one at a time at `eventsPerSec`; client loops run concurrently at
 * `opsPerSec` in total. Writes use fresh keys, so "acknowledged" has one unambiguous value per key.
 */
export async function runChurn(components: ChurnComponents, init: ChurnInit = {}): Promise<ChurnReport> {
  const { host } = components;
  const random = components.random ?? Math.random;
  const log = components.log ?? silentLogger;
  const cfg = { ...CHURN_DEFAULTS, minPeers: host.init.successors + 1, ...init };
  const { client, ring } = clientFor(host, random, cfg.requestTimeoutMs, cfg.entryRefreshMs);
  const lookups = new Tally();
  const gets = new Tally();
  const writes = new Tally();
  const events = { crash: 0, leave: 0, join: 0, failed: 0 };
  const peersBefore = host.list().length;
  try {
    const acked = await preload(ring, cfg.preloadKeys, 'pre-');
    const ackedKeys = [...acked.keys()];
    log.info('preloaded', { keys: acked.size });

    let churning = true;
    const t0 = performance.now();
    const churn = (async () => {
      const periodMs = 1000 / cfg.eventsPerSec;
      const total = cfg.crashWeight + cfg.leaveWeight + cfg.joinWeight;
      for (let i = 0; ; i++) {
        if (i * periodMs >= cfg.durationMs) break;
        const due = t0 + i * periodMs;
        await sleep(Math.max(0, due - performance.now()));
        const live = host.list();
        let pick = random() * total;
        let kind: 'crash' | 'leave' | 'join' = pick < cfg.crashWeight ? 'crash' : (pick -= cfg.crashWeight) < cfg.leaveWeight ? 'leave' : 'join';
        if (kind !== 'join' && live.length <= cfg.minPeers) kind = 'join';
        try {
          if (kind === 'join') await host.addPeers(1);
          else await host.removePeer(live[Math.floor(random() * live.length)]!.id, kind);
          events[kind]++;
        } catch (err) {
          events.failed++;
          log.warn('churn event failed', { kind, err: describeError(err) });
        }
      }
      churning = false;
    })();

    let written = 0;
    const loop = async (index: number): Promise<void> => {
      const gapMs = (1000 * cfg.clients) / cfg.opsPerSec;
      let due = performance.now() + random() * gapMs;
      while (churning) {
        await sleep(Math.max(0, due - performance.now()));
        due += gapMs;
        const roll = random();
        if (roll < cfg.writeShare) {
          const key = `churn-${index}-${written++}`;
          const value = `w${written}`;
          try {
            const res = await ring.put(key, value);
            acked.set(key, value);
            ackedKeys.push(key);
            writes.success(res.retries);
          } catch (err) {
            writes.failure(`put ${key}: ${describeError(err)}`);
          }
          continue;
        }
        const key = ackedKeys[Math.floor(random() * ackedKeys.length)]!;
        if (roll < cfg.writeShare + (1 - cfg.writeShare) / 2) {
          try {
            const res = await ring.lookup(key);
            lookups.success(res.retries);
          } catch (err) {
            lookups.failure(`lookup ${key}: ${describeError(err)}`);
          }
        } else {
          try {
            const res = await ring.get(key);
            if (res.value.found && Buffer.from(res.value.value).toString() === acked.get(key)) gets.success(res.retries);
            else gets.failure(`get ${key}: ${res.value.found ? 'wrong value' : 'not found'}`);
          } catch (err) {
            gets.failure(`get ${key}: ${describeError(err)}`);
          }
        }
      }
    };
    await Promise.all([churn, ...Array.from({ length: cfg.clients }, (_, i) => loop(i))]);
    const durationMs = performance.now() - t0;
    log.info('churn over', { events, durationMs });

    const convergence = await timeToConsistent(host, cfg.settleTimeoutMs);
    const { missingAtFirstCheck, lost } = await verifyKeys(ring, acked, cfg.verifyTimeoutMs);
    return {
      peersBefore,
      peersAfter: host.list().length,
      events,
      lookups: lookups.report(),
      gets: gets.report(),
      writes: writes.report(),
      acknowledgedKeys: acked.size,
      missingAtFirstCheck,
      lost: lost.length,
      lostExamples: lost.slice(0, 5),
      consistentAfterMs: Math.round(convergence.ms),
      consistentAfterPeriods: Math.round(convergence.periods * 100) / 100,
      consistentAfterRounds: convergence.rounds,
      stabilizeMs: host.init.stabilizeMs,
      durationMs: Math.round(durationMs),
    };
  } finally {
    await client.close();
  }
}

