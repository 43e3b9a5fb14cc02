/**
 * The one seam between the Chord logic and the network. The chord core and the store call
 * `request`; implementations are the in-memory network (src/sim), a transport that fails every
 * call (tests), and TCP (src/net). Nothing above this interface knows which one it runs on.
 */
import type { Request, Response } from '../protocol/messages.js';

export interface RequestOptions {
  /** Give up after this long with a TIMEOUT error. Implementations apply a default when unset. */
  timeoutMs?: number;
}

export interface Transport {
  /**
   * Sends `req` to the peer listening at `addr` and resolves with its reply.
   * Rejects with a RingwireError: UNREACHABLE / CONNECTION_LOST / TIMEOUT when the peer is gone
   * or silent (see `isPeerFailure`), or a RemoteError carrying the code of an error reply.
   * Never resolves with an `error` response.
   */
  request(addr: string, req: Request, options?: RequestOptions): Promise<Response>;
  /**
   * Optional: delivers a one-way request (see ONE_WAY_TYPES), which nothing answers. Resolves once
   * it is on its way (a connection to `addr` is open and the frame queued); rejects like `request`
   * when `addr` cannot be reached. Arrival is never confirmed: callers keep their own deadline.
   * Without it, peers route iteratively only.
   */
  send?(addr: string, req: Request, options?: RequestOptions): Promise<void>;
  /**
   * Optional, with `send`: queues a one-way request at once and returns true when a connection to
   * `addr` is already open; returns false, sending nothing, when `send` would first have to
   * connect. Throws when the message cannot be sent at all (too large, not encodable). It spares
   * the hops of a recursive lookup a promise each.
   */
  trySend?(addr: string, req: Request): boolean;
  /**
   * Optional: calls `listener(addr)` when a connection to `addr` dropped without us closing it
   * (the peer may have crashed). Only a hint to check sooner; returns unsubscribe.
   */
  onConnectionLost?(listener: (addr: string) => void): () => void;
}

/**
 * What a peer exposes to the network: answers one request. Throwing (or rejecting with) a
 * RingwireError is answered with an error reply carrying its code. An answer known at once may be
 * returned as is: a hop of a recursive lookup is, and a promise per hop is what that spares.
 */
export type RequestHandler = (req: Request) => Response | Promise<Response>;
