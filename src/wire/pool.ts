/**
 * A pool of persistent connections, one per peer address, with reconnect and backoff.
 *
 * `request(addr, req, options)` has the shape of the chord Transport (src/chord/transport.ts), so
 * src/net can hand a pool to the chord core as is; wire does not import chord (it sits below it).
 *
 * Failing fast matters more than retrying here: after a failed connect an address is "in backoff"
 * for a window that grows with each consecutive failure, and requests in that window are refused
 * at once with UNREACHABLE. That is what lets Chord skip a dead successor immediately instead of
 * waiting out a connect timeout on every request.
 */
import { setMaxListeners } from 'node:events';
import { ErrorCode, RingwireError } from '../errors/errors.js';
import { silentLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';
import type { PeerRef, Request, Response } from '../protocol/messages.js';
import { BACKOFF_DEFAULTS, backoffDelayMs } from './backoff.js';
import type { BackoffOptions, RandomSource } from './backoff.js';
import { CONNECTION_DEFAULTS, Connection } from './connection.js';
import type { RequestOptions } from './connection.js';
import { checkMaxFrameBytes } from './frame.js';
import type { ClusterSecret } from './auth.js';
import type { TlsConfig } from './tls.js';

/** Defaults of ConnectionPool, by name. */
export const POOL_DEFAULTS = Object.freeze({
  /** Deadline of a request (connecting included) when the caller gives none. */
  requestTimeoutMs: 1000,
  /** Budget for TCP connect plus hello; a slower peer counts as a failed connect. */
  connectTimeoutMs: 1000,
  /** Largest frame sent or accepted (DESIGN: 1 MiB). */
  maxFrameBytes: CONNECTION_DEFAULTS.maxFrameBytes,
  /** Reconnect backoff after failed connects (see backoff.ts). */
  backoff: BACKOFF_DEFAULTS,
  /** Open connections kept at most; past it the least recently used idle one is closed. 0 = no cap. */
  maxConnections: 0,
  /** A connection unused this long is closed (it reopens on demand). 0 = never. */
  idleTimeoutMs: 60_000,
});

/** Collaborators of a pool. */
export interface PoolComponents {
  /** @default silentLogger */
  log?: Logger;
  /** Jitter source for backoff. @default Math.random */
  random?: RandomSource;
  /** Milliseconds on a monotonic clock, for backoff windows. @default performance.now */
  now?: () => number;
}

/** Options of a pool. */
export interface PoolInit {
  /** Who we are, sent in every hello; null for plain clients. */
  self: PeerRef | null;
  /** @default POOL_DEFAULTS.requestTimeoutMs */
  requestTimeoutMs?: number;
  /** @default POOL_DEFAULTS.connectTimeoutMs */
  connectTimeoutMs?: number;
  /** @default POOL_DEFAULTS.maxFrameBytes */
  maxFrameBytes?: number;
  /** Missing fields take POOL_DEFAULTS.backoff's values. */
  backoff?: Partial<BackoffOptions>;
  /**
   * Cap on open connections. Many peers in one process share one file-descriptor limit (each
   * in-process connection costs two), so a dense host sets this from its budget.
   * @default POOL_DEFAULTS.maxConnections (no cap)
   */
  maxConnections?: number;
  /** @default POOL_DEFAULTS.idleTimeoutMs */
  idleTimeoutMs?: number;
  /** The cluster secret every connection authenticates with (see Connection); unset: none. */
  secret?: ClusterSecret;
  /** TLS for every connection (see Connection); unset: plain TCP. */
  tls?: TlsConfig;
}

/** Counters since the pool was made. */
export interface PoolStats {
  /** Successful connects (handshake done), first ones and reconnects. */
  connects: number;
  /** Successful connects to an address that had been connected before. */
  reconnects: number;
  /** Failed connect attempts. */
  failures: number;
  /** Requests refused at once because their address was in backoff. */
  fastFailures: number;
  /** Connections open right now. */
  open: number;
  /** Connections closed to stay under maxConnections or because they sat idle. */
  evictions: number;
}

interface Entry {
  conn: Connection | null;
  connecting: Promise<Connection> | null;
  /** Consecutive failed connects; 0 after a success. */
  failures: number;
  /** Before this time (per `now`) requests fail fast. */
  retryAt: number;
  lastError: RingwireError | null;
  everConnected: boolean;
  /** `now` of the last request sent through this entry. */
  lastUsed: number;
  /** The pool's use counter at that request: orders entries for eviction (ties in `now` cannot). */
  useSeq: number;
}

/** Persistent connections by address; satisfies the chord Transport structurally. */
export class ConnectionPool {
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly now: () => number;
  private readonly self: PeerRef | null;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxFrameBytes: number;
  private readonly secret: ClusterSecret | undefined;
  private readonly tls: TlsConfig | undefined;
  private readonly backoff: BackoffOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly counters = { connects: 0, reconnects: 0, failures: 0, fastFailures: 0, evictions: 0 };
  private readonly lostListeners = new Set<(addr: string) => void>();
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number;
  private sweeper: ReturnType<typeof setInterval> | null = null;
  private isClosed = false;
  /** Requests sent so far (see Entry.useSeq). */
  private uses = 0;
  /** Aborts connects still in progress when the pool closes, so close() does not wait them out. */
  private readonly shutdown = new AbortController();

  constructor(components: PoolComponents, init: PoolInit) {
    this.log = (components.log ?? silentLogger).child({ component: 'wire.pool' });
    this.random = components.random ?? Math.random;
    this.now = components.now ?? (() => performance.now());
    this.self = init.self;
    this.requestTimeoutMs = init.requestTimeoutMs ?? POOL_DEFAULTS.requestTimeoutMs;
    this.connectTimeoutMs = init.connectTimeoutMs ?? POOL_DEFAULTS.connectTimeoutMs;
    this.maxFrameBytes = init.maxFrameBytes ?? POOL_DEFAULTS.maxFrameBytes;
    this.secret = init.secret;
    this.tls = init.tls;
    this.backoff = { ...POOL_DEFAULTS.backoff, ...init.backoff };
    this.maxConnections = init.maxConnections ?? POOL_DEFAULTS.maxConnections;
    this.idleTimeoutMs = init.idleTimeoutMs ?? POOL_DEFAULTS.idleTimeoutMs;
    if (!Number.isInteger(this.maxConnections) || this.maxConnections < 0) {
      throw new RingwireError(ErrorCode.INVALID_REQUEST, `maxConnections must be a non-negative integer, got ${this.maxConnections}`);
    }
    // Refuse bad settings now, not on the first failed connect deep inside a request.
    checkMaxFrameBytes(this.maxFrameBytes);
    backoffDelayMs(0, this.backoff, () => 0);
    for (const [name, ms] of [['requestTimeoutMs', this.requestTimeoutMs], ['connectTimeoutMs', this.connectTimeoutMs]] as const) {
      if (!Number.isFinite(ms) || ms <= 0) throw new RingwireError(ErrorCode.INVALID_REQUEST, `${name} must be a positive number of ms, got ${ms}`);
    }
    // One abort listener per connect in progress: many at once is normal, not a leak.
    setMaxListeners(0, this.shutdown.signal);
  }

  /**
   * Sends `req` to the peer at `addr` over the pooled connection, opening it if needed. Rejects
   * with UNREACHABLE at once while `addr` is in backoff, UNREACHABLE/TIMEOUT/VERSION_MISMATCH/...
   * when connecting fails, TIMEOUT when no answer comes within `timeoutMs` (connecting included),
   * CONNECTION_LOST when the connection drops first, RemoteError for an error reply, CLOSED once
   * the pool is closed. Never resolves with an `error` response.
   */
  request(addr: string, req: Request, options: RequestOptions = {}): Promise<Response> {
    // An open connection needs no connect and no deadline bookkeeping beyond the request's own:
    // going straight to it spares two async frames per message on the hot path.
    const open = this.openConnection(addr);
    if (open !== null) return open.request(req, options);
    return this.requestSlow(addr, req, options);
  }

  private async requestSlow(addr: string, req: Request, options: RequestOptions): Promise<Response> {
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const start = this.now();
    const conn = await this.connection(addr, timeoutMs);
    const left = timeoutMs - (this.now() - start);
    if (left <= 0) throw new RingwireError(ErrorCode.TIMEOUT, `connecting to ${addr} used up the ${timeoutMs} ms deadline`);
    return conn.request(req, { timeoutMs: left });
  }

  /**
   * Sends a one-way request (ONE_WAY_TYPES) over the pooled connection to `addr`, opening it if
   * needed; resolves once the frame is queued. Rejects as `request` does while connecting.
   */
  send(addr: string, req: Request, options: RequestOptions = {}): Promise<void> {
    try {
      if (this.trySend(addr, req)) return QUEUED;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.sendSlow(addr, req, options);
  }

  private async sendSlow(addr: string, req: Request, options: RequestOptions): Promise<void> {
    const conn = await this.connection(addr, options.timeoutMs ?? this.requestTimeoutMs);
    conn.send(req);
  }

  /**
   * Queues a one-way request on the open connection to `addr` and returns true; returns false,
   * sending nothing, when no connection to `addr` is open (use `send`, which opens one). Throws
   * what Connection.send throws (the message cannot be encoded or is over maxFrameBytes).
   */
  trySend(addr: string, req: Request): boolean {
    const open = this.openConnection(addr);
    if (open === null) return false;
    open.send(req);
    return true;
  }

  /** The open connection to `addr`, marked as used; null when there is none (or the pool is closed). */
  private openConnection(addr: string): Connection | null {
    if (this.isClosed) return null;
    const entry = this.entries.get(addr);
    const conn = entry?.conn;
    if (conn == null || !conn.isOpen) return null;
    entry!.lastUsed = this.now();
    entry!.useSeq = this.uses++;
    return conn;
  }

  /** Closes the connection to `addr`, if any (its pending requests reject with CLOSED). */
  drop(addr: string): void {
    const entry = this.entries.get(addr);
    if (entry?.conn != null) {
      const conn = entry.conn;
      entry.conn = null;
      void conn.close();
    }
  }

  /** Closes every connection; later requests reject with CLOSED. Resolves once all sockets closed. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.shutdown.abort();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    const closing: Array<Promise<void>> = [];
    for (const entry of this.entries.values()) {
      if (entry.conn !== null) closing.push(entry.conn.close());
      if (entry.connecting !== null) closing.push(entry.connecting.then((c) => c.close(), () => undefined));
    }
    this.entries.clear();
    await Promise.all(closing);
  }

  /** Counters for tests, logs and benchmarks. */
  stats(): PoolStats {
    let open = 0;
    for (const entry of this.entries.values()) if (entry.conn?.isOpen === true) open++;
    return { ...this.counters, open };
  }

  private openCount(): number {
    let open = 0;
    for (const entry of this.entries.values()) if (entry.conn !== null || entry.connecting !== null) open++;
    return open;
  }

  /**
   * Keeps the pool under maxConnections by closing least recently used connections that have no
   * request in flight (by `useSeq`: sorting here, when a connection opens past the cap, is cheaper
   * than keeping the Map in use order, which cost a delete and a set per message).
   * A busy pool may overshoot for a moment rather than fail a request.
   */
  private evictForCap(keep: Entry): void {
    if (this.maxConnections === 0) return;
    let excess = this.openCount() - this.maxConnections;
    if (excess <= 0) return;
    const byUse = [...this.entries].sort((x, y) => x[1].useSeq - y[1].useSeq);
    for (const [addr, entry] of byUse) {
      if (excess <= 0) break;
      const conn = entry.conn;
      if (entry === keep || conn === null || conn.pendingCount > 0) continue;
      entry.conn = null;
      this.counters.evictions++;
      excess--;
      this.log.debug('connection evicted (pool at capacity)', { remote: addr });
      void conn.close();
    }
  }

  /** Closes connections idle past idleTimeoutMs and forgets addresses with nothing to remember. */
  private sweep(): void {
    const cutoff = this.now() - this.idleTimeoutMs;
    for (const [addr, entry] of this.entries) {
      if (entry.lastUsed > cutoff || entry.connecting !== null) continue;
      if (entry.conn !== null) {
        if (entry.conn.pendingCount > 0) continue;
        const conn = entry.conn;
        entry.conn = null;
        this.counters.evictions++;
        void conn.close();
      }
      if (entry.failures === 0 || this.now() >= entry.retryAt) this.entries.delete(addr);
    }
  }

  private startSweeper(): void {
    if (this.sweeper !== null || this.idleTimeoutMs <= 0 || this.isClosed) return;
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, this.idleTimeoutMs / 2));
    this.sweeper.unref();
  }

  /** The open connection to `addr`: reused, shared with a connect in progress, or newly opened. */
  private async connection(addr: string, timeoutMs: number): Promise<Connection> {
    if (this.isClosed) throw this.closedError();
    let entry = this.entries.get(addr);
    if (entry === undefined) {
      entry = { conn: null, connecting: null, failures: 0, retryAt: 0, lastError: null, everConnected: false, lastUsed: 0, useSeq: 0 };
      this.entries.set(addr, entry);
      this.startSweeper();
    }
    entry.lastUsed = this.now();
    entry.useSeq = this.uses++;
    if (entry.conn !== null) {
      if (entry.conn.isOpen) return entry.conn;
      entry.conn = null;
    }
    if (entry.connecting === null) {
      const now = this.now();
      if (entry.failures > 0 && now < entry.retryAt) {
        this.counters.fastFailures++;
        const last = entry.lastError !== null ? ` (last: ${entry.lastError.message})` : '';
        throw new RingwireError(
          ErrorCode.UNREACHABLE,
          `${addr} is in backoff for ${Math.ceil(entry.retryAt - now)} ms after ${entry.failures} failed connect(s)${last}`,
        );
      }
      entry.connecting = this.open(addr, entry);
    }
    return withDeadline(entry.connecting, timeoutMs, addr);
  }

  private async open(addr: string, entry: Entry): Promise<Connection> {
    try {
      const conn = await Connection.connect(addr, {
        self: this.self,
        connectTimeoutMs: this.connectTimeoutMs,
        requestTimeoutMs: this.requestTimeoutMs,
        maxFrameBytes: this.maxFrameBytes,
        log: this.log,
        signal: this.shutdown.signal,
        ...(this.secret !== undefined ? { secret: this.secret } : {}),
        ...(this.tls !== undefined ? { tls: this.tls } : {}),
      });
      entry.connecting = null;
      if (this.isClosed) {
        void conn.close();
        throw this.closedError();
      }
      this.counters.connects++;
      if (entry.everConnected) this.counters.reconnects++;
      entry.everConnected = true;
      entry.failures = 0;
      entry.lastError = null;
      entry.conn = conn;
      void conn.closed.then(() => this.forget(addr, entry, conn));
      this.evictForCap(entry);
      this.log.debug('connected', { remote: addr });
      return conn;
    } catch (err) {
      entry.connecting = null;
      if (this.isClosed) throw this.closedError();
      const e = err instanceof RingwireError ? err : new RingwireError(ErrorCode.UNREACHABLE, String(err), { cause: err });
      this.counters.failures++;
      const delay = backoffDelayMs(entry.failures, this.backoff, this.random);
      entry.failures++;
      entry.retryAt = this.now() + delay;
      entry.lastError = e;
      this.log.debug('connect failed, backing off', { remote: addr, code: e.code, err: e.message, backoffMs: delay, failures: entry.failures });
      throw e;
    }
  }

  /**
   * Calls `listener(addr)` whenever an open connection is dropped by the other side or the network
   * (not when this pool closes it: idle, capacity, shutdown). A hint that the peer may be gone,
   * for layers that would rather check now than at their next period. Returns unsubscribe.
   */
  onConnectionLost(listener: (addr: string) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** A dropped connection is forgotten so the next request reconnects. */
  private forget(addr: string, entry: Entry, conn: Connection): void {
    if (entry.conn === conn) {
      entry.conn = null;
      this.log.debug('connection dropped', { remote: addr });
      if (this.isClosed) return;
      for (const listener of this.lostListeners) {
        try {
          listener(addr);
        } catch (err) {
          this.log.warn('connection-lost listener threw', { err: String(err) });
        }
      }
    }
  }

  private closedError(): RingwireError {
    return new RingwireError(ErrorCode.CLOSED, 'the connection pool is closed');
  }
}

/** What `send` returns once the frame is queued: one settled promise serves every call. */
const QUEUED: Promise<void> = Promise.resolve();

/**
 * Waits for a shared connect attempt, but no longer than this request's own deadline: concurrent
 * callers share one attempt, each keeping its own timeout.
 */
function withDeadline(connecting: Promise<Connection>, timeoutMs: number, addr: string): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new RingwireError(ErrorCode.TIMEOUT, `connecting to ${addr} took longer than the ${timeoutMs} ms deadline`));
    }, timeoutMs);
    connecting.then(
      (conn) => {
        clearTimeout(timer);
        resolve(conn);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
