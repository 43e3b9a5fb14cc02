/**
 * The Transport the chord core and store use in production: requests travel over wire's pool of
 * persistent, auto-reconnecting TCP connections (one per peer address, many requests in flight).
 */
import type { Random } from '../chord/clock.js';
import type { RequestOptions, Transport } from '../chord/transport.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { PeerRef, Request, Response } from '../protocol/messages.js';
import { ConnectionPool } from '../wire/index.js';
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
}

export class TcpTransport implements Transport {
  private closed = false;
  private readonly pool: ConnectionPool;
  private readonly ownsPool: boolean;

  constructor(components: { log?: Logger; random?: Random }, init: TcpTransportInit) {
    this.ownsPool = init.sharedPool === undefined;
    this.pool = init.sharedPool ?? new ConnectionPool(
      { log: components.log ?? silentLogger, random: components.random },
      { self: init.self, requestTimeoutMs: init.requestTimeoutMs, maxFrameBytes: init.maxFrameBytes, maxConnections: init.maxConnections },
    );
  }

  request(addr: string, req: Request, options?: RequestOptions): Promise<Response> {
    if (this.closed) return Promise.reject(new RingwireError(ErrorCode.CLOSED, 'the transport is closed'));
    return this.pool.request(addr, req, options);
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
