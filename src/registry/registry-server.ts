/**
 * The discovery registry: a TCP server where peers register (id, address) over a persistent
 * connection, and where joining peers ask for a random sample of live members to bootstrap from.
 *
 * It is not on the data path: the ring never asks it anything, so it can restart at will (peers
 * re-register by themselves). What it guarantees is that what it hands out is live:
 * - a registration is tied to the connection it came on, and leaves with it: when the connection
 *   closes, when the peer deregisters, or when nothing (request or ping) arrived on it for
 *   heartbeatTimeoutMs (the registry then drops the connection too);
 * - an address is checked before it is accepted: the registry dials it and wants a `pong` to its
 *   `ping`, so a peer cannot register an address it does not serve (typo, NAT, wrong host).
 */
import net from 'node:net';
import { systemClock, type Clock, type Random, type TimerHandle } from '../chord/clock.js';
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { PROTOCOL_VERSION, expectReply, type PeerRef, type Request, type Response } from '../protocol/messages.js';
import { idToHex } from '../ring/index.js';
import { definedOnly } from '../util/options.js';
import { ConnectionPool, createListener, formatAddr, listenOn, serveConnection, validatePeerRef, type ClusterSecret, type TlsConfig } from '../wire/index.js';
import { Membership } from './membership.js';

/** Defaults of RegistryServer, by name. */
export const REGISTRY_SERVER_DEFAULTS = Object.freeze({
  /** A connection silent (no request, no ping) for this long is dropped with its peers (3 heartbeats). */
  heartbeatTimeoutMs: 15_000,
  /** Frames above 1 MiB are refused before buffering (DESIGN.md). */
  maxFrameBytes: 1024 * 1024,
  /** A client that has not completed its hello by then is disconnected. */
  helloTimeoutMs: 5000,
  /** How long a registering peer's address has to answer our verification ping. */
  verifyTimeoutMs: 3000,
  /** Largest sample handed out, whatever count is asked for (bounds reply size and work). */
  maxSampleCount: 64,
});

/** Collaborators of a RegistryServer. */
export interface RegistryServerComponents {
  /** Drives the expiry check; @default systemClock */
  clock?: Clock;
  /** @default silentLogger */
  log?: Logger;
  /** Picks samples; @default Math.random */
  random?: Random;
}

/** Options of a RegistryServer (each defaults to REGISTRY_SERVER_DEFAULTS). */
export interface RegistryServerInit {
  /** @default REGISTRY_SERVER_DEFAULTS.heartbeatTimeoutMs */
  heartbeatTimeoutMs?: number;
  /** @default REGISTRY_SERVER_DEFAULTS.maxFrameBytes */
  maxFrameBytes?: number;
  /** @default REGISTRY_SERVER_DEFAULTS.helloTimeoutMs */
  helloTimeoutMs?: number;
  /** @default REGISTRY_SERVER_DEFAULTS.verifyTimeoutMs */
  verifyTimeoutMs?: number;
  /** @default REGISTRY_SERVER_DEFAULTS.maxSampleCount */
  maxSampleCount?: number;
  /**
   * The cluster secret: clients must prove they know it, and a registering peer's address is
   * verified with it too (a peer outside the cluster is never handed out). Unset: none.
   */
  secret?: ClusterSecret;
  /** With a cert and key: accept TLS only; its `ca` also verifies registering peers dialled back. */
  tls?: TlsConfig;
}

/** Per-connection state: the owner of the registrations made on it. */
interface ConnState {
  readonly socket: net.Socket;
  lastSeenMs: number;
  closed: boolean;
}

/**
 * The registry server; see the module comment for its guarantees. Any connection, registered or
 * not, that stays silent for heartbeatTimeoutMs is dropped: clients that keep one open must ping
 * (RegistryClient does), one-shot queries are done long before.
 */
export class RegistryServer {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: Random;
  private readonly opts: Required<Omit<RegistryServerInit, 'secret' | 'tls'>>;
  private readonly secret: ClusterSecret | undefined;
  private readonly server: net.Server;
  private readonly conns = new Set<ConnState>();
  private readonly table = new Membership<ConnState>();
  private readonly verifier: ConnectionPool;
  private checkTimer: TimerHandle | null = null;
  private listenAddr: string | null = null;
  private state: 'new' | 'listening' | 'closed' = 'new';

  constructor(components: RegistryServerComponents = {}, init: RegistryServerInit = {}) {
    this.clock = components.clock ?? systemClock;
    this.log = (components.log ?? silentLogger).child({ component: 'registry' });
    this.random = components.random ?? Math.random;
    const { secret, tls, ...rest } = init;
    this.secret = secret;
    this.opts = { ...REGISTRY_SERVER_DEFAULTS, ...definedOnly(rest) };
    for (const key of ['heartbeatTimeoutMs', 'helloTimeoutMs', 'verifyTimeoutMs', 'maxSampleCount'] as const) {
      const v = this.opts[key];
      if (!Number.isFinite(v) || v <= 0) throw new RingwireError(ErrorCode.INVALID_REQUEST, `${key} must be a positive number, got ${v}`);
    }
    // Backoff off: a failed check must not make the next registration of that address fail fast;
    // the registering client already backs off.
    this.verifier = new ConnectionPool(
      { log: this.log, random: this.random },
      {
        self: null,
        requestTimeoutMs: this.opts.verifyTimeoutMs,
        connectTimeoutMs: this.opts.verifyTimeoutMs,
        maxFrameBytes: this.opts.maxFrameBytes,
        backoff: { baseMs: 0, maxMs: 0 },
        secret,
        tls,
      },
    );
    this.server = createListener((socket) => this.accept(socket), tls, (err) => this.log.warn('TLS handshake failed', { err: err.message }));
    this.server.on('error', (err) => this.log.error('listener error', { err: err.message }));
  }

  /**
   * Starts listening on host:port (port 0 picks a free one) and resolves with the bound port.
   * Rejects with UNREACHABLE when the port is taken or the host is not local; CLOSED after close().
   */
  listen(host: string, port: number): Promise<number> {
    if (this.state !== 'new') {
      return Promise.reject(new RingwireError(ErrorCode.CLOSED, `registry is ${this.state === 'closed' ? 'closed' : 'already listening'}`));
    }
    return listenOn(this.server, host, port).then((bound) => {
      this.state = 'listening';
      this.listenAddr = formatAddr(host, bound);
      this.scheduleCheck();
      this.log.info('registry listening', { addr: this.listenAddr });
      return bound;
    });
  }

  /** The `host:port` clients dial; throws NOT_READY before listen() resolved. */
  get addr(): string {
    if (this.listenAddr === null) throw new RingwireError(ErrorCode.NOT_READY, 'registry is not listening yet');
    return this.listenAddr;
  }

  /** Number of registered peers (for the host's admin API and tests). */
  memberCount(): number {
    return this.table.size;
  }

  /** Every registered peer, sorted by id; copies the caller may keep. */
  members(): PeerRef[] {
    return this.table.list();
  }

  /** Number of open client connections (registered or not). */
  connectionCount(): number {
    return this.conns.size;
  }

  /**
   * Stops listening, drops every connection (their peers with them), cancels pending address
   * checks and the expiry timer. Resolves once the listener is closed. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasListening = this.state === 'listening';
    this.state = 'closed';
    if (this.checkTimer !== null) this.clock.clearTimeout(this.checkTimer);
    this.checkTimer = null;
    for (const conn of [...this.conns]) this.drop(conn, 'registry closing');
    const closing = wasListening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    await Promise.all([closing, this.verifier.close()]);
    this.log.info('registry closed');
  }

  private accept(socket: net.Socket): void {
    if (this.state !== 'listening') {
      socket.destroy();
      return;
    }
    const conn: ConnState = { socket, lastSeenMs: this.clock.now(), closed: false };
    this.conns.add(conn);
    const served = serveConnection(socket, {
      // serveConnection has already refused other protocol versions; a registry names no peer.
      onHello: () => ({ type: 'helloAck', version: PROTOCOL_VERSION, peer: null }),
      onRequest: (req) => {
        conn.lastSeenMs = this.clock.now();
        return this.handle(req, conn);
      },
      maxFrameBytes: this.opts.maxFrameBytes,
      helloTimeoutMs: this.opts.helloTimeoutMs,
      secret: this.secret,
      log: this.log,
    });
    void served.closed.then(() => this.onClosed(conn));
  }

  private onClosed(conn: ConnState): void {
    conn.closed = true;
    this.conns.delete(conn);
    const gone = this.table.removeOwner(conn);
    for (const peer of gone) this.log.info('peer deregistered: connection closed', { peer: idToHex(peer.id), addr: peer.addr });
  }

  /** Closes a connection at once; its peers are removed by onClosed when the socket is gone. */
  private drop(conn: ConnState, why: string): void {
    const gone = this.table.removeOwner(conn);
    for (const peer of gone) this.log.info('peer deregistered', { peer: idToHex(peer.id), addr: peer.addr, why });
    conn.socket.destroy();
  }

  private async handle(req: Request, conn: ConnState): Promise<Response> {
    switch (req.type) {
      case 'ping':
        return { type: 'pong' };
      case 'register':
        await this.register(req.peer, conn);
        return { type: 'ack' };
      case 'deregister': {
        validatePeerRef(req.peer, 'deregister.peer');
        const removed = this.table.remove(req.peer, conn);
        if (removed !== undefined) this.log.info('peer deregistered: goodbye', { peer: idToHex(removed.peer.id), addr: removed.peer.addr });
        return { type: 'ack' };
      }
      case 'sample': {
        const count = Math.min(Number(req.count) || 0, this.opts.maxSampleCount);
        return { type: 'peerList', peers: this.table.sample(count, this.random) };
      }
      case 'members':
        return { type: 'peerList', peers: this.table.list() };
      default:
        throw new RingwireError(
          ErrorCode.UNKNOWN_MESSAGE,
          `the registry does not handle ${req.type}: it only keeps the list of members; send it to a peer's HOST:PORT instead (the ones \`chord cluster\` prints on start)`,
        );
    }
  }

  /**
   * Validates, verifies the address answers a ping, then records the peer under `conn`. A repeat
   * of the same registration on the same connection skips the dial (it was verified already).
   */
  private async register(peer: PeerRef, conn: ConnState): Promise<void> {
    validatePeerRef(peer, 'register.peer');
    const existing = this.table.get(peer.id);
    if (existing === undefined || existing.owner !== conn || existing.peer.addr !== peer.addr) {
      await this.verify(peer);
    }
    if (conn.closed || this.state !== 'listening') {
      throw new RingwireError(ErrorCode.CONNECTION_LOST, 'the connection closed before the registration completed');
    }
    const replaced = this.table.add(peer, conn);
    // Checking the address took time in which the client could not ping: count from now.
    conn.lastSeenMs = this.clock.now();
    this.log.info(replaced === undefined ? 'peer registered' : 'peer re-registered', {
      peer: idToHex(peer.id),
      addr: peer.addr,
      members: this.table.size,
    });
  }

  private async verify(peer: PeerRef): Promise<void> {
    try {
      expectReply(await this.verifier.request(peer.addr, { type: 'ping' }, { timeoutMs: this.opts.verifyTimeoutMs }), 'pong');
    } catch (err) {
      this.log.info('registration refused: address does not answer', { peer: idToHex(peer.id), addr: peer.addr, err: describeError(err) });
      if (err instanceof RingwireError && err.code === ErrorCode.CLOSED && this.state === 'closed') throw err;
      throw new RingwireError(ErrorCode.UNREACHABLE, `the registry could not reach ${peer.addr} (${describeError(err)}): register the address this peer listens on`);
    } finally {
      // One check per registration: keeping a socket to every member would double the registry's
      // connections for nothing.
      this.verifier.drop(peer.addr);
    }
  }

  private scheduleCheck(): void {
    const intervalMs = Math.max(1, Math.floor(this.opts.heartbeatTimeoutMs / 4));
    this.checkTimer = this.clock.setTimeout(() => {
      this.checkTimer = null;
      if (this.state !== 'listening') return;
      this.expire();
      this.scheduleCheck();
    }, intervalMs);
  }

  /** Drops every connection silent for heartbeatTimeoutMs or more, with its peers. */
  private expire(): void {
    const now = this.clock.now();
    for (const conn of [...this.conns]) {
      if (now - conn.lastSeenMs >= this.opts.heartbeatTimeoutMs) {
        this.log.info('connection expired: no heartbeat', { silentMs: now - conn.lastSeenMs, peers: this.table.ownedBy(conn) });
        this.drop(conn, 'heartbeat timeout');
      }
    }
  }
}
