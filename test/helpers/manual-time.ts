/**
 * Waiting on a promise under a manual clock: the work may need timers (request deadlines, retries)
 * to fire, so simulated time moves on in small steps until the promise settles, with a deadline.
 */
import type { ManualClock } from '../../src/sim/manual-clock.js';

/** Settles `p` while advancing `clock` stepMs at a time, at most `maxMs`; resolves with the value and the simulated time it took. */
export async function settleWithClock<T>(clock: ManualClock, p: Promise<T>, maxMs: number, stepMs = 10): Promise<{ value: T; ms: number }> {
  let done = false;
  p.then(() => { done = true; }, () => { done = true; });
  const start = clock.now();
  for (let i = 0; i < 5 && !done; i++) await Promise.resolve();
  while (!done && clock.now() - start < maxMs) await clock.advance(stepMs);
  if (!done) throw new Error(`not settled within ${maxMs} ms of simulated time`);
  return { value: await p, ms: clock.now() - start };
}
