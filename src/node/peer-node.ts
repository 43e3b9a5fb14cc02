/**
 * One complete peer: Chord core + store + TCP server + TCP transport. This is what `chord node`
 * runs in the foreground and what the host runs many of per worker thread.
 */
import { ChordPeer, CHORD_DEFAULTS } from '../chord/peer.js';
import { systemClock, type Clock, type Random } from '../chord/clock.js';
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { PeerRef } from '../protocol/messages.js';
import { idToHex, peerIdForAddr, type Id } from '../ring/index.js';
import { KvStore, STORE_DEFAULTS } from '../store/kv-store.js';
import { PeerServer, formatAddr } from '../net/peer-server.js';
import { TcpTransport } from '../net/tcp-transport.js';
import type { ConnectionPool } from '../wire/index.js';
import { RegistryClient, bootstrapFromRegistry } from '../registry/index.js';
import { composeHandler } from '../store/peer-handler.js';

export const NODE_DEFAULTS = Object.freeze({
  host: '127.0.0.1', // loopback unless told otherwise: a peer is not exposed by accident
  joinAttempts: 5, // joining races with other joiners; a few retries absorb that
  joinRetryMs: 200, // first pause between join attempts, doubled each time
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
  maxValueBytes?: number;
  requestTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Cap on this peer's open outgoing connections (0 = none): dense hosts share one fd limit. */
  maxConnections?: number;
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

  private constructor(parts: { self: PeerRef; chord: ChordPeer; store: KvStore; server: PeerServer; transport: TcpTransport; log: Logger; random: Random }) {
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
    const server = new PeerServer({ log: baseLog.child({ component: 'server' }) }, { maxFrameBytes: init.maxFrameBytes });
    const port = await server.listen(host, init.port);
    const addr = formatAddr(host, port);
    const id = init.id ?? peerIdForAddr(addr);
    const self: PeerRef = { id, addr };
    const log = baseLog.child({ peer: idToHex(id).slice(0, 8), addr });
    const requestTimeoutMs = init.requestTimeoutMs ?? CHORD_DEFAULTS.requestTimeoutMs;
    const transport = new TcpTransport({ log: log.child({ component: 'transport' }), random }, {
      self,
      requestTimeoutMs,
      maxFrameBytes: init.maxFrameBytes,
      maxConnections: init.maxConnections,
      ...(components.sharedPool ? { sharedPool: components.sharedPool } : {}),
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
        routeCache: init.routeCache !== false,
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
    server.serve(self, composeHandler(chord, store));
    const node = new PeerNode({ self, chord, store, server, transport, log, random });
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

  private async joinWithRetry(bootstrap: string): Promise<void> {
    let delay = NODE_DEFAULTS.joinRetryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.chord.join(bootstrap);
        return;
      } catch (err) {
        if (attempt >= NODE_DEFAULTS.joinAttempts) {
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
    });
    if (via === null) {
      this.log.info('registry knows no live peer: creating a new ring', { registry });
      this.chord.create();
    }
  }

  /** Stays registered (reconnecting with backoff by itself) until leave/crash/close. */
  private async register(registry: string): Promise<void> {
    const client = new RegistryClient({ log: this.log.child({ component: 'registry-client' }), random: this.random }, { registry, self: this.self });
    this.registryClient = client;
    await client.start({ background: true });
  }

  /** Graceful leave: hand keys to the successor, tell the neighbours, then close everything. */
  async leave(): Promise<void> {
    if (this.closed) return;
    try {
      await this.registryClient?.stop({ deregister: true });
      this.store.stop();
      await this.store.handOff();
      await this.chord.leave();
    } catch (err) {
      this.log.warn('leave was not clean', { err: describeError(err) });
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
