/**
 * The closed-loop driver: `concurrency` loops, each issuing its next operation as soon as the
 * previous one finished, entering the ring at a random peer with a random key. Operations that
 * complete during the warm-up are not recorded (connections open and the JIT settles there);
 * the measured window is [warm-up end, deadline].
 */
import { errorCodeOf, type Operation } from './workload.js';
import { newStats, type LoadStats } from './stats.js';

export interface ClosedLoopInit {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Entry addresses (random one per operation). */
  entries: readonly string[];
  keys: number;
  random: () => number;
  /** Live progress: [0] completed measured ops, [1] errors (Atomics, shared across threads). */
  progress?: Int32Array;
}

/** Runs the loops until the deadline and returns what the measured window recorded. */
export async function runClosedLoop(op: Operation, init: ClosedLoopInit): Promise<LoadStats> {
  const stats = newStats();
  const { entries, keys, random, progress } = init;
  const start = performance.now();
  const measureFrom = start + init.warmupMs;
  const deadline = measureFrom + init.durationMs;
  const loop = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= deadline) return;
      const entry = entries[Math.floor(random() * entries.length)]!;
      const k = Math.floor(random() * keys);
      const h0 = process.hrtime.bigint();
      try {
        const hops = await op(entry, k, random);
        const ns = Number(process.hrtime.bigint() - h0);
        if (t0 < measureFrom || performance.now() > deadline) continue;
        stats.latencyNs.record(Math.max(1, ns));
        stats.hopsPlusOne.record(hops + 1);
        stats.hopSum += hops;
        stats.ops++;
        if (progress) Atomics.add(progress, 0, 1);
      } catch (err) {
        if (t0 < measureFrom || performance.now() > deadline) continue;
        const code = errorCodeOf(err);
        stats.errors[code] = (stats.errors[code] ?? 0) + 1;
        if (progress) Atomics.add(progress, 1, 1);
      }
    }
  };
  await Promise.all(Array.from({ length: init.concurrency }, loop));
  return stats;
}
