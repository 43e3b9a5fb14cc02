/**
 * The piscina worker of `chord bench`: runs one LoadTask and returns its figures (perf_hooks
 * histograms clone across threads).
 */
import { runLoadTask, type LoadTask } from './load-task.js';
import type { LoadStats } from './stats.js';

export default function run(task: LoadTask): Promise<LoadStats> {
  return runLoadTask(task);
}
