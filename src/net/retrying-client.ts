/**
 * A ring client that survives the death of its entry peer: every operation is tried through one
 * entry peer and, when that peer is gone or could not complete it (unreachable, timed out, not in
 * a ring, no route found from there), through the next one, within the same call. The caller
 * sees a success whenever some live entry can serve it, not a timeout.
 *
 * Routing around dead peers past the entry is the entry peer's job (chord's iterative lookup and
 * the store's retry at the owner); this only covers the hop from the client to the ring.
 */
import type { Random } from '../chord/clock.js';
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { RingClient, type LookupAnswer } from './client.js';

export const RETRYING_CLIENT_DEFAULTS = Object.freeze({
  attempts: 4, // distinct entry peers tried per operation; four dead ones in a row is not churn
});

/** Failures that say "this entry could not do it now", so another entry may: never a bad request. */
const RETRYABLE: ReadonlySet<string> = new Set([
  ErrorCode.TIMEOUT,
  ErrorCode.CONNECTION_LOST,
  ErrorCode.UNREACHABLE,
  ErrorCode.CLOSED,
  ErrorCode.NOT_READY,
  ErrorCode.LOOKUP_FAILED,
  ErrorCode.REPLICATION_FAILED,
  ErrorCode.NOT_OWNER,
  ErrorCode.PROTOCOL_ERROR,
]);

/** True when another entry peer may succeed where this one failed. */
export function isRetryable(err: unknown): boolean {
  return err instanceof RingwireError && RETRYABLE.has(err.code);
}

export interface RetryingClientComponents {
  client: RingClient;
  /** The entry peers to choose from, asked afresh for every operation (membership changes). */
  entries: () => readonly string[];
  /** @default Math.random */
  random?: Random;
}

export interface RetryingClientInit {
  /** @default RETRYING_CLIENT_DEFAULTS.attempts */
  attempts?: number;
}

/** The outcome of one operation: its value, and how many entries failed before one answered. */
export interface Attempted<T> {
  value: T;
  retries: number;
}

export class RetryingClient {
  private readonly client: RingClient;
  private readonly entries: () => readonly string[];
  private readonly random: Random;
  private readonly attempts: number;

  constructor(components: RetryingClientComponents, init: RetryingClientInit = {}) {
    this.client = components.client;
    this.entries = components.entries;
    this.random = components.random ?? Math.random;
    this.attempts = Math.max(1, init.attempts ?? RETRYING_CLIENT_DEFAULTS.attempts);
  }

  lookup(key: string | Uint8Array): Promise<Attempted<LookupAnswer>> {
    return this.withEntry((via) => this.client.lookup(via, key));
  }

  get(key: string | Uint8Array): Promise<Attempted<Awaited<ReturnType<RingClient['get']>>>> {
    return this.withEntry((via) => this.client.get(via, key));
  }

  put(key: string | Uint8Array, value: string | Uint8Array): Promise<Attempted<Awaited<ReturnType<RingClient['put']>>>> {
    return this.withEntry((via) => this.client.put(via, key, value));
  }

  /**
   * Runs `op` through up to `attempts` distinct entries, starting at a random one. Rejects with the
   * first non-retryable error at once, or with the last error once every attempt failed.
   */
  async withEntry<T>(op: (via: string) => Promise<T>): Promise<Attempted<T>> {
    const all = this.entries();
    if (all.length === 0) throw new RingwireError(ErrorCode.UNREACHABLE, 'no entry peer to send the request to');
    const start = Math.floor(this.random() * all.length);
    const tries = Math.min(this.attempts, all.length);
    let last: unknown;
    for (let i = 0; i < tries; i++) {
      const via = all[(start + i) % all.length]!;
      try {
        return { value: await op(via), retries: i };
      } catch (err) {
        if (!isRetryable(err)) throw err;
        last = err;
      }
    }
    const code = last instanceof RingwireError ? last.code : ErrorCode.UNREACHABLE;
    throw new RingwireError(code, `${tries} entry peers failed; last: ${describeError(last)}`, { cause: last });
  }
}
