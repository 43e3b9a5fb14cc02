/**
 * The main-thread supervisor of a local cluster: an embedded registry, W peer worker threads, N
 * peers spread over them (peer i on base port + i), and a health check against the true ring.
 * It adds and removes peers on request and, on shutdown, makes every peer leave gracefully.
 */
import os from 'node:os';
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { formatAddr } from '../net/peer-server.js';
import { RegistryServer } from '../registry/registry-server.js';
import { definedOnly } from '../util/options.js';
import type { ClusterSecret, TlsConfig } from '../wire/index.js';
import { connectionsPerWorker, openFileLimit } from './fd-budget.js';
import { computeHealth, type Health } from './health.js';
import { WorkerHandle } from './worker-handle.js';
import type { PeerSnapshot } from './worker-protocol.js';
import type { PeerMetricsSample, PoolMetricsSample } from '../metrics/peer-metrics.js';

export const CLUSTER_DEFAULTS = Object.freeze({
  peers: 32, // the local demo
  host: '127.0.0.1', // loopback: a demo cluster is not exposed to the network
  basePort: 4001, // peer i listens on basePort + i; 0 lets the OS pick every port
  registryPort: 4000,
  successors: 8,
  replicas: 3,
  // Stabilize period: peers x 1 ms, within [250, 2000] ms, so the whole host sends about the same
  // maintenance traffic at any size (a 1,024-peer host at 500 ms saturates two cores).
  stabilizeMsPerPeer: 1,
  fingersPerRound: 2, // a full refresh every ~5 rounds; 8 per round is most of a host's traffic
  joinBatch: 16, // peers joining at once; more mostly adds retries on 2 cores
  logLevel: 'warn', // per-peer info lines at 1,000 peers drown the terminal
  consistencyTimeoutMs: 600_000,
  waveTimeoutMs: 120_000, // a join wave that has not settled by then is logged and not waited for
});

export interface ClusterInit {
  peers?: number;
  workers?: number;
  host?: string;
  basePort?: number;
  registryPort?: number;
  successors?: number;
  replicas?: number;
  /** @default peers x stabilizeMsPerPeer, clamped to [250, 2000] */
  stabilizeMs?: number;
  fingersPerRound?: number;
  /** @default true */
  routeCache?: boolean;
  /** @default true */
  recursiveLookups?: boolean;
  joinBatch?: number;
  logLevel?: string;
}

/** What the host uses besides its settings. */
export interface ClusterComponents {
  log?: Logger;
  /** The cluster secret: the registry and every peer require it (workers get it via workerData). */
  secret?: ClusterSecret;
  /** TLS for the registry and every peer (workers get the PEM bytes via workerData). */
  tls?: TlsConfig;
}

export interface PeerEntry {
  id: string;
  addr: string;
  worker: number;
}

export class ClusterHost {
  readonly init: Required<ClusterInit>;
  private readonly log: Logger;
  private readonly registry: RegistryServer;
  private readonly workers: WorkerHandle[] = [];
  private readonly peers = new Map<string, PeerEntry>();
  private nextIndex = 0;
  private registryAddr = '';
  /** Per-peer connection cap, from the fd limit and the largest size the cluster has had. */
  private closing = false;
  /** Workers that died, with their exit codes and the peers they took down (for the admin API). */
  readonly deadWorkers: Array<{ worker: number; code: number; peers: string[] }> = [];

  private readonly secret: ClusterSecret | undefined;
  private readonly tls: TlsConfig | undefined;

  constructor(components: ClusterComponents, init: ClusterInit = {}) {
    this.log = components.log ?? silentLogger;
    this.secret = components.secret;
    this.tls = components.tls;
    const peers = init.peers ?? CLUSTER_DEFAULTS.peers;
    this.init = {
      ...CLUSTER_DEFAULTS,
      workers: Math.max(1, os.availableParallelism()),
      stabilizeMs: Math.min(2000, Math.max(250, Math.round(peers * CLUSTER_DEFAULTS.stabilizeMsPerPeer))),
      ...definedOnly(init),
    } as Required<ClusterInit>;
    this.registry = new RegistryServer({ log: this.log.child({ component: 'registry' }) }, { secret: this.secret, tls: this.tls });
  }

  /** Starts the registry, the workers and the first `peers` peers; resolves when all have joined. */
  async start(): Promise<void> {
    const port = await this.registry.listen(this.init.host, this.init.registryPort);
    this.registryAddr = formatAddr(this.init.host, port);
    for (let w = 0; w < this.init.workers; w++) {
      this.workers.push(
        new WorkerHandle(w, {
          logLevel: this.init.logLevel,
          poolMaxConnections: connectionsPerWorker(this.init.workers, openFileLimit()),
          secret: this.secret,
          tls: this.tls,
          onExit: (h, code) => this.onWorkerExit(h, code),
        }),
      );
    }
    await this.addPeers(this.init.peers);
  }

  get registryAddress(): string {
    return this.registryAddr;
  }

  /** Live peers, in start order. */
  list(): PeerEntry[] {
    return [...this.peers.values()];
  }

  /**
   * Starts `count` more peers, round-robin over the live workers. Peers join in waves no larger
   * than the ring already is, and each wave waits for the ring to be consistent before the next:
   * peers that join at the same moment into one gap form a chain that stabilize untangles one
   * link per round, so letting a thousand peers join a ring of ten at once costs O(N) rounds,
   * while doubling waves keep every gap's chain short (about log N waves of a few rounds each).
   * Within a wave, `joinBatch` peers start at a time. The very first peer creates the ring (the
   * registry is empty); the rest bootstrap through the registry's sample of live peers.
   */
  async addPeers(count: number): Promise<PeerEntry[]> {
    const added: PeerEntry[] = [];
    let remaining = count;
    while (remaining > 0) {
      const wave = Math.min(remaining, Math.max(1, this.peers.size));
      for (let done = 0; done < wave; ) {
        const batch = Math.min(wave - done, this.init.joinBatch);
        added.push(...(await Promise.all(Array.from({ length: batch }, () => this.startOne()))));
        done += batch;
      }
      remaining -= wave;
      if (remaining > 0) {
        try {
          await this.waitConsistent(CLUSTER_DEFAULTS.waveTimeoutMs);
        } catch (err) {
          this.log.warn('ring not consistent after a join wave; adding the next wave anyway', { err: describeError(err) });
        }
      }
    }
    return added;
  }

  private async startOne(): Promise<PeerEntry> {
    const live = this.workers.filter((w) => w.alive);
    if (live.length === 0) throw new RingwireError(ErrorCode.CLOSED, 'no worker is alive to host a peer');
    const index = this.nextIndex++;
    const worker = live[index % live.length]!;
    const port = this.init.basePort === 0 ? 0 : this.init.basePort + index;
    const peer = await worker.start({
      host: this.init.host,
      port,
      registry: this.registryAddr,
      successors: this.init.successors,
      replicas: this.init.replicas,
      stabilizeMs: this.init.stabilizeMs,
      fingersPerRound: this.init.fingersPerRound,
      routeCache: this.init.routeCache,
      recursiveLookups: this.init.recursiveLookups,
    });
    const entry = { ...peer, worker: worker.index };
    this.peers.set(peer.id, entry);
    return entry;
  }

  /** Removes one peer: `leave` hands its keys off, `crash` closes its sockets without a goodbye. */
  async removePeer(id: string, mode: 'leave' | 'crash'): Promise<PeerEntry> {
    const entry = this.peers.get(id);
    if (!entry) throw new RingwireError(ErrorCode.NOT_FOUND, `no live peer with id ${id}`);
    const worker = this.workers[entry.worker]!;
    this.peers.delete(id);
    await worker.remove(entry.addr, mode);
    return entry;
  }

  /** Every live peer's state, gathered from all workers (fingers left empty unless `withFingers`). */
  async snapshot(withKeys = false, withFingers = true): Promise<{ peers: PeerSnapshot[]; keys: Map<string, string[]> }> {
    const parts = await Promise.all(this.workers.filter((w) => w.alive).map((w) => w.snapshot(withKeys, withFingers)));
    const peers = parts.flatMap((p) => p.peers);
    const keys = new Map<string, string[]>();
    if (withKeys) {
      const idByAddr = new Map(peers.map((p) => [p.addr, p.id]));
      for (const part of parts) for (const [addr, ids] of Object.entries(part.keys)) keys.set(idByAddr.get(addr) ?? addr, ids);
    }
    return { peers, keys };
  }

  /** One live peer's state with its fingers, asked of its worker alone; undefined when not live. */
  async peerSnapshot(id: string): Promise<PeerSnapshot | undefined> {
    const entry = this.peers.get(id);
    const worker = entry && this.workers[entry.worker];
    if (!entry || !worker?.alive) return undefined;
    return (await worker.snapshot(false, true, entry.addr)).peers[0];
  }

  /** Every live peer's metrics and every worker's shared pool, gathered from all workers (for GET /metrics). */
  async metrics(): Promise<{ peers: PeerMetricsSample[]; pools: PoolMetricsSample[] }> {
    const parts = await Promise.all(this.workers.filter((w) => w.alive).map((w) => w.metrics()));
    return { peers: parts.flatMap((p) => p.peers), pools: parts.flatMap((p) => (p.pool ? [p.pool] : [])) };
  }

  async health(withKeys = true): Promise<Health> {
    const { peers, keys } = await this.snapshot(withKeys);
    return computeHealth(peers, this.init.replicas, withKeys ? keys : undefined, this.init.successors);
  }

  /**
   * Resolves once every live peer's successor list and predecessor match the true ring. Polls
   * snapshots without fingers: a join of 1,024 peers polls about 140 times.
   */
  async waitConsistent(timeoutMs: number = CLUSTER_DEFAULTS.consistencyTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { peers } = await this.snapshot(false, false);
      const health = computeHealth(peers, this.init.replicas, undefined, this.init.successors, false);
      if (health.ringConsistent === 1 && health.peers === this.peers.size) return;
      if (Date.now() > deadline) {
        throw new RingwireError(ErrorCode.TIMEOUT, `ring not consistent after ${timeoutMs} ms: ${health.problems.join('; ')}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(500, this.init.stabilizeMs)));
    }
  }

  private onWorkerExit(worker: WorkerHandle, code: number): void {
    if (this.closing) return;
    const lost = [...this.peers.values()].filter((p) => p.worker === worker.index);
    for (const p of lost) this.peers.delete(p.id);
    this.deadWorkers.push({ worker: worker.index, code, peers: lost.map((p) => p.addr) });
    this.log.error('worker died; its peers count as crashed and are not restarted', { worker: worker.index, code, peers: lost.length });
  }

  /** Kills one worker thread at once (its peers crash): for testing supervision. */
  async killWorker(index: number): Promise<void> {
    await this.workers[index]?.kill();
  }

  /** Every peer leaves gracefully, workers end, the registry closes. */
  async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const results = await Promise.allSettled(this.workers.map((w) => w.shutdown()));
    for (const r of results) if (r.status === 'rejected') this.log.warn('worker shutdown failed', { err: describeError(r.reason) });
    this.peers.clear();
    await this.registry.close();
  }
}
