/**
 * The TCP server of one peer: accepts connections, completes the hello, and hands every request to
 * the peer's handler. Framing, multiplexing and the handling of bad input live in wire's
 * serveConnection; this file owns the listener and the set of live sockets, so a peer can close
 * (gracefully) or crash (every socket destroyed, no goodbye) on demand.
 */
import net from 'node:net';
import type { RequestHandler } from '../chord/transport.js';
import { ErrorCode, RingwireError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { PROTOCOL_VERSION, type Hello, type HelloAck, type PeerRef, type Request, type Response } from '../protocol/messages.js';
import { createListener, formatAddr, listenOn, serveConnection, type ClusterSecret, type ServedConnection, type TlsConfig } from '../wire/index.js';
import { definedOnly } from '../util/options.js';
import { idToHex } from '../ring/index.js';

/** Hears of every request the server answers (serve.ts ServeInit.onSettled): the peer's metrics. */
export type RequestObserver = (req: Request, res: Response | undefined, error: unknown, seconds: number) => void;

export const PEER_SERVER_DEFAULTS = Object.freeze({
  maxFrameBytes: 1024 * 1024, // frames above 1 MiB are refused before buffering (DESIGN.md)
  helloTimeoutMs: 10_000, // a client that never completes its hello is dropped after this
  maxConnections: 1024, // open client connections; one more evicts the longest-idle (else the oldest) one
});

export interface PeerServerInit {
  maxFrameBytes?: number;
  helloTimeoutMs?: number;
  maxConnections?: number;
  /** An incomplete frame stalled this long closes the connection. @default SERVE_DEFAULTS.frameTimeoutMs */
  frameTimeoutMs?: number;
  /** Requests per connection handled at once (back-pressure beyond). @default SERVE_DEFAULTS.maxInFlight */
  maxInFlight?: number;
  /** The cluster secret clients must prove they know; unset: none. */
  secret?: ClusterSecret;
  /** With a cert and key: accept TLS only (wire/tls.ts); unset: plain TCP. */
  tls?: TlsConfig;
}

/** What the server tracks per accepted socket, to pick whom to evict at the connection limit. */
interface Tracked {
  served: ServedConnection | undefined;
  /** Sequence number of the accept. */
  readonly accepted: number;
  /** Sequence number of the last data received (or of the accept). */
  lastActive: number;
}

/** Re-exported for the layers above, which format addresses the same way. */
export { formatAddr };

export class PeerServer {
  private readonly server: net.Server;
  private readonly sockets = new Map<net.Socket, Tracked>();
  /** Monotonic clock for accept order and activity (ties impossible, unlike Date.now()). */
  private seq = 0;
  private log: Logger;
  private readonly init: { maxFrameBytes: number; helloTimeoutMs: number; maxConnections: number } & PeerServerInit;
  private handler: RequestHandler | undefined;
  private onSettled: RequestObserver | undefined;
  private self: PeerRef | null = null;

  private readonly onRefuse: ((code: string) => void) | undefined;

  /** `onRefuse` hears of every client refused for breaking the protocol, with the error code. */
  constructor(components: { log?: Logger; onRefuse?: (code: string) => void }, init: PeerServerInit = {}) {
    this.log = components.log ?? silentLogger;
    this.onRefuse = components.onRefuse;
    this.init = { ...PEER_SERVER_DEFAULTS, ...definedOnly(init) };
    this.server = createListener((socket) => this.accept(socket), init.tls, (err) => this.log.warn('TLS handshake failed', { err: err.message }));
    this.server.on('error', (err) => this.log.error('listener error', { err: err.message }));
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return listenOn(this.server, host, port);
  }

  /** Sets who we are (sent in HelloAck) and who answers requests. Until then requests get NOT_READY. */
  serve(self: PeerRef, handler: RequestHandler, onSettled?: RequestObserver): void {
    // Known only now (a port-0 listener learns its address when bound): every later line names us.
    this.log = this.log.child({ peer: idToHex(self.id), addr: self.addr });
    this.self = self;
    this.handler = handler;
    this.onSettled = onSettled;
  }

  /** Number of open client connections. */
  connectionCount(): number {
    return this.sockets.size;
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    this.destroyAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Like close, but meant as a crash: sockets are destroyed at once, no goodbye on any protocol level. */
  crash(): void {
    this.server.close();
    this.destroyAll();
  }

  private destroyAll(): void {
    for (const s of this.sockets.keys()) s.destroy();
    this.sockets.clear();
  }

  private accept(socket: net.Socket): void {
    while (this.sockets.size >= Math.max(1, this.init.maxConnections)) this.evictOne();
    const tracked: Tracked = { served: undefined, accepted: ++this.seq, lastActive: this.seq };
    this.sockets.set(socket, tracked);
    socket.once('close', () => {
      if (this.sockets.get(socket) === tracked) this.sockets.delete(socket);
    });
    socket.on('data', () => {
      tracked.lastActive = ++this.seq;
    });
    tracked.served = serveConnection(socket, {
      onHello: (hello: Hello): HelloAck => {
        if (hello.version !== PROTOCOL_VERSION) {
          throw new RingwireError(
            ErrorCode.VERSION_MISMATCH,
            `protocol version ${hello.version} is not supported: this peer speaks version ${PROTOCOL_VERSION}`,
          );
        }
        return { type: 'helloAck', version: PROTOCOL_VERSION, peer: this.self };
      },
      onRequest: (req) => {
        const handler = this.handler;
        if (!handler) return Promise.reject(new RingwireError(ErrorCode.NOT_READY, 'peer is starting'));
        return handler(req);
      },
      maxFrameBytes: this.init.maxFrameBytes,
      helloTimeoutMs: this.init.helloTimeoutMs,
      frameTimeoutMs: this.init.frameTimeoutMs,
      maxInFlight: this.init.maxInFlight,
      secret: this.init.secret,
      log: this.log,
      onRefuse: this.onRefuse,
      onSettled: (req, res, error, seconds) => this.onSettled?.(req, res, error, seconds),
    });
  }

  /**
   * Makes room for a new client: destroys the connection idle longest (no request in flight, least
   * recently active); when every connection is busy, the oldest one. Untracked at once, so the count
   * never exceeds the limit even before the socket's 'close' arrives.
   */
  private evictOne(): void {
    let idle: [net.Socket, Tracked] | undefined;
    let oldest: [net.Socket, Tracked] | undefined;
    for (const entry of this.sockets) {
      const t = entry[1];
      if ((t.served?.inFlight ?? 0) === 0 && (idle === undefined || t.lastActive < idle[1].lastActive)) idle = entry;
      if (oldest === undefined || t.accepted < oldest[1].accepted) oldest = entry;
    }
    const victim = idle ?? oldest;
    if (victim === undefined) return;
    const [socket, t] = victim;
    this.sockets.delete(socket);
    this.log.warn('connection limit reached, dropping a client', {
      limit: this.init.maxConnections,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      idle: (t.served?.inFlight ?? 0) === 0,
    });
    socket.destroy();
  }
}
