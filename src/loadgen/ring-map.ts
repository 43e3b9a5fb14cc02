/**
 * The ring as a load generator sees it: every peer found by walking successors from an entry
 * address, sorted by id, and the true owner of any key computed from that list (the first peer
 * whose id is equal to or follows the key's id). Used to pick random entry peers and to check
 * every lookup answer against the ring the walk observed.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { RingClient } from '../net/client.js';
import type { PeerRef } from '../protocol/messages.js';
import { compareIds, type Id } from '../ring/index.js';

/** Peers sorted by id, as plain data (it crosses to worker threads by structured clone). */
export interface RingMap {
  peers: PeerRef[];
}

/**
 * Walks the ring from the first `via` address that answers and returns its peers sorted by id.
 * Fails with the last walk error when none answers.
 */
export async function discoverRing(client: RingClient, via: readonly string[]): Promise<RingMap> {
  let lastErr: unknown;
  for (const addr of via) {
    try {
      const infos = await client.walk(addr);
      const peers = infos.map((i) => ({ id: i.self.id, addr: i.self.addr }));
      peers.sort((a, b) => compareIds(a.id, b.id));
      return { peers };
    } catch (err) {
      lastErr = err;
    }
  }
  throw new RingwireError(ErrorCode.UNREACHABLE, `could not walk the ring through ${via.join(', ')}`, { cause: lastErr });
}

/** The owner of `key` in `ring`: binary search for the first id >= key, wrapping to the first peer. */
export function ownerOf(ring: RingMap, key: Id): PeerRef {
  const { peers } = ring;
  let lo = 0;
  let hi = peers.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareIds(peers[mid]!.id, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return peers[lo === peers.length ? 0 : lo]!;
}
