/**
 * The ring as a load generator sees it: every peer found by walking successors from an entry
 * address, sorted by id, and the true owner of any key computed from that list (the first peer
 * whose id is equal to or follows the key's id). Used to pick random entry peers and to check
 * every lookup answer against the ring the walk observed.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { RingClient } from '../net/client.js';
import type { PeerRef } from '../protocol/messages.js';
import { compareIds, successorIndex, type Id } from '../ring/index.js';

/** Peers sorted by id, as plain data (it crosses to worker threads by structured clone). */
export interface RingMap {
  peers: PeerRef[];
}

/**
 * Walks the ring from the first `via` address that answers and returns its peers sorted by id.
 * The walk follows successors like `chord ring`, but asks a peer's whole successor list at once
 * and goes on from the last entry, so a 1,000-peer ring takes about N/r round trips, not N.
 * Fails with the last walk error when no entry answers, or when the walk does not close.
 */
export async function discoverRing(client: RingClient, via: readonly string[]): Promise<RingMap> {
  let lastErr: unknown;
  for (const addr of via) {
    try {
      return { peers: await fastWalk(client, addr) };
    } catch (err) {
      lastErr = err;
    }
  }
  throw new RingwireError(ErrorCode.UNREACHABLE, `could not walk the ring through ${via.join(', ')}`, { cause: lastErr });
}

async function fastWalk(client: RingClient, via: string): Promise<PeerRef[]> {
  const first = await client.info(via);
  const byAddr = new Map<string, PeerRef>([[first.self.addr, first.self]]);
  let current = first;
  for (;;) {
    const next = current.successors.filter((s) => !byAddr.has(s.addr));
    if (next.length === 0) break; // every successor seen: the walk came back around
    const infos = await Promise.all(next.map((s) => client.info(s.addr)));
    for (const i of infos) byAddr.set(i.self.addr, i.self);
    current = infos[infos.length - 1]!;
    if (byAddr.size > 100_000) throw new RingwireError(ErrorCode.LOOKUP_FAILED, `ring walk from ${via} did not close after 100,000 peers`);
  }
  const peers = [...byAddr.values()].map((p) => ({ id: p.id, addr: p.addr }));
  peers.sort((a, b) => compareIds(a.id, b.id));
  return peers;
}

/** The owner of `key` in `ring`: binary search for the first id >= key, wrapping to the first peer. */
export function ownerOf(ring: RingMap, key: Id): PeerRef {
  return ring.peers[successorIndex(ring.peers, key)]!;
}
