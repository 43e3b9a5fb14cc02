/**
 * A worker thread hosting many peers. Each peer is a full PeerNode with its own TCP listener; the
 * worker only starts, stops and reports on them when the supervisor (src/host) asks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, RingwireError } from '../src/errors/errors.js';
import { jsonLogger, parseLogLevel } from '../src/log/logger.js';
import { PeerNode } from '../src/node/peer-node.js';
import { CHORD_DEFAULTS } from '../src/chord/peer.js';
import { ConnectionPool } from '../src/wire/index.js';
import { idToHex } from '../src/ring/index.js';
import type { PeerSnapshot, WorkerCommand, WorkerReply } from '../src/host/worker-protocol.js';

interface WorkerInit {
  index: number;
  logLevel: string;
  /** Cap on the connections of the pool this worker's peers share (see src/host/fd-budget.ts). */
  poolMaxConnections: number;
}

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('peer-worker must run in a worker thread');

const log = jsonLogger((line) => process.stderr.write(line), parseLogLevel(init.logLevel) ?? 'warn', { worker: init.index });
const nodes = new Map<string, PeerNode>();
// One pool for all peers of this worker: a connection per target address, not per (peer, target).
const pool = new ConnectionPool(
  { log: log.child({ component: 'pool' }) },
  { self: null, requestTimeoutMs: CHORD_DEFAULTS.requestTimeoutMs, maxConnections: init.poolMaxConnections },
);

function snapshot(node: PeerNode): PeerSnapshot {
  const { chord, store } = node;
  return {
    id: idToHex(node.self.id),
    addr: node.addr,
    worker: init.index,
    predecessor: chord.predecessor ? idToHex(chord.predecessor.id) : null,
    successors: chord.successors.map((s) => idToHex(s.id)),
    fingers: chord.fingers.map((f) => (f ? idToHex(f.id) : null)),
    keys: store.ownedKeyCount(),
    stored: store.recordCount(),
  };
}

async function run(cmd: WorkerCommand): Promise<WorkerReply> {
  switch (cmd.op) {
    case 'start': {
      const node = await PeerNode.start({ log, sharedPool: pool }, cmd.spec);
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
      const peers = [...nodes.values()].map(snapshot);
      if (!cmd.withKeys) return { seq: cmd.seq, ok: true, peers };
      const keys: Record<string, string[]> = {};
      for (const node of nodes.values()) keys[node.addr] = node.store.liveKeyIds().map(idToHex);
      return { seq: cmd.seq, ok: true, peers, keys };
    }
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
