/**
 * One complete peer: Chord core + store + TCP server + TCP transport. This is what `chord node`
 * runs in the foreground and what the host runs many of per worker thread.
 */
import { ChordPeer, CHORD_DEFAULTS } from '../chord/peer.js';
import { systemClock, type Clock, type Random } from '../chord/clock.js';
import { ErrorCode, RingwireError, describeError, hasCode } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { PeerRef } from '../protocol/messages.js';
import { idToHex, peerIdForAddr, type Id } from '../ring/index.js';
import { KvStore, STORE_DEFAULTS } from '../store/kv-store.js';
import { PeerServer, formatAddr } from '../net/peer-server.js';
import { TcpTransport } from '../net/tcp-transport.js';
import type { ConnectionPool } from '../wire/index.js';
import { RegistryClient, bootstrapFromRegistry } from '../registry/index.js';
import { composeHandler, leaveGracefully } from '../store/peer-handler.js';
import { PeerCounters, type PeerMetricsSample } from '../metrics/peer-metrics.js';
import type { ClusterSecret, TlsConfig } from '../wire/index.js';

export const NODE_DEFAULTS = Object.freeze({
  host: '127.0.0.1', // loopback unless told otherwise: a peer is not exposed by accident
  joinAttempts: 5, // joining races with other joiners; a few retries absorb that
  joinRetryMs: 200, // first pause between join attempts, doubled each time
  // Maintenance falls due on this grid (ChordInit.timerGridMs): the peers of one host thread then
  // share its wake-ups. Small next to any stabilize period a cluster uses (250 ms and up).
  timerGridMs: 25,
});

export interface PeerNodeInit {
  /** Interface to listen on and to advertise. */
  host?: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Fixed ring id; default SHA-1 of `host:port`. */
  id?: Id;
  /** host:port of any ring member to join through; unset creates a new ring (or asks the registry). */
  join?: string;
  /** host:port of a registry: bootstrap through a live peer it names, then stay registered. */
  registry?: string;
  successors?: number;
  replicas?: number;
  stabilizeMs?: number;
  /** Fingers refreshed per fix-fingers tick (each costs a lookup). */
  fingersPerRound?: number;
  /** Route cache for client requests (see src/chord/route-cache.ts). @default true */
  routeCache?: boolean;
  /** Recursive lookups first (see src/chord/routed-lookup.ts); false: iterative only. @default true */
  recursiveLookups?: boolean;
  maxValueBytes?: number;
  requestTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Cap on this peer's open outgoing connections (0 = none): dense hosts share one fd limit. */
  maxConnections?: number;
  /** Cap on open incoming connections; one more drops the longest-idle. @default PEER_SERVER_DEFAULTS.maxConnections */
  maxIncomingConnections?: number;
  /** A client that has not completed its hello by then is dropped. @default PEER_SERVER_DEFAULTS.helloTimeoutMs */
  helloTimeoutMs?: number;
  /** An incomplete frame stalled this long closes its connection. @default SERVE_DEFAULTS.frameTimeoutMs */
  frameTimeoutMs?: number;
  /** Requests per incoming connection handled at once (back-pressure beyond). @default SERVE_DEFAULTS.maxInFlight */
  maxInFlight?: number;
  /**
   * The cluster secret: every connection, in and out (peers, registry), runs the HMAC challenge;
   * peers without it can neither join through us nor read from us. Unset: none.
   */
  secret?: ClusterSecret;
  /**
   * TLS: with cert and key this peer accepts TLS only; its outgoing connections (peers, registry)
   * speak TLS and verify certificates against `ca`. Unset: plain TCP.
   */
  tls?: TlsConfig;
}

export interface PeerNodeComponents {
  log?: Logger;
  clock?: Clock;
  random?: Random;
  /**
   * Outgoing connections shared by every peer of a host worker: one connection per target
   * address for the whole worker instead of one per (peer, target) pair, which keeps a dense host
   * inside its file descriptor limit without evicting and re-opening connections all the time.
   */
  sharedPool?: ConnectionPool;
}

export class PeerNode {
  readonly self: PeerRef;
  readonly chord: ChordPeer;
  readonly store: KvStore;
  private readonly server: PeerServer;
  private readonly transport: TcpTransport;
  private readonly log: Logger;
  private readonly random: Random;
  private registryClient: RegistryClient | undefined;
  private closed = false;
  private secret: ClusterSecret | undefined;
  private tls: TlsConfig | undefined;

  private readonly counters: PeerCounters;
  private readonly replicas: number;

  private constructor(parts: {
    self: PeerRef;
    chord: ChordPeer;
    store: KvStore;
    server: PeerServer;
    transport: TcpTransport;
    log: Logger;
    random: Random;
    counters: PeerCounters;
    replicas: number;
  }) {
    this.counters = parts.counters;
    this.replicas = parts.replicas;
    this.random = parts.random;
    this.self = parts.self;
    this.chord = parts.chord;
    this.store = parts.store;
    this.server = parts.server;
    this.transport = parts.transport;
    this.log = parts.log;
  }

  /** Listens, then creates a ring or joins one, then starts periodic maintenance. */
  static async start(components: PeerNodeComponents, init: PeerNodeInit): Promise<PeerNode> {
    const host = init.host ?? NODE_DEFAULTS.host;
    const clock = components.clock ?? systemClock;
    const random = components.random ?? Math.random;
    const baseLog = components.log ?? silentLogger;
    const counters = new PeerCounters();
    const server = new PeerServer(
      { log: baseLog.child({ component: 'server' }), onRefuse: (code) => counters.frameRefused(code) },
      {
        maxFrameBytes: init.maxFrameBytes,
        maxConnections: init.maxIncomingConnections,
        helloTimeoutMs: init.helloTimeoutMs,
        frameTimeoutMs: init.frameTimeoutMs,
        maxInFlight: init.maxInFlight,
        secret: init.secret,
        tls: init.tls,
      },
    );
    const port = await server.listen(host, init.port);
    const addr = formatAddr(host, port);
    const id = init.id ?? peerIdForAddr(addr);
    const self: PeerRef = { id, addr };
    const log = baseLog.child({ component: 'node', peer: idToHex(id), addr });
    const requestTimeoutMs = init.requestTimeoutMs ?? CHORD_DEFAULTS.requestTimeoutMs;
    const transport = new TcpTransport({ log: log.child({ component: 'transport' }), random }, {
      self,
      requestTimeoutMs,
      maxFrameBytes: init.maxFrameBytes,
      maxConnections: init.maxConnections,
      ...(components.sharedPool ? { sharedPool: components.sharedPool } : {}),
      secret: init.secret,
      tls: init.tls,
    });
    const stabilizeMs = init.stabilizeMs ?? CHORD_DEFAULTS.stabilizeIntervalMs;
    const chord = new ChordPeer(
      { transport, clock, random, log: log.child({ component: 'chord' }) },
      {
        id,
        addr,
        successorListLength: init.successors,
        stabilizeIntervalMs: stabilizeMs,
        fixFingersIntervalMs: stabilizeMs,
        checkPredecessorIntervalMs: stabilizeMs,
        fingersPerRound: init.fingersPerRound,
        requestTimeoutMs,
        timerGridMs: NODE_DEFAULTS.timerGridMs,
        routeCache: init.routeCache !== false,
        recursiveLookups: init.recursiveLookups !== false,
      },
    );
    const store = new KvStore(
      { ring: chord, transport, clock, log: log.child({ component: 'store' }) },
      {
        replicas: init.replicas,
        maxValueBytes: init.maxValueBytes,
        requestTimeoutMs,
        repairIntervalMs: Math.max(STORE_DEFAULTS.repairIntervalMs, 5 * stabilizeMs),
      },
    );
    server.serve(self, composeHandler(chord, store), counters.settled);
    chord.onChange(() => counters.ringChanges++);
    const replicas = init.replicas ?? STORE_DEFAULTS.replicas;
    const node = new PeerNode({ self, chord, store, server, transport, log, random, counters, replicas });
    node.secret = init.secret;
    node.tls = init.tls;
    try {
      if (init.join) await node.joinWithRetry(init.join);
      else if (init.registry) await node.joinThroughRegistry(init.registry);
      else chord.create();
      if (init.registry) await node.register(init.registry);
    } catch (err) {
      await node.close();
      throw err;
    }
    chord.start();
    store.start();
    log.info('peer serving', { id: idToHex(id), join: init.join ?? null });
    return node;
  }

  get addr(): string {
    return this.self.addr;
  }

  /** This peer's metrics right now: counters since start plus gauges read from its parts. */
  metrics(): PeerMetricsSample {
    const pool = this.transport.stats();
    const keys = this.store.ownedKeyCount();
    // Replicas live on the next replicas-1 distinct successors; a shorter list cannot hold them all.
    const followers = new Set(this.chord.successors.filter((s) => s.addr !== this.self.addr).map((s) => s.addr)).size;
    return this.counters.sample({
      peer: idToHex(this.self.id),
      addr: this.self.addr,
      connectionsIn: this.server.connectionCount(),
      connectionsOut: pool?.open ?? 0,
      reconnects: pool?.reconnects ?? 0,
      stabilizeRounds: this.chord.stabilizeRounds,
      keys,
      records: this.store.recordCount(),
      bytes: this.store.storedBytes(),
      replicasBelowTarget: followers >= this.replicas - 1 ? 0 : keys,
    });
  }

  private async joinWithRetry(bootstrap: string): Promise<void> {
    let delay = NODE_DEFAULTS.joinRetryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.chord.join(bootstrap);
        return;
      } catch (err) {
        // A wrong or missing cluster secret does not fix itself: say so at once instead of retrying.
        if (attempt >= NODE_DEFAULTS.joinAttempts || causedBy(err, ErrorCode.AUTH_FAILED)) {
          throw new RingwireError(ErrorCode.JOIN_FAILED, `could not join through ${bootstrap}: ${describeError(err)}`, { cause: err });
        }
        this.log.warn('join attempt failed, retrying', { attempt, err: describeError(err) });
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }

  /**
   * Joins through a live peer from the registry's sample, trying others when one fails; an empty
   * registry means we are the first peer, so we create the ring.
   */
  private async joinThroughRegistry(registry: string): Promise<void> {
    const via = await bootstrapFromRegistry(registry, this.self.id, (addr) => this.chord.join(addr), {
      self: this.self,
      log: this.log.child({ component: 'bootstrap' }),
      ...(this.secret !== undefined ? { secret: this.secret } : {}),
      ...(this.tls !== undefined ? { tls: this.tls } : {}),
    });
    if (via === null) {
      this.log.info('registry knows no live peer: creating a new ring', { registry });
      this.chord.create();
    }
  }

  /** Stays registered (reconnecting with backoff by itself) until leave/crash/close. */
  private async register(registry: string): Promise<void> {
    const client = new RegistryClient({ log: this.log.child({ component: 'registry-client' }), random: this.random }, { registry, self: this.self, secret: this.secret, tls: this.tls });
    this.registryClient = client;
    await client.start({ background: true });
  }

  /** Graceful leave: hand keys to the successor, tell the neighbours, then close everything. */
  async leave(): Promise<void> {
    if (this.closed) return;
    try {
      await this.registryClient?.stop({ deregister: true });
      await leaveGracefully(this.chord, this.store);
    } catch (err) {
      // NOT_READY: every successor is leaving too (the whole host stops), so there was nobody to
      // hand keys to; expected, and said once.
      if (hasCode(err, ErrorCode.NOT_READY)) this.log.info('left with keys no staying peer could take', { err: describeError(err) });
      else this.log.warn('leave was not clean', { err: describeError(err) });
    }
    await this.close();
  }

  /** A crash as far as the rest of the ring can tell: sockets destroyed, no goodbye, timers gone. */
  crash(): void {
    if (this.closed) return;
    this.closed = true;
    this.chord.stop();
    this.store.stop();
    this.server.crash();
    void this.transport.close();
    void this.registryClient?.stop({ deregister: false });
  }

  /** Stops timers and closes the listener and every connection (no goodbye). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.chord.stop();
    this.store.stop();
    await this.registryClient?.stop({ deregister: false });
    await this.transport.close();
    await this.server.close();
  }
}

/** True when `err` or any error in its cause chain carries `code`. */
function causedBy(err: unknown, code: ErrorCode): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof RingwireError && e.code === code) return true;
  }
  return false;
}
