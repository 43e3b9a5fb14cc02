/**
 * `chord bench` as a library: discover the ring, preload the keys a get must find, run the closed
 * loops (in this thread, or spread over piscina worker threads for large concurrency), merge and
 * summarize. Live progress goes to an optional callback once a second.
 */
import { Piscina } from 'piscina';
import { RingClient } from '../net/client.js';
import { discoverRing, type RingMap } from './ring-map.js';
import { runLoadTask, type LoadTask } from './load-task.js';
import { mergeStats, newStats, summarize, type BenchReport, type LoadStats } from './stats.js';
import { errorCodeOf, makeKeySet, makeOperation, type BenchOp } from './workload.js';

export const BENCH_DEFAULTS = Object.freeze({
  concurrency: 1,
  durationS: 10,
  keys: 1000,
  valueSize: 100,
  warmupS: 1, // connections to every entry peer open and the JIT settles before measuring
  // Client worker threads by default: none. Measured on 2 cores (16 peers, get, concurrency 64):
  // in-thread 9,700 ops/s, 1 piscina thread 6,400, 2 threads 6,300 - the client is not the
  // bottleneck there, and extra threads only take CPU from the peers. --threads T overrides.
  threads: 0,
  preloadConcurrency: 32,
  preloadAttempts: 3, // a put that times out on a loaded host is retried before the run gives up
  requestTimeoutMs: 5000,
  seed: 1,
});

export interface BenchInit {
  via: string[];
  op: BenchOp;
  concurrency?: number;
  durationS?: number;
  keys?: number;
  valueSize?: number;
  warmupS?: number;
  /** Client worker threads (piscina); 0 runs the loops in this thread. @default BENCH_DEFAULTS.threads */
  threads?: number;
  seed?: number;
  requestTimeoutMs?: number;
  /** false: entry peers route every request (no route cache). @default true */
  routeCache?: boolean;
}

export interface Progress {
  elapsedS: number;
  ops: number;
  errors: number;
}


/** Puts every key of the set once, so gets have something to find. Fails on the first error. */
async function preload(client: RingClient, ring: RingMap, init: Required<Omit<BenchInit, 'threads'>>): Promise<void> {
  const set = makeKeySet(init.keys, init.valueSize);
  const put = makeOperation(client, ring, set, 'put');
  let next = 0;
  const entries = ring.peers.map((p) => p.addr);
  const loop = async (): Promise<void> => {
    while (next < init.keys) {
      const k = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          await put(entries[(k + attempt - 1) % entries.length]!, k, Math.random);
          break;
        } catch (err) {
          if (attempt < BENCH_DEFAULTS.preloadAttempts) continue;
          throw new Error(`preloading key bench:${k} failed ${attempt} times (${errorCodeOf(err)}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(init.keys, BENCH_DEFAULTS.preloadConcurrency) }, loop));
}

/** Runs one benchmark and returns its report. */
export async function runBench(init: BenchInit, onProgress?: (p: Progress) => void): Promise<BenchReport> {
  const opts = {
    concurrency: init.concurrency ?? BENCH_DEFAULTS.concurrency,
    durationS: init.durationS ?? BENCH_DEFAULTS.durationS,
    keys: init.keys ?? BENCH_DEFAULTS.keys,
    valueSize: init.valueSize ?? BENCH_DEFAULTS.valueSize,
    warmupS: init.warmupS ?? BENCH_DEFAULTS.warmupS,
    seed: init.seed ?? BENCH_DEFAULTS.seed,
    requestTimeoutMs: init.requestTimeoutMs ?? BENCH_DEFAULTS.requestTimeoutMs,
    via: init.via,
    op: init.op,
    routeCache: init.routeCache ?? true,
  };
  const threads = Math.min(init.threads ?? BENCH_DEFAULTS.threads, opts.concurrency);
  const client = new RingClient({ requestTimeoutMs: opts.requestTimeoutMs });
  let ring: RingMap;
  try {
    ring = await discoverRing(client, opts.via);
    if (opts.op === 'get' || opts.op === 'mixed') await preload(client, ring, opts);
  } finally {
    await client.close();
  }

  const progressBuf = new SharedArrayBuffer(8);
  const progress = new Int32Array(progressBuf);
  const base: Omit<LoadTask, 'concurrency' | 'seed'> = {
    ring,
    op: opts.op,
    warmupMs: opts.warmupS * 1000,
    durationMs: opts.durationS * 1000,
    keys: opts.keys,
    valueSize: opts.valueSize,
    requestTimeoutMs: opts.requestTimeoutMs,
    routeCache: opts.routeCache,
    progress: progressBuf,
  };
  const t0 = performance.now();
  const ticker = onProgress
    ? setInterval(() => onProgress({ elapsedS: (performance.now() - t0) / 1000, ops: Atomics.load(progress, 0), errors: Atomics.load(progress, 1) }), 1000)
    : undefined;
  const stats: LoadStats = newStats();
  try {
    if (threads === 0) {
      mergeStats(stats, await runLoadTask({ ...base, concurrency: opts.concurrency, seed: opts.seed }));
    } else {
      const pool = new Piscina({ filename: new URL('./worker.js', import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
      try {
        const shares = Array.from({ length: threads }, (_, i) => Math.floor(opts.concurrency / threads) + (i < opts.concurrency % threads ? 1 : 0));
        const parts = (await Promise.all(
          shares.filter((c) => c > 0).map((c, i) => pool.run({ ...base, concurrency: c, seed: opts.seed * 1000 + i }) as Promise<LoadStats>),
        ));
        for (const p of parts) mergeStats(stats, p);
      } finally {
        await pool.destroy();
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return summarize(stats, { op: opts.op, peers: ring.peers.length, concurrency: opts.concurrency, durationS: opts.durationS });
}
