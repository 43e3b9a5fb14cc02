/**
 * What one load run measured: latency and hop histograms (node's perf_hooks histograms, which
 * clone across worker threads and merge with `add`), operation and error counts. `summarize`
 * turns the merged figures into the report `chord bench --json` prints.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Figures of one run (or of several threads, merged). */
export interface LoadStats {
  /** Latency of each completed, checked operation, in nanoseconds. */
  latencyNs: RecordableHistogram;
  /** Hops + 1 of each operation (a histogram cannot record 0). */
  hopsPlusOne: RecordableHistogram;
  ops: number;
  hopSum: number;
  /** Failed operations by error code (RingwireError codes, or a check that failed: WRONG_VALUE, WRONG_OWNER…). */
  errors: Record<string, number>;
}

export function newStats(): LoadStats {
  return { latencyNs: createHistogram(), hopsPlusOne: createHistogram(), ops: 0, hopSum: 0, errors: {} };
}

/** Adds `from` into `into` (histograms merged bucket by bucket, counts summed). */
export function mergeStats(into: LoadStats, from: LoadStats): void {
  into.latencyNs.add(from.latencyNs);
  into.hopsPlusOne.add(from.hopsPlusOne);
  into.ops += from.ops;
  into.hopSum += from.hopSum;
  for (const [code, n] of Object.entries(from.errors)) into.errors[code] = (into.errors[code] ?? 0) + n;
}

/** The `chord bench --json` object. */
export interface BenchReport {
  op: string;
  peers: number;
  concurrency: number;
  durationS: number;
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanHops: number;
  p99Hops: number;
  errors: Record<string, number>;
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** The report for `stats` measured over `durationS` seconds. Empty runs report zeros. */
export function summarize(stats: LoadStats, base: { op: string; peers: number; concurrency: number; durationS: number }): BenchReport {
  const empty = stats.ops === 0;
  const ms = (ns: number): number => (empty ? 0 : round(ns / 1e6, 3));
  return {
    op: base.op,
    peers: base.peers,
    concurrency: base.concurrency,
    durationS: round(base.durationS, 3),
    ops: stats.ops,
    opsPerSec: base.durationS > 0 ? Math.round(stats.ops / base.durationS) : 0,
    p50Ms: ms(stats.latencyNs.percentile(50)),
    p90Ms: ms(stats.latencyNs.percentile(90)),
    p99Ms: ms(stats.latencyNs.percentile(99)),
    maxMs: ms(stats.latencyNs.max),
    meanHops: empty ? 0 : round(stats.hopSum / stats.ops, 3),
    p99Hops: empty ? 0 : stats.hopsPlusOne.percentile(99) - 1,
    errors: { ...stats.errors },
  };
}
