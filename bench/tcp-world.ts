/**
 * `bench-hotpath --tcp`: N real peers over loopback TCP in the calling thread, driven by a client
 * pool. Each peer is wired from its parts (PeerServer, TcpTransport over one shared pool, ChordPeer,
 * KvStore, the composed handler and its metrics observer) the way PeerNode.start and a host worker
 * wire them, then bootstrapped into a correct ring with no maintenance running. Built from parts
 * rather than through PeerNode so that `--dist` can run an older build's code, whose PeerNode has
 * no way to start from a known ring.
 */
import { pathToFileURL } from 'node:url';
import type * as ClockModule from '../src/chord/clock.js';
import type * as PeerModule from '../src/chord/peer.js';
import type * as HashModule from '../src/ring/hash.js';
import type * as IdModule from '../src/ring/id.js';
import type * as OracleModule from '../src/sim/oracle.js';
import type * as KvModule from '../src/store/kv-store.js';
import type * as HandlerModule from '../src/store/peer-handler.js';
import type * as ServerModule from '../src/net/peer-server.js';
import type * as TransportModule from '../src/net/tcp-transport.js';
import type * as WireModule from '../src/wire/index.js';
import type * as MetricsModule from '../src/metrics/peer-metrics.js';
import type { Random } from '../src/chord/clock.js';
import type { Request, Response } from '../src/protocol/messages.js';

/** What the harness drives: requests from a client to a peer, and every peer's address. */
export interface TcpWorld {
  readonly addrs: readonly string[];
  request(addr: string, req: Request): Promise<Response>;
  close(): Promise<void>;
}

/** Maintenance timers are started by nothing here, and their periods are an hour besides. */
const HOUR_MS = 3_600_000;

export async function startTcpWorld(dist: string, opts: { peers: number; successors: number; random: Random }): Promise<TcpWorld> {
  const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(`${dist}/src/${rel}`).href)) as T;
  const { systemClock } = await load<typeof ClockModule>('chord/clock.js');
  const { ChordPeer } = await load<typeof PeerModule>('chord/peer.js');
  const { peerIdForAddr } = await load<typeof HashModule>('ring/hash.js');
  const { compareIds } = await load<typeof IdModule>('ring/id.js');
  const { oracleState } = await load<typeof OracleModule>('sim/oracle.js');
  const { KvStore } = await load<typeof KvModule>('store/kv-store.js');
  const { composeHandler } = await load<typeof HandlerModule>('store/peer-handler.js');
  const { PeerServer, formatAddr } = await load<typeof ServerModule>('net/peer-server.js');
  const { TcpTransport } = await load<typeof TransportModule>('net/tcp-transport.js');
  const { ConnectionPool } = await load<typeof WireModule>('wire/index.js');
  const { PeerCounters } = await load<typeof MetricsModule>('metrics/peer-metrics.js');

  const random = opts.random;
  // Generous: nothing should time out here, also when a run goes slowly (under a profiler, say).
  const requestTimeoutMs = 60_000;
  const connectTimeoutMs = 60_000;
  // No idle sweep either: connections closed and reopened by the clock would make what a run
  // measures depend on how long it ran.
  const poolInit = { self: null, requestTimeoutMs, connectTimeoutMs, idleTimeoutMs: 0 };
  const shared = new ConnectionPool({ random }, poolInit);
  const client = new ConnectionPool({ random }, poolInit);
  const servers: Array<InstanceType<typeof PeerServer>> = [];
  const peers: Array<InstanceType<typeof ChordPeer>> = [];
  try {
    for (let i = 0; i < opts.peers; i++) {
      const counters = new PeerCounters();
      const server = new PeerServer({ onRefuse: (code) => counters.frameRefused(code) });
      servers.push(server);
      const addr = formatAddr('127.0.0.1', await server.listen('127.0.0.1', 0));
      const id = peerIdForAddr(addr);
      const transport = new TcpTransport({ random }, { self: { id, addr }, requestTimeoutMs, sharedPool: shared });
      const chord = new ChordPeer(
        { transport, clock: systemClock, random },
        { id, addr, successorListLength: opts.successors, stabilizeIntervalMs: HOUR_MS, fixFingersIntervalMs: HOUR_MS, checkPredecessorIntervalMs: HOUR_MS, requestTimeoutMs, routeCache: true, recursiveLookups: true },
      );
      const store = new KvStore({ ring: chord, transport, clock: systemClock }, { replicas: 3, requestTimeoutMs, repairIntervalMs: HOUR_MS });
      server.serve(chord.self, composeHandler(chord, store), counters.settled);
      peers.push(chord);
    }
    peers.sort((a, b) => compareIds(a.self.id, b.self.id));
    const refs = peers.map((p) => p.self);
    peers.forEach((p, k) => p.bootstrap(oracleState(refs, k, opts.successors)));
  } catch (err) {
    await Promise.all([shared.close(), client.close(), ...servers.map((s) => s.close())]);
    throw err;
  }
  return {
    addrs: peers.map((p) => p.self.addr),
    request: (addr, req) => client.request(addr, req),
    close: async () => {
      for (const p of peers) p.stop();
      await Promise.all([client.close(), shared.close()]);
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
