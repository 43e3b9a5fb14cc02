/**
 * File descriptors are the first wall a dense host hits: every peer has a listener, and every
 * connection between two peers of the same process costs two descriptors (one at each end). This
 * turns the process's limit into a cap on outgoing connections per peer.
 */
import { readFileSync } from 'node:fs';

/** The soft RLIMIT_NOFILE of this process (Linux /proc), or `fallback` where it cannot be read. */
export function openFileLimit(fallback = 1024): number {
  try {
    const text = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (!m) return fallback;
    return m[1] === 'unlimited' ? 1_000_000 : Number(m[1]);
  } catch {
    return fallback;
  }
}

/**
 * Outgoing connections each of `workers` host workers may keep open in the pool its peers share.
 * Half the limit goes to these connections (two descriptors each when both ends are in this
 * process); the other half is left for the peers' listeners, the registry, the admin API, clients
 * and connects in progress. At the 20,000 descriptors seen here and 2 workers that is 2,500 targets
 * per worker: a full mesh of any cluster this machine can host, so connections are never evicted.
 */
export function connectionsPerWorker(workers: number, limit: number): number {
  return Math.max(64, Math.floor((limit * 0.5) / (2 * Math.max(1, workers))));
}
