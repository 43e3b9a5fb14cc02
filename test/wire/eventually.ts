/**
 * Bounded waiting for tests over real TCP: retry a check until it passes or a deadline expires,
 * instead of sleeping a fixed time and hoping (STYLE rule 4).
 */

/** Options of `eventually`. */
export interface EventuallyOptions {
  /** Give up after this long, rethrowing the last failure. */
  timeoutMs?: number;
  /** Pause between attempts. */
  intervalMs?: number;
}

/**
 * Calls `fn` until it returns (or resolves) something other than `false` without throwing, and
 * returns that value. When `timeoutMs` passes first, throws the last error (or a timeout error
 * when `fn` kept returning false), so the test failure names what was awaited.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = performance.now() + timeoutMs;
  let last: unknown = new Error(`condition not met within ${timeoutMs} ms`);
  for (;;) {
    try {
      const value = await fn();
      if (value !== false) return value;
      last = new Error(`condition still false after ${timeoutMs} ms`);
    } catch (err) {
      last = err;
    }
    if (performance.now() >= deadline) throw last;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Resolves with `promise`, or rejects when it takes longer than `timeoutMs` (so a test waiting on
 * an event that never comes fails fast with a message instead of hanging).
 */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
