/**
 * A peer's metrics as plain numbers: counters and fixed-bucket histograms kept in the peer's own
 * thread, cheap enough for every request (a few Map lookups and array increments, no labels hashed,
 * no prom-client objects). `sample()` copies them into a structured-cloneable object that a worker
 * posts to the host's main thread, where prometheus.ts turns many samples into the exposition text.
 * The ground layer: imports nothing but the protocol types, so any layer may count into it.
 */
import type { Request, Response } from '../protocol/messages.js';

/** Request handling time, in seconds: loopback answers take well under a millisecond. */
export const LATENCY_BUCKETS_S: readonly number[] = Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
/** Lookup hops: O(log N), so 16 covers rings far larger than one host runs. */
export const HOPS_BUCKETS: readonly number[] = Object.freeze([0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16]);

/** A histogram's state: `counts[i]` observations <= bounds[i] (not cumulative); the last is +Inf. */
export interface HistogramSample {
  bounds: readonly number[];
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram over fixed bucket bounds (non-cumulative counts; the exposition sums them up). */
export class PlainHistogram {
  readonly bounds: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  sample(): HistogramSample {
    return { bounds: this.bounds, counts: this.counts.slice(), sum: this.sum, count: this.count };
  }
}

/** One peer's metrics at one moment (structured-cloneable: plain objects and arrays only). */
export interface PeerMetricsSample {
  /** The peer's id, 40 hex digits, and its address. */
  peer: string;
  addr: string;
  /** Requests handled: [type, result, count]; result is `ok` or the error code answered. */
  requests: Array<[string, string, number]>;
  /** Handling time per request type. */
  latency: Record<string, HistogramSample>;
  /** Hops of the client operations this peer entered (lookup, get, put, delete). */
  hops: HistogramSample;
  /** Connections refused or closed for breaking the protocol, by error code. */
  framesRefused: Record<string, number>;
  connectionsIn: number;
  /** Outgoing connections and reconnects of the peer's own pool (0 when it shares a worker's pool). */
  connectionsOut: number;
  reconnects: number;
  stabilizeRounds: number;
  /** Predecessor or successor-list changes. */
  ringChanges: number;
  /** Live keys this peer owns; live records it holds (owned and replicas); their bytes. */
  keys: number;
  records: number;
  bytes: number;
  /** Owned keys that cannot have their replica count: the successor list is too short for it. */
  replicasBelowTarget: number;
}

/** The pool shared by the peers of one host worker: its outgoing connections, counted once. */
export interface PoolMetricsSample {
  worker: number;
  connectionsOut: number;
  reconnects: number;
}

/** The parts of a sample a peer's surroundings fill in (gauges read on demand). */
export type PeerGauges = Omit<PeerMetricsSample, 'requests' | 'latency' | 'hops' | 'framesRefused' | 'ringChanges'>;

/** One request type's counts: answered ok, errors by code, handling time. */
interface TypeCounts {
  ok: number;
  errors: Map<string, number>;
  latency: PlainHistogram;
}

/** What a peer counts as it runs; sampled by `sample(gauges)`. */
export class PeerCounters {
  /** By request type: one Map lookup per request. */
  private readonly byType = new Map<string, TypeCounts>();
  private readonly hops = new PlainHistogram(HOPS_BUCKETS);
  private readonly refused = new Map<string, number>();
  ringChanges = 0;

  /** One handled request: its type, `ok` or the error code, and how long it took. */
  request(type: string, result: string, seconds: number): void {
    let t = this.byType.get(type);
    if (!t) this.byType.set(type, (t = { ok: 0, errors: new Map(), latency: new PlainHistogram(LATENCY_BUCKETS_S) }));
    if (result === 'ok') t.ok++;
    else t.errors.set(result, (t.errors.get(result) ?? 0) + 1);
    t.latency.observe(seconds);
  }

  /**
   * One request answered by the peer's server (serve.ts calls this as it settles the request, so
   * counting costs no promise of its own): counted by type and result, timed, and, for client
   * operations, its hops recorded. `error` is what the handler threw when `res` is undefined.
   */
  readonly settled = (req: Request, res: Response | undefined, error: unknown, seconds: number): void => {
    if (res === undefined) {
      const code = (error as { code?: unknown } | null)?.code;
      this.request(req.type, typeof code === 'string' ? code : 'INTERNAL', seconds);
      return;
    }
    this.request(req.type, 'ok', seconds);
    const hops = hopsOf(res);
    if (hops !== undefined) this.hops.observe(hops);
  };

  frameRefused(code: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }

  sample(gauges: PeerGauges): PeerMetricsSample {
    const requests: Array<[string, string, number]> = [];
    const latency: Record<string, HistogramSample> = {};
    for (const [type, t] of this.byType) {
      if (t.ok > 0) requests.push([type, 'ok', t.ok]);
      for (const [code, n] of t.errors) requests.push([type, code, n]);
      latency[type] = t.latency.sample();
    }
    return { ...gauges, requests, latency, hops: this.hops.sample(), framesRefused: Object.fromEntries(this.refused), ringChanges: this.ringChanges };
  }
}

/** Hops reported by a client operation's reply, if it is one. */
function hopsOf(res: Response): number | undefined {
  switch (res.type) {
    case 'lookupReply':
    case 'putReply':
    case 'getReply':
    case 'deleteReply':
      return res.hops;
    default:
      return undefined;
  }
}
