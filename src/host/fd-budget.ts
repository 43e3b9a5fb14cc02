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
 * Outgoing connections each of `peers` peers may keep open so the process stays within
 * `limit` descriptors: a fifth of the limit is kept for the registry, admin API, clients and
 * connects in progress; each peer costs one listener; each connection two descriptors.
 * Never below 4 (successor, predecessor and a couple of fingers) and 0 (no cap) when generous.
 */
export function connectionsPerPeer(peers: number, limit: number): number {
  const usable = Math.floor(limit * 0.8) - peers;
  const perPeer = Math.floor(usable / (2 * Math.max(1, peers)));
  if (perPeer >= 64) return 0;
  return Math.max(4, perPeer);
}
