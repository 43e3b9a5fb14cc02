/**
 * The Transport the chord core and store use in production: requests travel over wire's pool of
 * persistent, auto-reconnecting TCP connections (one per peer address, many requests in flight).
 */
import type { Random } from '../chord/clock.js';
import type { RequestOptions, Transport } from '../chord/transport.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { PeerRef, Request, Response } from '../protocol/messages.js';
import { ConnectionPool, type ClusterSecret, type PoolStats, type TlsConfig } from '../wire/index.js';
import { ErrorCode, RingwireError } from '../errors/errors.js';

export interface TcpTransportInit {
  /** Who we are, announced in the hello of every connection we open. */
  self: PeerRef | null;
  requestTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Cap on open outgoing connections (0 = none); see ConnectionPool. */
  maxConnections?: number;
  /**
   * A pool shared with other peers of this process (a host worker): requests go over it, and
   * close() leaves it open for the others. Its connections announce no peer in their hello.
   */
  sharedPool?: ConnectionPool;
  /** The cluster secret every connection authenticates with; unset: none. */
  secret?: ClusterSecret;
  /** TLS (wire/tls.ts); unset: plain TCP. */
  tls?: TlsConfig;
}

export class TcpTransport implements Transport {
  private closed = false;
  private readonly pool: ConnectionPool;
  private readonly ownsPool: boolean;

  constructor(components: { log?: Logger; random?: Random }, init: TcpTransportInit) {
    this.ownsPool = init.sharedPool === undefined;
    this.pool = init.sharedPool ?? new ConnectionPool(
      { log: components.log ?? silentLogger, random: components.random },
      { self: init.self, requestTimeoutMs: init.requestTimeoutMs, maxFrameBytes: init.maxFrameBytes, maxConnections: init.maxConnections, secret: init.secret, tls: init.tls },
    );
  }

  request(addr: string, req: Request, options?: RequestOptions): Promise<Response> {
    if (this.closed) return Promise.reject(new RingwireError(ErrorCode.CLOSED, 'the transport is closed'));
    return this.pool.request(addr, req, options);
  }

  send(addr: string, req: Request, options?: RequestOptions): Promise<void> {
    if (this.closed) return Promise.reject(new RingwireError(ErrorCode.CLOSED, 'the transport is closed'));
    return this.pool.send(addr, req, options);
  }

  trySend(addr: string, req: Request): boolean {
    if (this.closed) throw new RingwireError(ErrorCode.CLOSED, 'the transport is closed');
    return this.pool.trySend(addr, req);
  }

  /**
   * Connection counters of this transport's own pool (open connections, reconnects, failures);
   * null over a shared pool, whose owner reports it once rather than once per peer sharing it.
   */
  stats(): PoolStats | null {
    return this.ownsPool ? this.pool.stats() : null;
  }

  onConnectionLost(listener: (addr: string) => void): () => void {
    return this.pool.onConnectionLost(listener);
  }

  /** Closes every connection (of an own pool; a shared pool stays open); later requests fail with CLOSED. */
  close(): Promise<void> {
    if (!this.ownsPool) {
      this.closed = true;
      return Promise.resolve();
    }
    return this.pool.close();
  }
}
