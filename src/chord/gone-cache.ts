/**
 * A short memory of peers seen failing. Dropping a dead peer from our own tables is not enough:
 * other peers keep naming it in their replies until their next stabilize, so without this memory a
 * lookup retried right after `suspect()` would be handed the same dead owner again. Entries expire
 * (a peer may come back at the same address) and are cleared as soon as the peer answers us.
 */
import type { Clock } from './clock.js';

/** Most entries kept; beyond it expired ones are pruned, then the oldest dropped. */
export const GONE_CACHE_MAX_ENTRIES = 1024;

/** Addresses of peers that failed recently, each remembered for `ttlMs` on the injected clock. */
export class GoneCache {
  private readonly until = new Map<string, number>();
  private readonly clock: Clock;
  private readonly ttlMs: number;

  constructor(components: { clock: Clock }, init: { ttlMs: number }) {
    this.clock = components.clock;
    this.ttlMs = init.ttlMs;
  }

  /** Remembers that the peer at `addr` just failed (or said it is not in a ring). */
  add(addr: string): void {
    this.until.delete(addr); // re-insert so Map order stays oldest-first
    this.until.set(addr, this.clock.now() + this.ttlMs);
    if (this.until.size > GONE_CACHE_MAX_ENTRIES) this.prune();
  }

  /** True when `addr` failed within the last ttlMs and has not answered since. */
  has(addr: string): boolean {
    if (this.until.size === 0) return false; // the common case: nothing failed lately
    const t = this.until.get(addr);
    if (t === undefined) return false;
    if (t > this.clock.now()) return true;
    this.until.delete(addr);
    return false;
  }

  /** The peer at `addr` answered us: it is not gone (any more). */
  alive(addr: string): void {
    if (this.until.size !== 0) this.until.delete(addr);
  }

  get size(): number {
    return this.until.size;
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [addr, t] of this.until) if (t <= now) this.until.delete(addr);
    while (this.until.size > GONE_CACHE_MAX_ENTRIES) {
      const oldest = this.until.keys().next().value as string;
      this.until.delete(oldest);
    }
  }
}
