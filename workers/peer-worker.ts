/**
 * A worker thread hosting many peers. Each peer is a full PeerNode with its own TCP listener; the
 * worker only starts, stops and reports on them when the supervisor (src/host) asks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, RingwireError } from '../src/errors/errors.js';
import { parseLogLevel } from '../src/log/logger.js';
import { pinoLogger } from '../src/log/pino-logger.js';
import { PeerNode } from '../src/node/peer-node.js';
import { CHORD_DEFAULTS } from '../src/chord/peer.js';
import type { PeerRef } from '../src/protocol/messages.js';
import { idToHex } from '../src/ring/index.js';
import { ClusterSecret, ConnectionPool, type TlsConfig } from '../src/wire/index.js';
import type { PeerSnapshot, WorkerCommand, WorkerReply } from '../src/host/worker-protocol.js';
import type { PoolMetricsSample } from '../src/metrics/peer-metrics.js';

interface WorkerInit {
  index: number;
  logLevel: string;
  /** Human-readable log lines: the main thread's stderr is a terminal. */
  pretty?: boolean;
  /** Cap on the connections of the pool this worker's peers share (see src/host/fd-budget.ts). */
  poolMaxConnections: number;
  /** The cluster secret's bytes, when the cluster has one. */
  secret?: Uint8Array;
  /** TLS PEM bytes, when the cluster uses TLS. */
  tls?: TlsConfig;
}

const init = workerData as WorkerInit;
const secret = init.secret !== undefined ? new ClusterSecret(init.secret) : undefined;
const port = parentPort;
if (!port) throw new Error('peer-worker must run in a worker thread');

const log = pinoLogger({ level: parseLogLevel(init.logLevel) ?? 'warn', pretty: init.pretty === true, bound: { worker: init.index } });
const nodes = new Map<string, PeerNode>();
// One pool for all peers of this worker: a connection per target address, not per (peer, target).
const pool = new ConnectionPool(
  { log: log.child({ component: 'pool' }) },
  {
    self: null,
    requestTimeoutMs: CHORD_DEFAULTS.requestTimeoutMs,
    maxConnections: init.poolMaxConnections,
    ...(secret ? { secret } : {}),
    ...(init.tls ? { tls: init.tls } : {}),
  },
);

/** Fingers as hex, each run of equal entries (a few dozen of the 160) encoded once. */
function fingersHex(fingers: ReadonlyArray<PeerRef | null>): Array<string | null> {
  let last: PeerRef | null = null;
  let hex: string | null = null;
  return fingers.map((f) => {
    if (f !== last) hex = f ? idToHex(f.id) : null;
    last = f;
    return hex;
  });
}

function snapshot(node: PeerNode, withFingers: boolean): PeerSnapshot {
  const { chord, store } = node;
  return {
    id: idToHex(node.self.id),
    addr: node.addr,
    worker: init.index,
    predecessor: chord.predecessor ? idToHex(chord.predecessor.id) : null,
    successors: chord.successors.map((s) => idToHex(s.id)),
    fingers: withFingers ? fingersHex(chord.fingers) : [],
    stabilizeRounds: chord.stabilizeRounds,
    keys: store.ownedKeyCount(),
    stored: store.recordCount(),
  };
}

function poolMetrics(): PoolMetricsSample {
  const s = pool.stats();
  return { worker: init.index, connectionsOut: s.open, reconnects: s.reconnects };
}

async function run(cmd: WorkerCommand): Promise<WorkerReply> {
  switch (cmd.op) {
    case 'start': {
      const node = await PeerNode.start({ log, sharedPool: pool }, { ...cmd.spec, ...(secret ? { secret } : {}), ...(init.tls ? { tls: init.tls } : {}) });
      nodes.set(node.addr, node);
      return { seq: cmd.seq, ok: true, peer: { id: idToHex(node.self.id), addr: node.addr } };
    }
    case 'leave':
    case 'crash': {
      const node = nodes.get(cmd.addr);
      if (!node) return { seq: cmd.seq, ok: false, error: `no peer at ${cmd.addr} in worker ${init.index}`, code: 'NOT_FOUND' };
      nodes.delete(cmd.addr);
      if (cmd.op === 'leave') await node.leave();
      else node.crash();
      return { seq: cmd.seq, ok: true };
    }
    case 'snapshot': {
      const only = cmd.addr === undefined ? undefined : nodes.get(cmd.addr);
      if (cmd.addr !== undefined) return { seq: cmd.seq, ok: true, peers: only ? [snapshot(only, cmd.withFingers !== false)] : [] };
      const peers = [...nodes.values()].map((n) => snapshot(n, cmd.withFingers !== false));
      if (!cmd.withKeys) return { seq: cmd.seq, ok: true, peers };
      const keys: Record<string, string[]> = {};
      for (const node of nodes.values()) keys[node.addr] = node.store.liveKeyIds().map(idToHex);
      return { seq: cmd.seq, ok: true, peers, keys };
    }
    case 'metrics':
      // Plain numbers copied out of each peer's counters: cheap, and nothing to aggregate here.
      return { seq: cmd.seq, ok: true, metrics: [...nodes.values()].map((n) => n.metrics()), pool: poolMetrics() };
    case 'shutdown': {
      const all = [...nodes.values()];
      nodes.clear();
      await Promise.all(all.map((n) => n.leave()));
      await pool.close();
      return { seq: cmd.seq, ok: true };
    }
  }
}

port.on('message', (cmd: WorkerCommand) => {
  run(cmd).then(
    (reply) => port.postMessage(reply),
    (err: unknown) => {
      log.warn('command failed', { op: cmd.op, err: describeError(err) });
      port.postMessage({ seq: cmd.seq, ok: false, error: describeError(err), code: err instanceof RingwireError ? err.code : undefined } satisfies WorkerReply);
    },
  );
});
