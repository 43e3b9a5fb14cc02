/**
 * The wire baseline: N bare relays (relay.ts) over W worker threads, the same layout as a host
 * cluster, and the same closed-loop load generator as `chord bench` in this thread. A request
 * enters at a random relay and is forwarded along a chain whose length matches the Chord run's
 * message count, so the ratio of the two throughputs is what Chord and protobuf cost on top of
 * the wire.
 */
import { Worker, type Worker as WorkerT } from 'node:worker_threads';
import { runClosedLoop } from '../../src/loadgen/closed-loop.js';
import { summarize, type BenchReport } from '../../src/loadgen/stats.js';
import { seededRandom } from '../../src/sim/random.js';
import { CheckFailed } from '../../src/loadgen/workload.js';
import { FrameLink, KIND_ANSWER } from './relay.js';

const HOST = '127.0.0.1';

export interface BaselineCluster {
  addrs: Array<{ host: string; port: number }>;
  close(): Promise<void>;
}

function once<T>(w: WorkerT, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: { type: string }): void => {
      if (m.type === type) {
        w.off('message', onMsg);
        resolve(m as T);
      }
    };
    w.on('message', onMsg);
    w.once('error', reject);
  });
}

/** 0..n-1 in random order (Fisher-Yates). */
function shuffled(n: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Starts `n` relays spread over `workers` threads at random places in the chain, like a host's peers on the ring. */
export async function startBaseline(n: number, workers: number): Promise<BaselineCluster> {
  const counts = Array.from({ length: workers }, (_, w) => Math.floor(n / workers) + (w < n % workers ? 1 : 0));
  const threads = counts.map((count) => new Worker(new URL('./relay-worker.js', import.meta.url), { workerData: { count, host: HOST } }));
  const listening = await Promise.all(threads.map((w) => once<{ ports: number[] }>(w, 'listening')));
  const byThread = listening.flatMap((l) => l.ports.map((port) => ({ host: HOST, port })));
  // A relay's place in the chain is independent of its thread, as a peer's hashed id is of its
  // worker: relay i of thread order sits at position pos[i]. (Blocks of consecutive positions per
  // thread would keep most forwards inside one thread; alternating runs showed no measurable
  // difference either way, so this is for faithfulness, not speed.)
  const pos = shuffled(byThread.length);
  const addrs = new Array<{ host: string; port: number }>(byThread.length);
  byThread.forEach((a, i) => {
    addrs[pos[i]!] = a;
  });
  let first = 0;
  await Promise.all(
    threads.map((w, i) => {
      const ready = once(w, 'ready');
      w.postMessage({ type: 'peers', peers: addrs, indices: pos.slice(first, first + counts[i]!) });
      first += counts[i]!;
      return ready;
    }),
  );
  return {
    addrs,
    async close() {
      await Promise.all(
        threads.map(async (w) => {
          // A relay that does not close in time must not hang the benchmark: terminate regardless.
          const closed = once(w, 'closed');
          w.postMessage({ type: 'close' });
          await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
          await w.terminate();
        }),
      );
    },
  };
}

export interface BaselineRunInit {
  /** Mean forwards after the entry relay per request (fractional: floor or ceil at random to match). */
  forwards: number;
  concurrency: number;
  warmupS: number;
  durationS: number;
  op?: string;
  seed?: number;
}

/** Runs the closed loop against the relays; the report counts forwards as hops. */
export async function runBaseline(cluster: BaselineCluster, init: BaselineRunInit): Promise<BenchReport> {
  const links = cluster.addrs.map((a) => new FrameLink(a.host, a.port));
  try {
    await Promise.all(links.map((l) => l.ready));
    const whole = Math.floor(init.forwards);
    const frac = init.forwards - whole;
    const entries = links.map((_, i) => String(i));
    const op = (entry: string, _k: number, random: () => number): Promise<number> => {
      const forwards = whole + (random() < frac ? 1 : 0);
      return new Promise((resolve, reject) =>
        links[Number(entry)]!.send(forwards, (answer) => {
          if (answer && answer[0] === KIND_ANSWER) resolve(forwards);
          else reject(new CheckFailed('WIRE_FAILED', 'a relay connection on the chain failed'));
        }),
      );
    };
    const stats = await runClosedLoop(op, {
      concurrency: init.concurrency,
      warmupMs: init.warmupS * 1000,
      durationMs: init.durationS * 1000,
      entries,
      keys: 1,
      random: seededRandom(init.seed ?? 1),
    });
    return summarize(stats, { op: init.op ?? 'wire', peers: cluster.addrs.length, concurrency: init.concurrency, durationS: init.durationS });
  } finally {
    for (const l of links) l.close();
  }
}
