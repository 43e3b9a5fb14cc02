/**
 * Reconnect backoff as pure functions: how long an address stays "in backoff" after its n-th
 * consecutive failed connect. Pure (the random source is a parameter) so the maths is checked with
 * table tests and the pool stays free of timing arithmetic.
 *
 * Exponential growth keeps a dead peer from being dialled on every request; jitter spreads the
 * retries of many peers that lost the same node, so they do not reconnect in lockstep.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';

/** A source of uniform random numbers in [0, 1) (Math.random, or a seeded one in tests). */
export type RandomSource = () => number;

/**
 * How a delay is randomised below its exponential ceiling c:
 * - `none`: exactly c (deterministic; for tests and tools);
 * - `full`: uniform in [0, c) (spreads retries the most, may retry almost at once);
 * - `equal`: uniform in [c/2, c) (always waits at least half, which keeps fast failure meaningful).
 */
export type Jitter = 'none' | 'full' | 'equal';

/** Backoff parameters. */
export interface BackoffOptions {
  /** Ceiling after the first failure (attempt 0), in milliseconds. */
  baseMs: number;
  /** The ceiling never grows beyond this, in milliseconds. */
  maxMs: number;
  /** How the delay is randomised below the ceiling. */
  jitter: Jitter;
}

/** Defaults used by the connection pool, by name. */
export const BACKOFF_DEFAULTS: Readonly<BackoffOptions> = Object.freeze({
  /** First window: short, so a peer that restarts quickly is retried quickly. */
  baseMs: 50,
  /** Longest window: a dead peer is re-dialled at most about every 2 s. */
  maxMs: 2000,
  /** Equal jitter: at least half the ceiling, so requests in the window fail fast. */
  jitter: 'equal' as Jitter,
});

/**
 * The delay ceiling before jitter: min(maxMs, baseMs * 2^attempt). `attempt` counts consecutive
 * failures from 0; negative or fractional attempts are floored at 0. Never NaN or Infinity.
 */
export function backoffCeilingMs(attempt: number, options: Pick<BackoffOptions, 'baseMs' | 'maxMs'>): number {
  checkOptions(options);
  const { baseMs, maxMs } = options;
  if (baseMs === 0 || maxMs === 0) return 0;
  const n = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt)) : attempt > 0 ? 1024 : 0;
  // 2^n overflows to Infinity for n > 1023; the min() below still gives maxMs, never NaN.
  return Math.min(maxMs, baseMs * 2 ** Math.min(n, 1024));
}

/**
 * The backoff delay after failure number `attempt` (0 = the first failure), in whole milliseconds:
 * the ceiling randomised per `options.jitter` with `random` (values in [0, 1)).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: RandomSource): number {
  const ceiling = backoffCeilingMs(attempt, options);
  let r = random();
  if (!(r >= 0)) r = 0;
  if (r >= 1) r = 1 - Number.EPSILON;
  switch (options.jitter) {
    case 'none':
      return Math.round(ceiling);
    case 'full':
      return Math.floor(r * ceiling);
    case 'equal':
      return Math.floor(ceiling / 2 + (r * ceiling) / 2);
    default:
      throw new RingwireError(ErrorCode.INVALID_REQUEST, `unknown jitter ${JSON.stringify(options.jitter as string)}`);
  }
}

function checkOptions(options: Pick<BackoffOptions, 'baseMs' | 'maxMs'>): void {
  const { baseMs, maxMs } = options;
  if (!Number.isFinite(baseMs) || baseMs < 0 || !Number.isFinite(maxMs) || maxMs < 0) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `backoff needs finite baseMs and maxMs >= 0, got ${baseMs} and ${maxMs}`);
  }
}
