/**
 * A peer's side of the registry: keep this peer registered for as long as it runs.
 *
 * The registration lives on one persistent connection, kept alive by a ping every heartbeatMs.
 * When that connection drops (the registry restarted, crashed, or expired us), the client
 * reconnects with exponential backoff and jitter and registers again, by itself, until stop().
 * Jitter matters here: after a registry restart every peer of a cluster reconnects at once.
 *
 * Only the first registration is reported to the caller (start() rejects); later failures are
 * logged and retried, because a peer must keep serving the ring whether the registry is up or not.
 */
import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type Random, type TimerHandle } from '../chord/clock.js';
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { expectReply, type PeerRef, type Request, type Response } from '../protocol/messages.js';
import { idToHex } from '../ring/index.js';
import { Connection, backoffDelayMs, parseAddr, validatePeerRef, type ClusterSecret, type Jitter, type TlsConfig } from '../wire/index.js';
import { peersOf, queryRegistryOnce } from './registry-query.js';

/** Defaults of RegistryClient, by name. */
export const REGISTRY_CLIENT_DEFAULTS = Object.freeze({
  /**
   * A ping this often keeps the registration alive (the registry expires it after 15 s of silence
   * by default). A peer that exits or crashes closes its connection and is dropped at once; the
   * ping only catches one that hangs or is cut off. At one a second, the pings were the larger
   * part of an idle 1,024-peer cluster's messages.
   */
  heartbeatMs: 5000,
  /** Reconnect backoff: the first retry waits up to baseMs, doubling per failure up to maxMs. */
  backoff: Object.freeze({ baseMs: 100, maxMs: 5000 }),
  /** Equal jitter: at least half the ceiling, so retries are spread but never immediate. */
  jitter: 'equal' as Jitter,
  /** Budget for TCP connect plus hello to the registry. */
  connectTimeoutMs: 1000,
  /** Deadline of register (which includes the registry dialling us back), ping and queries. */
  requestTimeoutMs: 5000,
});

/** Collaborators of a RegistryClient. */
export interface RegistryClientComponents {
  /** @default silentLogger */
  log?: Logger;
  /** Backoff jitter; @default Math.random */
  random?: Random;
  /** Heartbeat and reconnect timers; @default systemClock (unref'd timers) */
  clock?: Clock;
}

/** Options of a RegistryClient. */
export interface RegistryClientInit {
  /** The registry's `host:port`. */
  registry: string;
  /** This peer, as it should be handed out: its id and the address it serves on. */
  self: PeerRef;
  /** @default REGISTRY_CLIENT_DEFAULTS.heartbeatMs */
  heartbeatMs?: number;
  /** @default REGISTRY_CLIENT_DEFAULTS.backoff */
  backoff?: { baseMs?: number; maxMs?: number };
  /** @default REGISTRY_CLIENT_DEFAULTS.connectTimeoutMs */
  connectTimeoutMs?: number;
  /** @default REGISTRY_CLIENT_DEFAULTS.requestTimeoutMs */
  requestTimeoutMs?: number;
  /** The cluster secret the registry connection authenticates with; unset: none. */
  secret?: ClusterSecret;
  /** TLS (wire/tls.ts); unset: plain TCP. */
  tls?: TlsConfig;
}

/** Events of a RegistryClient. */
export interface RegistryClientEvents {
  /** (Re)registered: `count` is how many registrations succeeded so far (1 for the first). */
  registered: [count: number];
  /** The registration connection dropped; a reconnect is scheduled (`err` says why, when known). */
  disconnected: [err: RingwireError | undefined];
}

type Phase = 'new' | 'running' | 'stopped';

/** Keeps one peer registered; see the module comment. */
export class RegistryClient extends EventEmitter<RegistryClientEvents> {
  private readonly log: Logger;
  private readonly random: Random;
  private readonly clock: Clock;
  private readonly registryAddr: string;
  private readonly self: PeerRef;
  private readonly heartbeatMs: number;
  private readonly backoff: { baseMs: number; maxMs: number; jitter: Jitter };
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private phase: Phase = 'new';
  private conn: Connection | null = null;
  /** The heartbeat or the reconnect timer; never both, since one runs only while connected. */
  private timer: TimerHandle | null = null;
  /** A connect-and-register in progress, so stop() can wait for its socket to be closed. */
  private connecting: Promise<void> | null = null;
  private failures = 0;
  private registeredCount = 0;
  private lastDropError: RingwireError | undefined;

  private readonly secret: ClusterSecret | undefined;
  private readonly tls: TlsConfig | undefined;

  constructor(components: RegistryClientComponents, init: RegistryClientInit) {
    super();
    validatePeerRef(init.self, 'self');
    if (parseAddr(init.registry) === undefined) {
      throw new RingwireError(ErrorCode.INVALID_REQUEST, `the registry address must be host:port, got ${JSON.stringify(init.registry)}`);
    }
    this.self = { id: Uint8Array.from(init.self.id), addr: init.self.addr };
    this.log = (components.log ?? silentLogger).child({ component: 'registry-client', peer: idToHex(this.self.id), registry: init.registry });
    this.random = components.random ?? Math.random;
    this.clock = components.clock ?? systemClock;
    this.registryAddr = init.registry;
    this.secret = init.secret;
    this.tls = init.tls;
    this.heartbeatMs = positive(init.heartbeatMs ?? REGISTRY_CLIENT_DEFAULTS.heartbeatMs, 'heartbeatMs');
    this.backoff = {
      baseMs: init.backoff?.baseMs ?? REGISTRY_CLIENT_DEFAULTS.backoff.baseMs,
      maxMs: init.backoff?.maxMs ?? REGISTRY_CLIENT_DEFAULTS.backoff.maxMs,
      jitter: REGISTRY_CLIENT_DEFAULTS.jitter,
    };
    this.connectTimeoutMs = positive(init.connectTimeoutMs ?? REGISTRY_CLIENT_DEFAULTS.connectTimeoutMs, 'connectTimeoutMs');
    this.requestTimeoutMs = positive(init.requestTimeoutMs ?? REGISTRY_CLIENT_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs');
    backoffDelayMs(0, this.backoff, () => 0); // throws INVALID_REQUEST on bad backoff values, now rather than later
  }

  /** True while this peer is registered over a live connection. */
  get connected(): boolean {
    return this.conn !== null && this.conn.isOpen;
  }

  /** How many registrations succeeded since start (the first plus every re-registration). */
  get registrations(): number {
    return this.registeredCount;
  }

  /**
   * Connects and registers, then keeps the registration alive until stop(). Rejects (and leaves
   * nothing running) when the first registration fails: UNREACHABLE when the registry cannot be
   * reached or cannot reach our address, TIMEOUT, or the registry's error code. With
   * `background`, a failed first registration is logged and retried with backoff instead: a peer
   * already in the ring must not fail because the registry (not on the data path) is slow or down.
   */
  async start(options: { background?: boolean } = {}): Promise<void> {
    if (this.phase !== 'new') throw new RingwireError(ErrorCode.CLOSED, `registry client already ${this.phase === 'running' ? 'started' : 'stopped'}`);
    this.phase = 'running';
    try {
      await this.track(this.establish());
    } catch (err) {
      if (options.background && this.phase === 'running') {
        this.log.warn('first registration failed; retrying in the background', { err: describeError(err) });
        this.scheduleReconnect();
        return;
      }
      this.phase = 'stopped';
      const code = err instanceof RingwireError ? err.code : ErrorCode.INTERNAL;
      throw new RingwireError(code, `cannot register ${this.self.addr} with the registry at ${this.registryAddr}: ${describeError(err)}`, { cause: err });
    }
  }

  /**
   * Stops for good: clears every timer, waits for a connect in progress, sends `deregister` first
   * when asked (a graceful leave: the registry stops handing us out at once rather than when the
   * connection closes), then closes the connection. A failed goodbye is logged, not thrown.
   */
  async stop(options: { deregister: boolean } = { deregister: false }): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.clearTimer();
    if (this.connecting !== null) await this.connecting;
    const conn = this.conn;
    this.conn = null;
    if (conn === null) return;
    if (options.deregister && conn.isOpen) {
      try {
        expectReply(await conn.request({ type: 'deregister', peer: this.self }, { timeoutMs: this.requestTimeoutMs }), 'ack');
        this.log.info('deregistered');
      } catch (err) {
        this.log.warn('deregister failed', { err: describeError(err) });
      }
    }
    await conn.close();
  }

  /**
   * Up to `count` random live members (possibly including this peer). Uses the registration
   * connection when it is up, a one-shot connection otherwise; rejects like queryRegistryOnce.
   */
  async sample(count: number): Promise<PeerRef[]> {
    return peersOf(await this.ask({ type: 'sample', count: Math.max(0, Math.floor(count)) }));
  }

  /** Every registered peer, sorted by id; same transport rules as sample(). */
  async members(): Promise<PeerRef[]> {
    return peersOf(await this.ask({ type: 'members' }));
  }

  private ask(req: Request): Promise<Response> {
    const conn = this.conn;
    if (conn !== null && conn.isOpen) return conn.request(req, { timeoutMs: this.requestTimeoutMs });
    return queryRegistryOnce(this.registryAddr, req, {
      self: this.self,
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      log: this.log,
    });
  }

  /** Runs `p` as the connect in progress, so stop() waits for it to settle. */
  private track(p: Promise<void>): Promise<void> {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.connecting = settled;
    void settled.then(() => {
      if (this.connecting === settled) this.connecting = null;
    });
    return p;
  }

  /** Connects, registers and adopts the connection; tracked as one step so stop() sees its result. */
  private async establish(): Promise<void> {
    this.adopt(await this.connectAndRegister());
  }

  private async connectAndRegister(): Promise<Connection> {
    const conn = await Connection.connect(this.registryAddr, {
      self: this.self,
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      log: this.log,
      ...(this.secret !== undefined ? { secret: this.secret } : {}),
      ...(this.tls !== undefined ? { tls: this.tls } : {}),
    });
    try {
      if (this.phase !== 'running') throw new RingwireError(ErrorCode.CLOSED, 'registry client stopped');
      expectReply(await conn.request({ type: 'register', peer: this.self }, { timeoutMs: this.requestTimeoutMs }), 'ack');
      if (this.phase !== 'running') throw new RingwireError(ErrorCode.CLOSED, 'registry client stopped');
      return conn;
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  /** Makes `conn` the registration connection: heartbeats on it, reconnect when it drops. */
  private adopt(conn: Connection): void {
    this.conn = conn;
    // stop() ran while we were registering: it waits for this step and closes `conn` itself.
    if (this.phase !== 'running') return;
    this.failures = 0;
    this.lastDropError = undefined;
    this.registeredCount++;
    this.log.info(this.registeredCount === 1 ? 'registered' : 're-registered', { registrations: this.registeredCount });
    void conn.closed.then(() => this.onDropped(conn));
    this.scheduleHeartbeat(conn);
    this.notify('registered', this.registeredCount);
  }

  private onDropped(conn: Connection): void {
    if (this.conn !== conn || this.phase !== 'running') return;
    this.conn = null;
    this.clearTimer();
    const err = this.lastDropError;
    this.log.warn('registry connection lost, will re-register', { err: err === undefined ? 'closed' : describeError(err) });
    this.notify('disconnected', err);
    this.scheduleReconnect();
  }

  private scheduleHeartbeat(conn: Connection): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.heartbeat(conn);
    }, this.heartbeatMs);
  }

  private async heartbeat(conn: Connection): Promise<void> {
    try {
      expectReply(await conn.request({ type: 'ping' }, { timeoutMs: this.requestTimeoutMs }), 'pong');
    } catch (err) {
      if (this.conn !== conn || this.phase !== 'running') return;
      // A registry that does not answer pings has likely expired us; a fresh registration fixes it.
      this.lastDropError = err instanceof RingwireError ? err : new RingwireError(ErrorCode.INTERNAL, String(err));
      this.log.warn('heartbeat failed, reconnecting', { err: describeError(err) });
      void conn.close();
      return;
    }
    if (this.conn === conn && this.phase === 'running') this.scheduleHeartbeat(conn);
  }

  private scheduleReconnect(): void {
    const delayMs = backoffDelayMs(this.failures, this.backoff, this.random);
    this.failures++;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.reconnect();
    }, delayMs);
  }

  private async reconnect(): Promise<void> {
    if (this.phase !== 'running') return;
    try {
      await this.track(this.establish());
    } catch (err) {
      if (this.phase !== 'running') return;
      this.log.debug('re-registration failed, backing off', { err: describeError(err), failures: this.failures });
      this.scheduleReconnect();
    }
  }

  /** Emits to listeners; a throwing listener is logged, never allowed to break the reconnect loop. */
  private notify<K extends keyof RegistryClientEvents>(event: K, ...args: RegistryClientEvents[K]): void {
    try {
      // TS cannot see that the spread matches emit's conditional parameter type for a generic K.
      (this.emit as (e: K, ...a: RegistryClientEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error('a registry client listener threw', { event, err: describeError(err) });
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RingwireError(ErrorCode.INVALID_REQUEST, `${what} must be a positive number of ms, got ${value}`);
  return value;
}
