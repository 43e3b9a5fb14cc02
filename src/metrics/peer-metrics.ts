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

/** What a peer counts as it runs; sampled by `sample(gauges)`. */
export class PeerCounters {
  private readonly requests = new Map<string, Map<string, number>>();
  private readonly latency = new Map<string, PlainHistogram>();
  private readonly hops = new PlainHistogram(HOPS_BUCKETS);
  private readonly refused = new Map<string, number>();
  ringChanges = 0;

  /** One handled request: its type, `ok` or the error code, and how long it took. */
  request(type: string, result: string, seconds: number): void {
    let byResult = this.requests.get(type);
    if (!byResult) this.requests.set(type, (byResult = new Map()));
    byResult.set(result, (byResult.get(result) ?? 0) + 1);
    let h = this.latency.get(type);
    if (!h) this.latency.set(type, (h = new PlainHistogram(LATENCY_BUCKETS_S)));
    h.observe(seconds);
  }

  lookupHops(hops: number): void {
    this.hops.observe(hops);
  }

  frameRefused(code: string): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }

  sample(gauges: PeerGauges): PeerMetricsSample {
    const requests: Array<[string, string, number]> = [];
    for (const [type, byResult] of this.requests) for (const [result, n] of byResult) requests.push([type, result, n]);
    const latency: Record<string, HistogramSample> = {};
    for (const [type, h] of this.latency) latency[type] = h.sample();
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

/**
 * Wraps a peer's request handler so every request is counted by type and result, timed, and, for
 * client operations, its hops recorded. The handler's behaviour is unchanged.
 */
export function countRequests(handler: (req: Request) => Promise<Response>, counters: PeerCounters): (req: Request) => Promise<Response> {
  return (req) => {
    const t0 = performance.now();
    return handler(req).then(
      (res) => {
        counters.request(req.type, 'ok', (performance.now() - t0) / 1000);
        const hops = hopsOf(res);
        if (hops !== undefined) counters.lookupHops(hops);
        return res;
      },
      (err: unknown) => {
        const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'INTERNAL';
        counters.request(req.type, code, (performance.now() - t0) / 1000);
        throw err;
      },
    );
  };
}
