/**
 * Waiting on real sockets without sleeping-and-hoping: poll a condition until it holds or a
 * deadline passes, then fail with the last reason it gave.
 */
export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  what?: string;
}

/**
 * Resolves with the first truthy value `check` returns (a thrown error counts as "not yet"); rejects
 * after `timeoutMs` with the last error or falsy result described.
 */
export async function eventually<T>(check: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'condition never held';
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = `condition returned ${String(value)}`;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const reason = last instanceof Error ? last.message : String(last);
      throw new Error(`${opts.what ?? 'condition'} did not hold within ${timeoutMs} ms: ${reason}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
