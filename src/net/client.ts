/**
 * A client of the ring: what the CLI, tests and benchmarks use to talk to any peer as an entry
 * point. It speaks the same framed protocol as peers, with a hello that names no peer.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import { expectReply, type Info, type PeerRef, type Request, type Response } from '../protocol/messages.js';
import { idEquals, keyId, type Id } from '../ring/index.js';
import { ConnectionPool } from '../wire/index.js';

export const CLIENT_DEFAULTS = Object.freeze({
  requestTimeoutMs: 5000, // client operations include a lookup and replication at the owner
  connectTimeoutMs: 2000,
  maxRingWalk: 100_000, // a walk that has not come back after this many peers is reported as broken
});

export interface ClientInit {
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * false: ask entry peers to route every request instead of using their route cache (to compare
   * both, or to check routing itself). @default true
   */
  routeCache?: boolean;
}

const encoder = new TextEncoder();
const asBytes = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? encoder.encode(v) : v);

export interface LookupAnswer {
  keyId: Id;
  owner: PeerRef;
  hops: number;
  /** The peers the entry peer asked, in order (one per hop). */
  path: PeerRef[];
}

export class RingClient {
  private readonly pool: ConnectionPool;
  private readonly requestTimeoutMs: number;
  /** Added to lookup/get/put/delete requests: `{ noRouteCache: true }` when the cache is off. */
  private readonly routing: { noRouteCache?: true };

  constructor(init: ClientInit = {}) {
    this.requestTimeoutMs = init.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs;
    this.routing = init.routeCache === false ? { noRouteCache: true } : {};
    this.pool = new ConnectionPool(
      {},
      {
        self: null,
        requestTimeoutMs: this.requestTimeoutMs,
        connectTimeoutMs: init.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs,
      },
    );
  }

  /** Sends one raw request to `addr` (tests use it to reach protocol corners). */
  request(addr: string, req: Request): Promise<Response> {
    return this.pool.request(addr, req, { timeoutMs: this.requestTimeoutMs });
  }

  async lookup(via: string, key: string | Uint8Array): Promise<LookupAnswer> {
    const id = keyId(key);
    const res = expectReply(await this.request(via, { type: 'lookup', keyId: id, ...this.routing }), 'lookupReply');
    return { keyId: id, owner: res.owner, hops: res.hops, path: res.path };
  }

  async put(via: string, key: string | Uint8Array, value: string | Uint8Array) {
    return expectReply(await this.request(via, { type: 'put', key: asBytes(key), value: asBytes(value), ...this.routing }), 'putReply');
  }

  async get(via: string, key: string | Uint8Array) {
    return expectReply(await this.request(via, { type: 'get', key: asBytes(key), ...this.routing }), 'getReply');
  }

  async delete(via: string, key: string | Uint8Array) {
    return expectReply(await this.request(via, { type: 'delete', key: asBytes(key), ...this.routing }), 'deleteReply');
  }

  async info(addr: string): Promise<Info> {
    return expectReply(await this.request(addr, { type: 'getInfo' }), 'info');
  }

  /**
   * Walks the ring along first successors from `via` until it returns to where it started, one
   * Info per peer in ring order. Fails with LOOKUP_FAILED naming the peer where the walk broke
   * (a successor that does not answer, or a cycle that does not pass through the start).
   */
  async walk(via: string, maxPeers = CLIENT_DEFAULTS.maxRingWalk): Promise<Info[]> {
    const first = await this.info(via);
    const out: Info[] = [first];
    const seen = new Set<string>([first.self.addr]);
    let current = first;
    for (;;) {
      const next = current.successors[0];
      if (!next || idEquals(next.id, first.self.id)) return out;
      if (seen.has(next.addr) || out.length >= maxPeers) {
        throw new RingwireError(ErrorCode.LOOKUP_FAILED, `ring walk from ${via} looped at ${next.addr} without returning to the start`);
      }
      try {
        current = await this.info(next.addr);
      } catch (err) {
        throw new RingwireError(ErrorCode.LOOKUP_FAILED, `ring walk broke: successor ${next.addr} of ${current.self.addr} did not answer`, { cause: err });
      }
      seen.add(next.addr);
      out.push(current);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
