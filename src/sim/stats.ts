/**
 * Summary statistics for simulated measurements: nearest-rank percentiles and means over plain
 * number arrays. Pure, so the figures and the CLI report the same numbers the same way.
 */

/** Mean, min, max and the 1st, 50th and 99th percentiles of a sample. */
export interface Summary {
  count: number;
  mean: number;
  min: number;
  p1: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile q (0..100) of an ascending array; 0 for an empty one. */
export function percentile(sortedAsc: readonly number[], q: number): number {
  if (sortedAsc.length === 0) return 0;
  const rank = Math.ceil((q / 100) * sortedAsc.length);
  return sortedAsc[Math.min(sortedAsc.length - 1, Math.max(0, rank - 1))]!;
}

/** The summary of `values` (not modified). Means are rounded to 4 decimals for stable output. */
export function summarize(values: readonly number[]): Summary {
  const s = Float64Array.from(values).sort();
  const arr = Array.from(s);
  let sum = 0;
  for (const v of arr) sum += v;
  return {
    count: arr.length,
    mean: arr.length ? round4(sum / arr.length) : 0,
    min: arr[0] ?? 0,
    p1: percentile(arr, 1),
    p50: percentile(arr, 50),
    p99: percentile(arr, 99),
    max: arr[arr.length - 1] ?? 0,
  };
}

/** Rounds to 4 decimals (reports stay readable and identical across runs). */
export function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
