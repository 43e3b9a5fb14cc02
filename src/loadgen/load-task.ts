/**
 * One thread's share of a `chord bench` run: its own client (own connections), its own key set,
 * the closed loop, and the figures back. The same function runs in the calling thread or in a
 * piscina worker (worker.ts), so both paths measure the same code.
 */
import { RingClient } from '../net/client.js';
import { runClosedLoop } from './closed-loop.js';
import type { RingMap } from './ring-map.js';
import type { LoadStats } from './stats.js';
import { makeKeySet, makeOperation, type BenchOp } from './workload.js';
import { seededRandom } from '../sim/random.js';

/** Plain data: crosses to a worker by structured clone (the progress buffer is shared). */
export interface LoadTask {
  ring: RingMap;
  op: BenchOp;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  keys: number;
  valueSize: number;
  seed: number;
  requestTimeoutMs: number;
  /** false: requests carry noRouteCache, so entry peers route every one. */
  routeCache: boolean;
  progress?: SharedArrayBuffer;
}

export async function runLoadTask(task: LoadTask): Promise<LoadStats> {
  const client = new RingClient({ requestTimeoutMs: task.requestTimeoutMs });
  try {
    const set = makeKeySet(task.keys, task.valueSize);
    const op = makeOperation(client, task.ring, set, task.op, task.routeCache);
    return await runClosedLoop(op, {
      concurrency: task.concurrency,
      warmupMs: task.warmupMs,
      durationMs: task.durationMs,
      entries: task.ring.peers.map((p) => p.addr),
      keys: task.keys,
      random: seededRandom(task.seed),
      ...(task.progress ? { progress: new Int32Array(task.progress) } : {}),
    });
  } finally {
    await client.close();
  }
}
