/**
 * What a simulated run does, as plain data: the peer count, load, failures, churn and timing of
 * one run of the simulator. The CLI fills it from flags or a small JSON file; the figure script
 * builds it in code. Validation lives here so every entry point rejects the same nonsense with a
 * message naming the field and the fix.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { Random } from '../chord/clock.js';

/** One-way message delay, drawn per message in whole milliseconds. */
export type LatencySpec =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'exponential'; meanMs: number };

/** The operation each measured request performs. */
export type OpKind = 'lookup' | 'get';

/** A complete scenario (see SCENARIO_DEFAULTS for every default). */
export interface Scenario {
  /** Peers in the ring at the start, placed by oracle bootstrap. */
  peers: number;
  /** Seed of the run's single random source: ids, latencies, choices, schedules. */
  seed: number;
  /** r, the successor list length. */
  successors: number;
  /** Copies of each key (owner + replicas-1 successors). */
  replicas: number;
  /** Period of stabilize, fix fingers and check predecessor. */
  stabilizeMs: number;
  /** Store repair period. */
  repairMs: number;
  /** Deadline of one request. */
  requestTimeoutMs: number;
  latency: LatencySpec;
  /** Keys written before the run (oracle-placed at their owner and its replicas-1 successors). */
  keys: number;
  /** Stabilization periods run before failures and measurements. */
  warmupPeriods: number;
  /** Fraction of the peers crashed at once after the warm-up. */
  crashFraction: number;
  /** Periods run after the mass crash, before the measured requests start. */
  settlePeriods: number;
  /** Joins per stabilization period during the measured phase (Poisson); crashes at the same rate. */
  churnRate: number;
  /** Graceful leaves per stabilization period during the measured phase (Poisson). */
  leaveRate: number;
  /** Measured requests (lookups or gets). */
  lookups: number;
  /** Requests issued per simulated second (evenly spaced); 0 issues them all at once. */
  lookupRateHz: number;
  /** `lookup`: chord findSuccessor checked against the true owner; `get`: a store read of a preloaded key. */
  op: OpKind;
  /** Extra attempts after a request that failed with an error (0: the paper's "no retries"). */
  retries: number;
}

/** Defaults, by name. */
export const SCENARIO_DEFAULTS: Readonly<Scenario> = Object.freeze({
  peers: 1024, // a ring big enough for multi-hop routes, quick to simulate
  seed: 1, // any 32-bit integer
  successors: 8, // as the real peer
  replicas: 3, // as the real store
  stabilizeMs: 1000, // as the real peer
  repairMs: 5000, // as the real store
  requestTimeoutMs: 1000, // as the real peer
  latency: Object.freeze({ kind: 'uniform', minMs: 5, maxMs: 50 }) as LatencySpec, // a wide-area-ish spread
  keys: 0, // no stored data unless asked
  warmupPeriods: 3, // lets the staggered periodic steps all run a few times
  crashFraction: 0, // no mass failure
  settlePeriods: 10, // time to repair after a mass failure
  churnRate: 0, // no churn
  leaveRate: 0, // no graceful leaves
  lookups: 10_000, // measured requests
  lookupRateHz: 0, // all at once
  op: 'lookup', // routing only
  retries: 0, // the paper's setting
});

const INTEGER_LIMITS: Partial<Record<keyof Scenario, [number, number]>> = {
  peers: [1, 1 << 20],
  seed: [0, 0xffffffff],
  successors: [1, 64],
  replicas: [1, 16],
  stabilizeMs: [1, 3_600_000],
  repairMs: [1, 3_600_000],
  requestTimeoutMs: [1, 600_000],
  keys: [0, 10_000_000],
  warmupPeriods: [0, 100_000],
  settlePeriods: [0, 100_000],
  lookups: [0, 100_000_000],
  retries: [0, 100],
};

/**
 * A complete scenario from a partial one: unset fields take SCENARIO_DEFAULTS; a bad field throws
 * INVALID_REQUEST naming it and the allowed range.
 */
export function resolveScenario(partial: Partial<Scenario>): Scenario {
  const s: Scenario = { ...SCENARIO_DEFAULTS, ...definedFields(partial) };
  for (const [name, [min, max]] of Object.entries(INTEGER_LIMITS) as [keyof Scenario, [number, number]][]) {
    const v = s[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw invalid(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
  }
  const fractions: [keyof Scenario, number][] = [['crashFraction', 0.99], ['churnRate', 1000], ['leaveRate', 1000], ['lookupRateHz', 1e7]];
  for (const [name, max] of fractions) {
    const v = s[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) throw invalid(name, `must be a number from 0 to ${max}, got ${JSON.stringify(v)}`);
  }
  if (s.op !== 'lookup' && s.op !== 'get') throw invalid('op', `must be "lookup" or "get", got ${JSON.stringify(s.op)}`);
  if (s.op === 'get' && s.keys === 0 && s.lookups > 0) throw invalid('keys', 'must be at least 1 when op is "get" (gets read preloaded keys)');
  checkLatency(s.latency);
  return s;
}

/**
 * Parses a latency as given on the command line: `MS` (fixed), `MIN..MAX` or `uniform:MIN..MAX`,
 * `exp:MEAN`. Throws INVALID_REQUEST with the accepted forms.
 */
export function parseLatency(text: string): LatencySpec {
  const t = text.trim();
  let m: RegExpExecArray | null;
  let spec: LatencySpec | undefined;
  if ((m = /^(\d+)$/.exec(t))) spec = { kind: 'fixed', ms: Number(m[1]) };
  else if ((m = /^(?:uniform:)?(\d+)\.\.(\d+)$/.exec(t))) spec = { kind: 'uniform', minMs: Number(m[1]), maxMs: Number(m[2]) };
  else if ((m = /^exp(?:onential)?:(\d+)$/.exec(t))) spec = { kind: 'exponential', meanMs: Number(m[1]) };
  if (!spec) throw invalid('latency', `${JSON.stringify(text)} is not a latency: use MS, MIN..MAX (uniform) or exp:MEAN, in whole ms`);
  checkLatency(spec);
  return spec;
}

/** A draw function for the spec, in whole ms, from the run's random source. */
export function latencySampler(spec: LatencySpec, random: Random): () => number {
  switch (spec.kind) {
    case 'fixed':
      return () => spec.ms;
    case 'uniform':
      return () => spec.minMs + Math.floor(random() * (spec.maxMs - spec.minMs + 1));
    case 'exponential':
      return () => Math.max(1, Math.round(-spec.meanMs * Math.log(1 - random())));
  }
}

/** Human form of a latency spec (the inverse of parseLatency). */
export function describeLatency(spec: LatencySpec): string {
  switch (spec.kind) {
    case 'fixed':
      return `${spec.ms}`;
    case 'uniform':
      return `${spec.minMs}..${spec.maxMs}`;
    case 'exponential':
      return `exp:${spec.meanMs}`;
  }
}

function checkLatency(spec: unknown): void {
  const s = spec as Partial<Record<string, unknown>> | null;
  const ok = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 600_000;
  const good =
    s !== null &&
    typeof s === 'object' &&
    ((s.kind === 'fixed' && ok(s.ms)) ||
      (s.kind === 'uniform' && ok(s.minMs) && ok(s.maxMs) && (s.minMs as number) <= (s.maxMs as number)) ||
      (s.kind === 'exponential' && ok(s.meanMs) && (s.meanMs as number) >= 1));
  if (!good) throw invalid('latency', `${JSON.stringify(spec)} is not a latency: use MS, MIN..MAX with MIN <= MAX, or exp:MEAN (MEAN >= 1), whole ms up to 600000`);
}

function definedFields(partial: Partial<Scenario>): Partial<Scenario> {
  const out: Partial<Record<keyof Scenario, unknown>> = {};
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) out[k as keyof Scenario] = v;
  return out as Partial<Scenario>;
}

/** The error for a bad scenario field; `field` is the Scenario property name. */
export class ScenarioError extends RingwireError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(ErrorCode.INVALID_REQUEST, message);
    this.field = field;
  }
}

function invalid(field: string, why: string): ScenarioError {
  return new ScenarioError(field, `scenario ${field} ${why}`);
}
